package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	prefixes := map[Layer]string{LayerNodes: "NODE", LayerControlPlane: "CP", LayerNetwork: "NET",
		LayerStorage: "STOR", LayerWorkloads: "WORK", LayerCapacity: "CAP"}
	checks := Checks()
	if len(checks) < 20 {
		t.Fatalf("%d checks, want at least 20", len(checks))
	}
	seen := map[string]bool{}
	// NET010 reads the kubeconfig and the API server's certificate, no kind.
	readsNoKind := map[string]bool{"NET010": true}
	lastLayer := -1
	id := regexp.MustCompile(`^[A-Z]+\d{3}$`)
	for _, c := range checks {
		switch {
		case seen[c.ID]:
			t.Errorf("%s: duplicate ID", c.ID)
		case !id.MatchString(c.ID) || !strings.HasPrefix(c.ID, prefixes[c.Layer]):
			t.Errorf("%s: the ID must be %sNNN for layer %s", c.ID, prefixes[c.Layer], c.Layer)
		case slices.Index(Layers, c.Layer) < lastLayer:
			t.Errorf("%s: layer %s out of order", c.ID, c.Layer)
		case c.Title == "" || c.Doc == "" || c.Run == nil || (len(c.Needs) == 0) != readsNoKind[c.ID]:
			t.Errorf("%s: a check needs a title, docs, a Run function and the kinds it reads", c.ID)
		case c.Severity != SeverityError && c.Severity != SeverityWarning:
			t.Errorf("%s: severity %q", c.ID, c.Severity)
		}
		seen[c.ID] = true
		lastLayer = slices.Index(Layers, c.Layer)
	}
}

func TestHealthySnapshotPasses(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	r := Run(healthy(m), m, Checks())
	for _, res := range r.Results {
		if res.Status != StatusPass {
			t.Errorf("%s %s: %s", res.ID, res.Status, res.Message)
		}
	}
	n := len(Checks())
	if want := (v1alpha1.VerifySummary{Checks: n, Passed: n, APIRequests: int64(verifyKindCount)}); r.Summary != want {
		t.Errorf("summary %+v, want %+v", r.Summary, want)
	}
	a, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Run(healthy(m), m, Checks()))
	if err != nil || string(a) != string(b) {
		t.Errorf("two runs over the same snapshot differ (%v)", err)
	}
}

// expect is a check's expected status and substrings of its messages.
type expect struct {
	status Status
	msgs   []string
}

