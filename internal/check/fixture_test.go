package check

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

const exampleTopology = "../../testdata/topology.yaml"

func exampleModel(t *testing.T) *topology.Model {
	t.Helper()
	f, err := topology.Load(exampleTopology)
	if err != nil {
		t.Fatal(err)
	}
	return topology.NewModel(f.Topology)
}

// healthy builds, in memory, the snapshot of a cluster that meets every
// check for m: what Kubespray, the kubelets, Calico, Rook and the workload
// controllers write on the example topology with its shop workloads. Tests
// break one thing in it.
func healthy(m *topology.Model) *Snapshot {
	s := &Snapshot{Requests: int64(verifyKindCount)}
	for i, n := range m.Nodes {
		labels := map[string]string{"kubernetes.io/hostname": n.Name}
		for k, v := range n.Labels {
			labels[k] = v
		}
		var taints []corev1.Taint
		for _, t := range n.InstalledTaints() {
			taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
		}
		if n.ControlPlane {
			labels[labelControlPlane] = ""
		}
		cpu, mem := n.CPU, n.Memory
		if cpu == "" {
			cpu, mem = "4", "16Gi"
		}
		alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
		s.Nodes = append(s.Nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels, Annotations: map[string]string{
				annotationWireguardKey:  fakeKey(n.Name),
				annotationWireguardAddr: fmt.Sprintf("10.233.%d.1", 64+i),
				annotationIPv4Address:   n.IP + "/24",
			}},
			Spec:   corev1.NodeSpec{Taints: taints},
			Status: corev1.NodeStatus{Allocatable: alloc, Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
		})
		if n.ControlPlane {
			s.Pods = append(s.Pods, runningPod("kube-system", "kube-apiserver-"+n.Name, n.Name,
				map[string]string{labelComponent: "kube-apiserver"}, nil))
		}
	}
	ns := m.Storage.Namespace
	for _, mon := range []struct{ id, zone, node string }{
		{"a", "sto1", "sto1-s-0"}, {"b", "sto1", "sto1-s-1"}, {"c", "sto2", "sto2-s-0"}, {"d", "sto2", "sto2-s-1"}, {"e", "osl1", "osl1-cp-0"},
	} {
		s.Pods = append(s.Pods, runningPod(ns, "rook-ceph-mon-"+mon.id, mon.node,
			map[string]string{rook.LabelApp: rook.AppMon, rook.LabelMonID: mon.id, rook.LabelMonZone: mon.zone}, nil))
	}
	for i, node := range m.Storage.StorageNodes {
		id := fmt.Sprint(i)
		s.Pods = append(s.Pods, runningPod(ns, "rook-ceph-osd-"+id, node,
			map[string]string{rook.LabelApp: rook.AppOSD, rook.LabelOSDID: id, rook.LabelOSDZone: strings.SplitN(node, "-", 2)[0]}, nil))
	}
	s.CephClusters = []rook.CephCluster{{
		ObjectMeta: metav1.ObjectMeta{Name: "rook-ceph", Namespace: ns},
		Spec: rook.ClusterSpec{Mon: rook.MonSpec{Count: 5, StretchCluster: &rook.StretchClusterSpec{
			FailureDomainLabel: topology.LabelZone,
			Zones:              []rook.MonZoneSpec{{Name: "osl1", Arbiter: true}, {Name: "sto1"}, {Name: "sto2"}},
		}}, Storage: storageNodes(m), Placement: map[string]rook.Placement{"osd": {NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: m.Data}}}}}}}}},
		Status: json.RawMessage(`{"phase":"Ready","ceph":{"health":"HEALTH_OK"}}`),
	}}
	ready := json.RawMessage(`{"phase":"Ready"}`)
	s.CephBlockPools = []rook.CephBlockPool{
		{ObjectMeta: metav1.ObjectMeta{Name: "builtin-mgr", Namespace: ns}, Spec: rook.PoolSpec{Name: ".mgr", Replicated: rook.ReplicatedSpec{Size: 4, ReplicasPerFailureDomain: 2}}, Status: ready},
		{ObjectMeta: metav1.ObjectMeta{Name: "replicapool", Namespace: ns}, Spec: rook.PoolSpec{Replicated: rook.ReplicatedSpec{Size: 4, ReplicasPerFailureDomain: 2}}, Status: ready},
	}
	s.StorageClasses = []storagev1.StorageClass{{
		ObjectMeta:  metav1.ObjectMeta{Name: "ceph-block", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: m.Storage.Provisioner,
		Parameters:  map[string]string{"pool": "replicapool", "clusterID": ns},
	}}
	s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: m.Storage.Provisioner}}}
	on, mtu := true, m.Network.MTU
	s.FelixConfigurations = []calico.FelixConfiguration{{ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: calico.FelixConfigurationSpec{WireguardEnabled: &on, WireguardMTU: &mtu}}}

	// storefront: a Deployment of 2 with its ReplicaSet and a pod per data
	// region; orders-db: a StatefulSet of 2 with its claims.
	honor := corev1.NodeInclusionPolicyHonor
	template := func(app, cpu, mem string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}},
				TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: topology.LabelZone,
					WhenUnsatisfiable: corev1.DoNotSchedule, NodeTaintsPolicy: &honor,
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}},
			},
		}
	}
	two := int32(2)
	s.Deployments = []appsv1.Deployment{{
		ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop", UID: "uid-deploy-storefront"},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront"}},
			Template: template("storefront", "250m", "256Mi")},
	}}
	s.ReplicaSets = []appsv1.ReplicaSet{{ObjectMeta: metav1.ObjectMeta{Name: "storefront-abc", Namespace: "shop", UID: "uid-rs-storefront",
		OwnerReferences: []metav1.OwnerReference{owner("Deployment", "storefront", "uid-deploy-storefront")}}}}
	s.StatefulSets = []appsv1.StatefulSet{{
		ObjectMeta: metav1.ObjectMeta{Name: "orders-db", Namespace: "shop", UID: "uid-sts-orders-db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "orders-db"}},
			Template: template("orders-db", "500m", "1Gi")},
	}}
	for i, node := range []string{"sto1-w-0", "sto2-w-0"} {
		s.Pods = append(s.Pods, runningPod("shop", fmt.Sprintf("storefront-abc-%d", i), node, map[string]string{"app": "storefront"},
			&metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "storefront-abc", UID: "uid-rs-storefront"}))
	}
	for i, node := range []string{"sto1-w-1", "sto2-w-1"} {
		s.Pods = append(s.Pods, runningPod("shop", fmt.Sprintf("orders-db-%d", i), node, map[string]string{"app": "orders-db"},
			&metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "orders-db", UID: "uid-sts-orders-db"}))
		class := "ceph-block"
		s.PVCs = append(s.PVCs, corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("data-orders-db-%d", i), Namespace: "shop"},
			Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class}})
	}
	one := intstr.FromInt32(1)
	for _, app := range []string{"orders-db", "storefront"} {
		s.PDBs = append(s.PDBs, policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: app + "-stretch", Namespace: "shop"},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}})
	}
	// The storefront behind a ClusterIP Service, and the ingress behind a
	// balancer on 80 and 443 that reaches the pods directly (no node
	// ports): what the firewall allowlist opens.
	noNodePorts := false
	s.Services = append(s.Services,
		corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ingress", Namespace: "ingress"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: &noNodePorts,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}}},
		corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: "shop"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 8080, Protocol: corev1.ProtocolTCP}}}})
	s.Edge = healthyEdge(m)
	return s
}

// service returns the Service namespace/name of s.
func service(s *Snapshot, namespace, name string) *corev1.Service {
	for i := range s.Services {
		if s.Services[i].Namespace == namespace && s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	panic("test fixture has no Service " + namespace + "/" + name)
}

func owner(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: new(true)}
}

// storageNodes is the CephCluster's spec.storage as rendered: the data
// regions' storage nodes.
func storageNodes(m *topology.Model) rook.StorageSpec {
	var st rook.StorageSpec
	for _, n := range m.Storage.StorageNodes {
		st.Nodes = append(st.Nodes, rook.StorageNode{Name: n})
	}
	return st
}

func runningPod(ns, name, node string, labels map[string]string, ctrl *metav1.OwnerReference) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, UID: types.UID("uid-pod-" + ns + "-" + name)},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if ctrl != nil {
		ctrl.Controller = new(true)
		p.OwnerReferences = []metav1.OwnerReference{*ctrl}
	}
	return p
}

// fakeKey is a valid, unique WireGuard public key for a node.
func fakeKey(node string) string {
	b := make([]byte, wireguardKeyBytes)
	copy(b, node)
	return base64.StdEncoding.EncodeToString(b)
}