func TestBreaks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		brk  func(*Snapshot, *topology.Model)
		want map[string]expect // every other check must pass
	}{
		{"node missing", func(s *Snapshot, _ *topology.Model) { s.Nodes = slices.DeleteFunc(s.Nodes, named("sto2-w-1")) }, map[string]expect{
			"NODE001": {StatusFail, []string{"node sto2-w-1 (region sto2, roles worker) is not in the cluster: join it"}},
			"WORK004": {StatusFail, []string{"StatefulSet/shop/orders-db runs no pod in sto2 (sto1: 1, sto2: 0)"}},
			"NET011":  {StatusFail, []string{"apps.demo.example.eu (ingress) also answers 10.20.0.21 [its node is down: 10.20.0.21 (sto2-w-1, sto2, not in the cluster)]"}},
		}},
		{"a NodePort Service", func(s *Snapshot, _ *topology.Model) {
			svc := service(s, "shop", "storefront")
			svc.Spec.Type = corev1.ServiceTypeNodePort
			svc.Spec.Ports[0].NodePort = 30080
		}, map[string]expect{
			"NET020": {StatusFail, []string{"NodePort 8080 exposes node port tcp/30080 on every node, which the firewall allowlist does not open: use a ClusterIP Service behind the ingress (HTTP and HTTPS on the ingress nodes)"}},
		}},
		{"a LoadBalancer on a port the allowlist does not open, with node ports", func(s *Snapshot, _ *topology.Model) {
			svc := service(s, "ingress", "ingress")
			svc.Spec.AllocateLoadBalancerNodePorts = nil
			svc.Spec.Ports[0].NodePort = 31080
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
		}, map[string]expect{
			"NET020": {StatusFail, []string{
				"LoadBalancer http exposes node port tcp/31080 on every node, which the firewall allowlist does not open: use a ClusterIP Service behind the ingress (HTTP and HTTPS on the ingress nodes), or set allocateLoadBalancerNodePorts: false with a balancer that reaches the pods directly",
				"LoadBalancer dns exposes udp/53, which the firewall allowlist does not open: serve it through the ingress host on 80 or 443",
			}},
		}},
		{"zone label of another region", func(s *Snapshot, _ *topology.Model) { node(s, "sto1-w-0").Labels[topology.LabelZone] = "sto2" }, map[string]expect{
			"NODE002": {StatusFail, []string{`node sto1-w-0 has topology.kubernetes.io/zone=sto2, want sto1: run "kubectl label node sto1-w-0 topology.kubernetes.io/zone=sto1 --overwrite"`}},
		}},
		{"region label missing", func(s *Snapshot, _ *topology.Model) { delete(node(s, "osl1-cp-0").Labels, topology.LabelRegion) }, map[string]expect{
			"NODE003": {StatusFail, []string{"node osl1-cp-0 has no topology.kubernetes.io/region label (want demo-eu)"}},
		}},
		{"storage label on a worker", func(s *Snapshot, _ *topology.Model) { node(s, "sto1-w-0").Labels[topology.LabelStorage] = "true" }, map[string]expect{
			"NODE004": {StatusFail, []string{`node sto1-w-0 carries stretch.dev/storage=true but the topology does not give the node that role: run "kubectl label node sto1-w-0 stretch.dev/storage-"`}},
		}},
		{"arbiter taint missing, storage taint on a worker", func(s *Snapshot, _ *topology.Model) {
			n := node(s, "osl1-cp-0")
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == topology.TaintArbiter })
			node(s, "sto2-w-0").Spec.Taints = []corev1.Taint{{Key: topology.TaintStorage, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
		}, map[string]expect{
			"NODE005": {StatusFail, []string{
				`node osl1-cp-0 lacks the taint stretch.dev/arbiter=true:NoSchedule: run "kubectl taint node osl1-cp-0 stretch.dev/arbiter=true:NoSchedule --overwrite"`,
				`node sto2-w-0 carries the taint stretch.dev/storage=true:NoSchedule, which the topology does not give it`,
			}},
		}},
		{"control-plane taint missing on a dedicated control plane, and on a worker", func(s *Snapshot, _ *topology.Model) {
			n := node(s, "sto1-cp-0")
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == topology.TaintControlPlane })
			w := node(s, "sto2-w-1")
			w.Spec.Taints = append(w.Spec.Taints, corev1.Taint{Key: topology.TaintControlPlane, Effect: corev1.TaintEffectNoSchedule})
		}, map[string]expect{
			"NODE005": {StatusFail, []string{
				`node sto1-cp-0 lacks the taint node-role.kubernetes.io/control-plane:NoSchedule: run "kubectl taint node sto1-cp-0 node-role.kubernetes.io/control-plane:NoSchedule --overwrite" (kubeadm sets it on control planes that are neither workers nor storage nodes)`,
				`node sto2-w-1 carries the taint node-role.kubernetes.io/control-plane:NoSchedule, which the topology does not give it`,
			}},
		}},
		{"node outside the topology without a zone", func(s *Snapshot, _ *topology.Model) {
			s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "extra-0", Annotations: map[string]string{
				annotationWireguardKey: fakeKey("extra-0"), annotationWireguardAddr: "10.233.99.1"}}})
		}, map[string]expect{
			"NODE006": {StatusWarn, []string{"node extra-0 is not in the topology and has no topology.kubernetes.io/zone label"}},
		}},
		{"etcd pod down", func(s *Snapshot, m *topology.Model) {
			for _, n := range m.Nodes {
				if n.Etcd {
					p := runningPod("kube-system", "etcd-"+n.Name, n.Name, map[string]string{labelComponent: "etcd"}, nil)
					if n.Region == "sto2" {
						p.Status.Phase = corev1.PodFailed
					}
					s.Pods = append(s.Pods, p)
				}
			}
		}, map[string]expect{
			"CP002": {StatusFail, []string{"losing region sto1 would leave etcd 1 of 3 members, short of the majority of 2; down now: sto2-cp-0"}},
		}},
		{"no API server in the arbiter", func(s *Snapshot, _ *topology.Model) {
			s.Pods = slices.DeleteFunc(s.Pods, podNamed("kube-apiserver-osl1-cp-0"))
		}, map[string]expect{
			"CP003": {StatusFail, []string{"no kube-apiserver pod is Running on a Ready node of region osl1"}},
		}},
		{"control-plane label missing", func(s *Snapshot, _ *topology.Model) { delete(node(s, "sto2-cp-0").Labels, labelControlPlane) }, map[string]expect{
			"CP001": {StatusFail, []string{"node sto2-cp-0 is a control plane in the topology but has no node-role.kubernetes.io/control-plane label",
				"region sto2 has no Ready control-plane node (topology: sto2-cp-0)"}},
		}},
		{"WireGuard off", func(s *Snapshot, _ *topology.Model) { s.FelixConfigurations[0].Spec.WireguardEnabled = new(false) }, map[string]expect{
			"NET001": {StatusFail, []string{"FelixConfiguration default does not set wireguardEnabled: true"}},
		}},
		{"no FelixConfiguration default", func(s *Snapshot, _ *topology.Model) { s.FelixConfigurations = nil }, map[string]expect{
			"NET001": {StatusFail, []string{"FelixConfiguration default does not exist, so WireGuard is off: apply network/calico/felixconfiguration.yaml"}},
			"NET002": {StatusSkip, []string{"no FelixConfiguration default (see NET001)"}},
		}},
		{"MTU too large", func(s *Snapshot, _ *topology.Model) { s.FelixConfigurations[0].Spec.WireguardMTU = new(1450) }, map[string]expect{
			"NET002": {StatusFail, []string{"FelixConfiguration default sets wireguardMTU 1450, above 1440 (underlay 1500 - 60)"}},
		}},
		{"MTU unset", func(s *Snapshot, _ *topology.Model) { s.FelixConfigurations[0].Spec.WireguardMTU = nil }, map[string]expect{
			"NET002": {StatusFail, []string{"does not set wireguardMTU, so Calico guesses it from the local interface: set it to 1440"}},
		}},
		{"per-node override", func(s *Snapshot, _ *topology.Model) {
			s.FelixConfigurations = append(s.FelixConfigurations, calico.FelixConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "node.sto1-w-0"},
				Spec: calico.FelixConfigurationSpec{WireguardEnabled: new(false)}})
		}, map[string]expect{
			"NET003": {StatusFail, []string{"FelixConfiguration node.sto1-w-0 sets wireguardEnabled: false, which turns WireGuard off on node sto1-w-0"}},
		}},
		{"invalid and duplicate keys", func(s *Snapshot, _ *topology.Model) {
			node(s, "sto1-w-1").Annotations[annotationWireguardKey] = "bm90IGEga2V5"
			node(s, "sto2-w-0").Annotations[annotationWireguardKey] = fakeKey("sto1-w-0")
		}, map[string]expect{
			"NET004": {StatusFail, []string{`node sto1-w-1 has an invalid projectcalico.org/WireguardPublicKey "bm90IGEga2V5" (want 44 characters of base64, 32 bytes)`}},
			"NET005": {StatusFail, []string{"nodes sto1-w-0, sto2-w-0 publish the same WireGuard public key"}},
		}},
		{"tunnel address missing", func(s *Snapshot, _ *topology.Model) { delete(node(s, "sto2-s-0").Annotations, annotationWireguardAddr) }, map[string]expect{
			"NET006": {StatusFail, []string{"node sto2-s-0 has no projectcalico.org/IPv4WireguardInterfaceAddr annotation: pod traffic to it breaks"}},
		}},
		{"Calico on the wrong interface", func(s *Snapshot, _ *topology.Model) {
			node(s, "sto1-cp-0").Annotations[annotationIPv4Address] = "203.0.113.10/32"
		}, map[string]expect{
			"NET007": {StatusFail, []string{"Calico uses 203.0.113.10 as the address of node sto1-cp-0, the topology says 10.10.0.10"}},
		}},
		{"calico-node environment", func(s *Snapshot, _ *topology.Model) {
			s.DaemonSets = append(s.DaemonSets, appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "calico-node", Namespace: "kube-system"},
				Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "calico-node",
					Env: []corev1.EnvVar{{Name: "FELIX_WIREGUARDENABLED", Value: "false"}, {Name: "FELIX_WIREGUARDMTU", Value: "1500"}}}}}}}})
		}, map[string]expect{
			"NET008": {StatusFail, []string{"sets FELIX_WIREGUARDENABLED=false, which beats FelixConfiguration", "sets FELIX_WIREGUARDMTU=1500, above 1440"}},
		}},
		{"not a stretch cluster", func(s *Snapshot, _ *topology.Model) {
			s.CephClusters[0].Spec.Mon = rook.MonSpec{Count: 3}
		}, map[string]expect{
			"STOR001": {StatusFail, []string{"CephCluster rook-ceph/rook-ceph runs 3 mons, want 5", "is not in stretch mode (no spec.mon.stretchCluster.zones)"}},
		}},
		{"wrong arbiter and zones", func(s *Snapshot, _ *topology.Model) {
			s.CephClusters[0].Spec.Mon.StretchCluster.Zones = []rook.MonZoneSpec{{Name: "a", Arbiter: true}, {Name: "sto1"}, {Name: "sto2"}}
		}, map[string]expect{
			"STOR001": {StatusFail, []string{"stretches over zones a, sto1, sto2, the topology's regions are sto1, sto2, osl1", "has arbiter zone(s) [a], want exactly osl1"}},
		}},
		{"OSD in the arbiter", func(s *Snapshot, m *topology.Model) {
			s.Pods = append(s.Pods, runningPod(m.Storage.Namespace, "rook-ceph-osd-9", "osl1-cp-0",
				map[string]string{rook.LabelApp: rook.AppOSD, rook.LabelOSDID: "9", rook.LabelOSDZone: "osl1"}, nil))
		}, map[string]expect{
			"STOR003": {StatusFail, []string{"OSD 9 runs on node osl1-cp-0 in the arbiter region osl1"}},
		}},
		{"unbalanced OSDs", func(s *Snapshot, _ *topology.Model) { s.Pods = slices.DeleteFunc(s.Pods, podNamed("rook-ceph-osd-3")) }, map[string]expect{
			"STOR004": {StatusFail, []string{"the data regions run different numbers of OSDs (sto1: 2, sto2: 1)"}},
		}},
		{"erasure-coded pool", func(s *Snapshot, _ *topology.Model) {
			s.CephBlockPools[1].Spec.ErasureCoded = json.RawMessage(`{"dataChunks":2,"codingChunks":1}`)
		}, map[string]expect{
			"STOR005": {StatusFail, []string{"CephBlockPool replicapool is erasure coded"}},
		}},
		{"pool missing, .mgr missing", func(s *Snapshot, _ *topology.Model) { s.CephBlockPools = nil }, map[string]expect{
			"STOR006": {StatusFail, []string{"CephBlockPool rook-ceph/replicapool does not exist"}},
			"STOR007": {StatusFail, []string{"no CephBlockPool in rook-ceph has spec.name .mgr"}},
		}},
		{"pool not Ready", func(s *Snapshot, _ *topology.Model) {
			s.CephBlockPools[1].Status = json.RawMessage(`{"phase":"Failure"}`)
		}, map[string]expect{
			"STOR006": {StatusFail, []string{"CephBlockPool replicapool is not Ready (phase: Failure)"}},
		}},
		{"Ceph warns", func(s *Snapshot, _ *topology.Model) {
			s.CephClusters[0].Status = json.RawMessage(`{"phase":"Ready","ceph":{"health":"HEALTH_WARN","details":{"MON_CLOCK_SKEW":{"severity":"HEALTH_WARN","message":"clock skew detected on mon.e"}}}}`)
		}, map[string]expect{
			"STOR008": {StatusWarn, []string{"Ceph reports HEALTH_WARN (MON_CLOCK_SKEW: clock skew detected on mon.e)"}},
		}},
		{"degraded stretch mode", func(s *Snapshot, _ *topology.Model) {
			s.CephClusters[0].Status = json.RawMessage(`{"phase":"Ready","ceph":{"health":"HEALTH_WARN","details":{` +
				`"MON_DOWN":{"severity":"HEALTH_WARN","message":"2/5 mons down"},"DEGRADED_STRETCH_MODE":{"severity":"HEALTH_WARN","message":"We are missing stretch mode buckets"}}}}`)
		}, map[string]expect{
			"STOR008": {StatusFail, []string{"Ceph is in degraded stretch mode (DEGRADED_STRETCH_MODE: We are missing stretch mode buckets; MON_DOWN: 2/5 mons down)"}},
		}},
		{"cluster not Ready, no health", func(s *Snapshot, _ *topology.Model) {
			s.CephClusters[0].Status = json.RawMessage(`{"phase":"Progressing","message":"Configuring Ceph Mons"}`)
		}, map[string]expect{
			"STOR008": {StatusFail, []string{"reports no health (status.ceph.health): is the rook-ceph-operator running?"}},
			"STOR009": {StatusFail, []string{"CephCluster rook-ceph/rook-ceph is not Ready (phase Progressing: Configuring Ceph Mons)"}},
		}},
		{"StorageClass on another pool", func(s *Snapshot, _ *topology.Model) { s.StorageClasses[0].Parameters["pool"] = "other" }, map[string]expect{
			"STOR010": {StatusFail, []string{`StorageClass ceph-block uses pool "other", want replicapool`}},
		}},
		{"RBD CSI driver not registered", func(s *Snapshot, _ *topology.Model) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: "other.rbd.csi.ceph.com"}}}
		}, map[string]expect{
			"STOR011": {StatusFail, []string{"no CSIDriver rook-ceph.rbd.csi.ceph.com: Ceph CSI's RBD driver, the provisioner of StorageClass ceph-block, is not installed, " +
				"and every PersistentVolumeClaim on it stays Pending; the ceph-csi-drivers HelmRelease of the bundle's storage/rook/operator"}},
		}},
		{"RBD CSI driver not registered before Rook v1.20", func(s *Snapshot, m *topology.Model) {
			s.CSIDrivers = nil
			m.Storage.CSIDrivers = nil
		}, map[string]expect{
			"STOR011": {StatusFail, []string{"no CSIDriver rook-ceph.rbd.csi.ceph.com", "the Rook operator installs it (before Rook v1.20)"}},
		}},
		{"HPA below the minimum", func(s *Snapshot, _ *topology.Model) {
			s.HPAs = []autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop"},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "storefront"}}}}
		}, map[string]expect{
			"WORK001": {StatusFail, []string{"HorizontalPodAutoscaler shop/storefront scales Deployment/shop/storefront down to 1, below the topology's minReplicas 2"}},
		}},
		{"StatefulSet at one replica", func(s *Snapshot, _ *topology.Model) {
			s.StatefulSets[0].Spec.Replicas = new(int32(1))
		}, map[string]expect{
			"WORK001": {StatusFail, []string{"StatefulSet/shop/orders-db runs 1 replica, below the topology's minReplicas 2",
				"render does for the bundle's StatefulSets annotated stretch.dev/min-replicas"}},
		}},
		{"spread that blocks fail-over", func(s *Snapshot, _ *topology.Model) {
			s.Deployments[0].Spec.Template.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = nil
			s.StatefulSets[0].Spec.Template.Spec.TopologySpreadConstraints = nil
		}, map[string]expect{
			"WORK002": {StatusFail, []string{
				"the zone spread of Deployment/shop/storefront is DoNotSchedule without nodeTaintsPolicy: Honor",
				"StatefulSet/shop/orders-db has no topologySpreadConstraint on topology.kubernetes.io/zone",
			}},
		}},
		{"opted out", func(s *Snapshot, _ *topology.Model) {
			s.StatefulSets[0].Annotations = map[string]string{spread.AnnotationSkip: "true"}
			s.StatefulSets[0].Spec.Template.Spec.TopologySpreadConstraints = nil
			s.StatefulSets[0].Spec.Replicas = new(int32(1))
			s.PDBs = s.PDBs[1:]
		}, nil},
		{"no PodDisruptionBudget", func(s *Snapshot, _ *topology.Model) { s.PDBs = s.PDBs[:1] }, map[string]expect{
			"WORK003": {StatusWarn, []string{"no PodDisruptionBudget selects the pods of Deployment/shop/storefront", "kubectl stretch render adds storefront-stretch"}},
		}},
		{"pod in the arbiter", func(s *Snapshot, _ *topology.Model) {
			s.Pods = append(s.Pods, runningPod("shop", "debug", "osl1-cp-0", nil, nil),
				runningPod("shop", "node-exporter-osl1", "osl1-cp-0", nil, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "node-exporter"}))
		}, map[string]expect{
			"WORK005": {StatusFail, []string{"pod shop/debug runs on osl1-cp-0 in the arbiter region osl1"}},
		}},
		{"claim on a local class", func(s *Snapshot, _ *topology.Model) {
			class := "local-path"
			s.PVCs[0].Spec.StorageClassName = &class
		}, map[string]expect{
			"WORK006": {StatusWarn, []string{"PersistentVolumeClaim shop/data-orders-db-0 uses StorageClass local-path, not one of the topology's stretched classes"}},
		}},
		{"region too small", func(s *Snapshot, _ *topology.Model) {
			for _, n := range []string{"sto2-w-0", "sto2-w-1"} {
				node(s, n).Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("700m")
			}
		}, map[string]expect{
			"CAP001": {StatusFail, []string{"region sto2 alone cannot run the workloads: at full replicas they request 1500m CPU and 2560Mi memory, its schedulable nodes (sto2-w-0, sto2-w-1) have 1400m CPU and 64Gi memory left"}},
		}},
		{"DaemonSet requests count against the region", func(s *Snapshot, _ *topology.Model) {
			for _, n := range []string{"sto1-w-0", "sto1-w-1"} {
				p := runningPod("shop", "agent-"+n, n, nil, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent"})
				p.Spec.Containers = []corev1.Container{{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("7600m")}}}}
				s.Pods = append(s.Pods, p)
			}
		}, map[string]expect{
			"CAP001": {StatusFail, []string{"region sto1 alone cannot run the workloads", "have 800m CPU and 64Gi memory left"}},
			"CAP002": {StatusFail, []string{"a pod of StatefulSet/shop/orders-db requests 500m CPU and 1Gi memory, and no schedulable node of sto1 has that much left"}},
		}},
		{"a pod bigger than any node", func(s *Snapshot, _ *topology.Model) {
			for _, n := range []string{"sto1-w-0", "sto1-w-1", "sto2-w-0", "sto2-w-1"} {
				node(s, n).Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("4")
			}
			batch := s.Deployments[0].DeepCopy()
			batch.Name, batch.UID, batch.Spec.Replicas = "batch", "uid-deploy-batch", new(int32(1))
			batch.Annotations = map[string]string{spread.AnnotationSkip: "true"}
			batch.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("5")
			s.Deployments = append(s.Deployments, *batch)
		}, map[string]expect{
			"CAP002": {StatusFail, []string{"a pod of Deployment/shop/batch requests 5 CPU", "no schedulable node of sto1", "no schedulable node of sto2"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := exampleModel(t)
			s := healthy(m)
			tc.brk(s, m)
			assertResults(t, Run(s, m, Checks()), tc.want)
		})
	}
}

// assertResults checks that the checks in want have their status and
// messages, and that every other check passes.
func assertResults(t *testing.T, r *Report, want map[string]expect) {
	t.Helper()
	got := map[string][]Result{}
	for _, res := range r.Results {
		got[res.ID] = append(got[res.ID], res)
	}
	for _, c := range Checks() {
		results := got[c.ID]
		w, ok := want[c.ID]
		if !ok {
			w = expect{status: StatusPass}
		}
		if s := overall(results); s != w.status {
			t.Errorf("%s: status %s, want %s: %v", c.ID, s, w.status, results)
			continue
		}
		var msgs []string
		for _, res := range results {
			msgs = append(msgs, res.Message)
		}
		all := strings.Join(msgs, "\n")
		for _, sub := range w.msgs {
			if !strings.Contains(all, sub) {
				t.Errorf("%s: no message contains %q:\n%s", c.ID, sub, all)
			}
		}
	}
}

func node(s *Snapshot, name string) *corev1.Node {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i]
		}
	}
	panic("test fixture has no node " + name)
}

func named(name string) func(corev1.Node) bool {
	return func(n corev1.Node) bool { return n.Name == name }
}

func podNamed(name string) func(corev1.Pod) bool {
	return func(p corev1.Pod) bool { return p.Name == name }
}

func TestEncryptionNoneSkipsWireGuard(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	s := healthy(m)
	m.Network.WireGuard, m.Network.Encryption = false, v1alpha1.EncryptionNone
	// A rule that does not apply is skipped even when its kinds cannot be
	// read.
	s.FelixConfigurations = nil
	s.Errors[KindFelixConfigurations] = apierrors.NewNotFound(schema.GroupResource{Group: "crd.projectcalico.org", Resource: "felixconfigurations"}, "")
	skipped := map[string]expect{}
	for _, id := range []string{"NET001", "NET002", "NET003", "NET004", "NET005", "NET006", "NET008"} {
		skipped[id] = expect{StatusSkip, []string{"the topology sets encryption: none"}}
	}
	r := Run(s, m, Checks())
	assertResults(t, r, skipped)
	if r.Summary.Skipped != len(skipped) || r.Summary.Passed != len(Checks())-len(skipped) {
		t.Errorf("summary %+v", r.Summary)
	}
}

// A kind that cannot be listed makes exactly the checks that need it
// error, with the cause; they never pass.
func TestUnlistableKinds(t *testing.T) {
	t.Parallel()
	gr := func(k Kind) schema.GroupResource {
		return schema.GroupResource{Group: k.Info().Group, Resource: k.Info().Resource}
	}
	for _, tc := range []struct {
		kind Kind
		err  error
		msg  string
	}{
		{KindCephClusters, apierrors.NewNotFound(gr(KindCephClusters), ""),
			"cannot list cephclusters.ceph.rook.io: the CRD is not installed (the API server does not serve ceph.rook.io/v1 cephclusters): install the Rook operator (the bundle's storage-operator stage)"},
		{KindPods, apierrors.NewForbidden(gr(KindPods), "", errors.New(`User "ci" cannot list resource "pods"`)),
			`cannot list pods: forbidden by RBAC (pods is forbidden: User "ci" cannot list resource "pods"): bind this user to the ClusterRole stretch-verify`},
		{KindNodes, apierrors.NewTimeoutError("request did not complete within 30s", 0),
			"cannot list nodes: the API server did not answer in time (Timeout: request did not complete within 30s): retry, or raise --request-timeout"},
		{KindPDBs, fmt.Errorf("Get \"https://127.0.0.1:6443/apis/policy/v1/poddisruptionbudgets?limit=500\": %w", context.DeadlineExceeded),
			"cannot list poddisruptionbudgets.policy: the API server did not answer in time (Get "},
		{KindHPAs, apierrors.NewTooManyRequests("slow down", 1),
			"cannot list horizontalpodautoscalers.autoscaling: the API server kept answering 429 Too Many Requests after client-go's retries (slow down): retry later"},
		{KindFelixConfigurations, apierrors.NewUnauthorized("bad token"),
			"cannot list felixconfigurations.crd.projectcalico.org: the API server refused the credentials (401)"},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			m := exampleModel(t)
			s := healthy(m)
			s.Errors[tc.kind] = tc.err
			r := Run(s, m, Checks())
			errored := 0
			for _, c := range Checks() {
				var results []Result
				for _, res := range r.Results {
					if res.ID == c.ID {
						results = append(results, res)
					}
				}
				needs := slices.Contains(c.Needs, tc.kind)
				notRun := "not run: " + tc.kind.String() + " unavailable (see above)"
				switch {
				case needs && (len(results) != 1 || results[0].Status != StatusError || results[0].Message != notRun):
					t.Errorf("%s: %v, want one error %q", c.ID, results, notRun)
				case !needs && overall(results) != StatusPass:
					t.Errorf("%s: %v, want pass", c.ID, results)
				}
				if needs {
					errored++
				}
			}
			if errored == 0 || r.Summary.Errors != errored || r.Summary.Passed != len(Checks())-errored || !r.Summary.Partial {
				t.Errorf("summary %+v, %d checks need %s", r.Summary, errored, tc.kind)
			}
			// The cause is said once, in the unavailable list.
			if len(r.Unavailable) != 1 || !slices.Equal(r.Unavailable[0].Kinds, []string{tc.kind.String()}) ||
				!strings.HasPrefix(r.Unavailable[0].Message, tc.msg) {
				t.Errorf("unavailable %+v, want one entry %q", r.Unavailable, tc.msg)
			}
		})
	}
}

// A whole API group that is not served, and a kind RBAC forbids: each
// cause is said once however many checks read the kinds, and the checks
// say that they did not run.
func TestUnavailableSaidOnce(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	s := healthy(m)
	for _, k := range []Kind{KindCephClusters, KindCephBlockPools} {
		s.Errors[k] = apierrors.NewNotFound(schema.GroupResource{Group: k.Info().Group, Resource: k.Info().Resource}, "")
	}
	s.Errors[KindPods] = apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "ci" cannot list resource "pods"`))
	r := Run(s, m, Checks())
	want := []v1alpha1.VerifyUnavailable{
		{Kinds: []string{"pods"}, Message: `cannot list pods: forbidden by RBAC (pods is forbidden: User "ci" cannot list resource "pods"): ` +
			`bind this user to the ClusterRole stretch-verify (access/ in the bundle; members of the group stretch:verifiers have it)`},
		{Kinds: []string{"cephclusters.ceph.rook.io", "cephblockpools.ceph.rook.io"}, Message: "cannot list cephclusters.ceph.rook.io, cephblockpools.ceph.rook.io: " +
			"the CRDs are not installed (the API server does not serve ceph.rook.io/v1 cephclusters, cephblockpools): install the Rook operator (the bundle's storage-operator stage)"},
	}
	if !slices.EqualFunc(r.Unavailable, want, func(a, b v1alpha1.VerifyUnavailable) bool {
		return a.Message == b.Message && slices.Equal(a.Kinds, b.Kinds)
	}) {
		t.Errorf("unavailable:\n%+v\nwant:\n%+v", r.Unavailable, want)
	}
	notRun := 0
	for _, c := range Checks() {
		var lacks []string
		for _, k := range c.Needs {
			if s.Errors[k] != nil {
				lacks = append(lacks, k.String())
			}
		}
		for _, res := range r.Results {
			if res.ID != c.ID {
				continue
			}
			want := "not run: " + strings.Join(lacks, ", ") + " unavailable (see above)"
			switch {
			case len(lacks) > 0 && (res.Status != StatusError || res.Message != want):
				t.Errorf("%s %s: %q, want error %q", res.ID, res.Status, res.Message, want)
			case len(lacks) == 0 && res.Status != StatusPass:
				t.Errorf("%s %s: %s", res.ID, res.Status, res.Message)
			}
		}
		if len(lacks) > 0 {
			notRun++
		}
	}
	if notRun < 10 || r.Summary.Errors != notRun || !r.Summary.Partial {
		t.Errorf("summary %+v, %d checks lack a kind", r.Summary, notRun)
	}
	var table strings.Builder
	if err := r.Write(&table, "table"); err != nil {
		t.Fatal(err)
	}
	for _, cause := range []string{"forbidden by RBAC", "does not serve"} {
		if n := strings.Count(table.String(), cause); n != 1 {
			t.Errorf("the table says %q %d times, want once:\n%s", cause, n, table.String())
		}
	}
	if !strings.HasPrefix(table.String(), "unavailable: "+want[0].Message+"\nunavailable: "+want[1].Message+"\nID ") ||
		!strings.HasSuffix(table.String(), fmt.Sprintf("; PARTIAL REPORT: %d of %d checks could not run\n", notRun, len(Checks()))) {
		t.Errorf("table:\n%s", table.String())
	}
	// A JUnit case is read alone: it carries its own causes only.
	var junit strings.Builder
	if err := r.Write(&junit, "junit"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, has, hasNot string }{
		{"STOR001", "install the Rook operator", "forbidden"},
		{"CP002", "forbidden by RBAC", "Rook operator"},
	} {
		i := strings.Index(junit.String(), `<testcase name="`+c.id+`"`)
		end := strings.Index(junit.String()[i:], "</testcase>")
		if i < 0 || end < 0 {
			t.Fatalf("no case %s:\n%s", c.id, junit.String())
		}
		tc := junit.String()[i : i+end]
		if !strings.Contains(tc, c.has) || strings.Contains(tc, c.hasNot) {
			t.Errorf("JUnit case %s:\n%s", c.id, tc)
		}
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	s := &Snapshot{}
	c := Check{ID: "X001", Layer: LayerNodes, Severity: SeverityWarning, Title: "t", Needs: []Kind{KindNodes},
		Run: func(*Snapshot, *topology.Model) []Result {
			return []Result{pass("fine"), fail("Node/a", "bad a"), fail("Node/b", "bad b")}
		}}
	got := evaluate(c, s, m)
	want := []Result{
		{ID: "X001", Layer: LayerNodes, Status: StatusWarn, Object: "Node/a", Message: "bad a"},
		{ID: "X001", Layer: LayerNodes, Status: StatusWarn, Object: "Node/b", Message: "bad b"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("warning check: %+v", got)
	}
	c.Run = func(*Snapshot, *topology.Model) []Result { return nil }
	if got := evaluate(c, s, m); !slices.Equal(got, []Result{{ID: "X001", Layer: LayerNodes, Status: StatusPass, Message: "t"}}) {
		t.Errorf("check without results: %+v", got)
	}
}

func TestWriteFormats(t *testing.T) {
	t.Parallel()
	r := &Report{v1alpha1.VerifyReport{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindVerifyReport, Topology: "demo-eu", Results: []Result{
		{ID: "NODE001", Layer: LayerNodes, Status: StatusPass, Message: "all 11 nodes of the topology are registered"},
		{ID: "NET004", Layer: LayerNetwork, Status: StatusFail, Object: "Node/a", Message: "node a has no key"},
		{ID: "NET004", Layer: LayerNetwork, Status: StatusFail, Object: "Node/b", Message: "node b has no key"},
		{ID: "STOR001", Layer: LayerStorage, Status: StatusError, Message: "cannot list cephclusters.ceph.rook.io: the CRD is not installed"},
		{ID: "WORK003", Layer: LayerWorkloads, Status: StatusWarn, Object: "Deployment/shop/web", Message: "no PodDisruptionBudget"},
		{ID: "NET001", Layer: LayerNetwork, Status: StatusSkip, Message: "the topology sets encryption: none"},
	}, Summary: v1alpha1.VerifySummary{Checks: 5, Passed: 1, Failed: 1, Warnings: 1, Errors: 1, Skipped: 1, APIRequests: 13}}}

	var table strings.Builder
	if err := r.Write(&table, "table"); err != nil {
		t.Fatal(err)
	}
	wantTable := `ID       LAYER      STATUS  OBJECT               MESSAGE
NODE001  nodes      pass                         all 11 nodes of the topology are registered
NET004   network    fail    Node/a               node a has no key
NET004   network    fail    Node/b               node b has no key
STOR001  storage    error                        cannot list cephclusters.ceph.rook.io: the CRD is not installed
WORK003  workloads  warn    Deployment/shop/web  no PodDisruptionBudget
NET001   network    skip                         the topology sets encryption: none
5 checks: 1 passed, 1 failed, 1 warnings, 1 errors, 1 skipped (13 API requests)
`
	if table.String() != wantTable {
		t.Errorf("table:\n%s\nwant:\n%s", table.String(), wantTable)
	}

	var junit strings.Builder
	if err := r.Write(&junit, "junit"); err != nil {
		t.Fatal(err)
	}
	wantJUnit := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="kubectl-stretch verify demo-eu" tests="5" failures="1" errors="1" skipped="1">
    <testcase name="NODE001" classname="nodes">
      <system-out>pass: all 11 nodes of the topology are registered</system-out>
    </testcase>
    <testcase name="NET004" classname="network">
      <failure message="node a has no key" type="fail">fail: Node/a: node a has no key&#xA;fail: Node/b: node b has no key</failure>
    </testcase>
    <testcase name="STOR001" classname="storage">
      <error message="cannot list cephclusters.ceph.rook.io: the CRD is not installed" type="error">error: cannot list cephclusters.ceph.rook.io: the CRD is not installed</error>
    </testcase>
    <testcase name="WORK003" classname="workloads">
      <system-out>warn: Deployment/shop/web: no PodDisruptionBudget</system-out>
    </testcase>
    <testcase name="NET001" classname="network">
      <skipped message="the topology sets encryption: none"></skipped>
    </testcase>
  </testsuite>
</testsuites>
`
	if junit.String() != wantJUnit {
		t.Errorf("junit:\n%s\nwant:\n%s", junit.String(), wantJUnit)
	}

	var js strings.Builder
	if err := r.Write(&js, "json"); err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(js.String()), &decoded); err != nil || decoded["kind"] != "VerifyReport" ||
		decoded["apiVersion"] != "stretch.dev/v1alpha1" || len(decoded["results"].([]any)) != 6 {
		t.Errorf("json (%v):\n%s", err, js.String())
	}
	item := decoded["results"].([]any)[1].(map[string]any)
	if item["id"] != "NET004" || item["layer"] != "network" || item["status"] != "fail" || item["message"] != "node a has no key" || item["object"] != "Node/a" {
		t.Errorf("json result: %v", item)
	}
	if err := r.Write(&js, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// An API server that cannot be reached gives ErrUnreachable, not a report
// of errors.
func TestTakeUnreachable(t *testing.T) {
	t.Parallel()
	c, err := NewClient(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Take(t.Context(), c, Options{})
	if !errors.Is(err, ErrUnreachable) || !strings.HasPrefix(err.Error(), "cannot reach the API server: list nodes: ") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v, want ErrUnreachable with the cause", err)
	}
	if c.Requests() < int64(verifyKindCount) {
		t.Errorf("%d requests counted, want at least one per kind", c.Requests())
	}
}

func TestPodRequests(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	req := func(cpu string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
	}
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &always, Resources: req("100m")}, {Name: "migrate", Resources: req("2")}},
		Containers:     []corev1.Container{{Resources: req("500m")}, {Resources: req("250m")}},
		Overhead:       corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
	}
	// max(500m + 250m + 100m sidecar, 2 + 100m sidecar) + 50m overhead.
	if got := podRequests(&spec)[corev1.ResourceCPU]; got.String() != "2150m" {
		t.Errorf("cpu %s, want 2150m", got.String())
	}
}
