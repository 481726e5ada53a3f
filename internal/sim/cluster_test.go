//go:build unix

package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Bounds of the waits in the cluster tests. A region turns NotReady after
// the 20 s grace period; the rest takes seconds on an idle machine, and the
// bounds leave room for a busy one.
const (
	waitShort = 60 * time.Second
	waitLong  = 2 * time.Minute
)

// TestCluster starts a simulated cluster of the example topology with the
// simulated operators, and plays a region loss: the nodes, a zone-spread
// Deployment that is rescheduled into the surviving region, and Ceph's
// health through degraded stretch mode and back.
func TestCluster(t *testing.T) {
	t.Parallel()
	model := exampleModel(t)
	start := time.Now()
	c := StartClusterForTest(t, model)
	t.Logf("TIMING cluster started (11 nodes Ready, CRDs established) in %s", since(start))
	cfg := c.RESTConfig()
	client := kubernetes.NewForConfigOrDie(cfg)

	ops, err := NewOperators(cfg, model, &testLog{t: t})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	opsDone := make(chan error, 1)
	go func() { opsDone <- ops.Run(ctx, 500*time.Millisecond) }()
	stopOps := sync.OnceFunc(func() {
		cancel()
		if err := <-opsDone; err != nil {
			t.Errorf("operators: %v", err)
		}
	})
	t.Cleanup(stopOps)
	objs, err := apply.Decode(readFile(t, filepath.Join("testdata", "ceph-demo-eu.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(t.Context(), cfg, objs, "kubectl-stretch-test"); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"nodes", func(t *testing.T) { checkNodes(t, client, model) }},
		{"operators", func(t *testing.T) { checkOperators(t, cfg, model) }},
		{"wireguard", func(t *testing.T) { checkWireGuardFollowsFelix(t, cfg) }},
		{"csi drivers", func(t *testing.T) { checkCSIDrivers(t, cfg, ops, model) }},
		{"deployment", func(t *testing.T) { runDeployment(t, client, model) }},
		{"fail", func(t *testing.T) {
			start := time.Now()
			if err := c.Fail(t.Context(), "sto1"); err != nil {
				t.Fatal(err)
			}
			if got := c.Failed(); !slices.Equal(got, []string{"sto1"}) {
				t.Errorf("Failed() = %v", got)
			}
			waitCtx, cancel := context.WithTimeout(t.Context(), waitShort)
			defer cancel()
			if err := c.WaitRegion(waitCtx, "sto1", false); err != nil {
				t.Fatal(err)
			}
			t.Logf("TIMING fail -> sto1 nodes NotReady in %s", since(start))
			waitFor(t, waitShort, "unreachable taints on sto1", func(ctx context.Context) error {
				return regionTainted(ctx, client, model, "sto1")
			})
			waitFor(t, waitLong, "the web pods to run in sto2 only", func(ctx context.Context) error {
				return webPods(ctx, client, model, map[string]int{"sto2": 2})
			})
			t.Logf("TIMING fail -> replacement pod Running in sto2 in %s", since(start))
			waitFor(t, waitShort, "Ceph to enter degraded stretch mode", func(ctx context.Context) error {
				return cephClusterHealth(ctx, cfg, HealthWarn, []string{
					CheckDegradedStretchMode, CheckMonDown, CheckOSDDown, CheckOSDHostDown, CheckOSDZoneDown,
				})
			})
		}},
		{"heal", func(t *testing.T) {
			start := time.Now()
			if err := c.Heal(t.Context(), "sto1"); err != nil {
				t.Fatal(err)
			}
			t.Logf("TIMING heal -> sto1 nodes Ready and untainted in %s", since(start))
			if got := c.Failed(); len(got) != 0 {
				t.Errorf("Failed() = %v", got)
			}
			waitFor(t, waitShort, "Ceph to be healthy again", func(ctx context.Context) error {
				return cephClusterHealth(ctx, cfg, HealthOK, nil)
			})
			// The pods that stayed on the healed nodes are Ready again, and
			// the evicted ones are gone.
			waitFor(t, waitShort, "the Ceph pods in sto1 to be Ready again", func(ctx context.Context) error {
				return podsReady(ctx, client, model.Storage.Namespace, LabelSimulated+"=true")
			})
			waitFor(t, waitShort, "the evicted web pod to be deleted", func(ctx context.Context) error {
				return webPods(ctx, client, model, map[string]int{"sto2": 2}, true)
			})
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			return
		}
	}

	procs := c.Processes()
	want := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-sto2", "kwok-osl1", "kwok-sto1"}
	if got := names(procs); !slices.Equal(got, want) {
		t.Errorf("processes %v, want %v", got, want)
	}
	stopOps()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Stop: kill -0 gave %v", p.Name, p.PID, err)
		}
	}
}

// checkNodes checks every node's labels, taints and readiness.
func checkNodes(t *testing.T, client kubernetes.Interface, model *topology.Model) {
	list, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(model.Nodes) {
		t.Errorf("%d nodes, want %d", len(list.Items), len(model.Nodes))
	}
	byName := map[string]corev1.Node{}
	for _, n := range list.Items {
		byName[n.Name] = n
	}
	for _, n := range model.Nodes {
		node, ok := byName[n.Name]
		if !ok {
			t.Errorf("node %s missing", n.Name)
			continue
		}
		if !nodeUsable(&node) {
			t.Errorf("node %s not Ready and untainted: %v %v", n.Name, node.Status.Conditions, node.Spec.Taints)
		}
		want, err := NodeObject(n, model.Kubernetes.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(node.Labels, want.Labels) {
			t.Errorf("node %s labels %v, want %v", n.Name, node.Labels, want.Labels)
		}
		if !reflect.DeepEqual(taintStrings(node.Spec.Taints), taintStrings(want.Spec.Taints)) {
			t.Errorf("node %s taints %v, want %v", n.Name, taintStrings(node.Spec.Taints), taintStrings(want.Spec.Taints))
		}
		if got, want := node.Status.Capacity.Cpu().String(), want.Status.Capacity.Cpu().String(); got != want {
			t.Errorf("node %s cpu %s, want %s", n.Name, got, want)
		}
	}
}

func taintStrings(taints []corev1.Taint) []string {
	out := []string{}
	for _, t := range taints {
		out = append(out, t.Key+"="+t.Value+":"+string(t.Effect))
	}
	return out
}

// checkOperators waits until the simulated operators have done their
// first pass and checks what they wrote.
func checkOperators(t *testing.T, cfg *rest.Config, model *topology.Model) {
	client := kubernetes.NewForConfigOrDie(cfg)
	waitFor(t, waitShort, "the simulated operators", func(ctx context.Context) error {
		return operatorsReady(ctx, client, model)
	})
	// The eleven daemon pods of the applied CephCluster, placed by the
	// scheduler and run by kwok.
	var pods *corev1.PodList
	waitFor(t, waitShort, "the Ceph pods to run", func(ctx context.Context) error {
		var err error
		pods, err = client.CoreV1().Pods(model.Storage.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelSimulated + "=true"})
		if err != nil {
			return err
		}
		if len(pods.Items) != 11 {
			return fmt.Errorf("%d pods, want 11", len(pods.Items))
		}
		return podsReady(ctx, client, model.Storage.Namespace, LabelSimulated+"=true")
	})
	storage, region := map[string]bool{}, map[string]string{}
	for _, n := range model.Nodes {
		storage[n.Name] = n.Storage
		region[n.Name] = n.Region
	}
	mons, osdZones, mgrZones, monNodes := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range pods.Items {
		node := p.Spec.NodeName
		switch p.Labels["app"] {
		case "rook-ceph-mon":
			mons[p.Labels["zone"]]++
			monNodes[node]++
			if region[node] != p.Labels["zone"] {
				t.Errorf("mon pod %s of zone %s runs on %s in region %s", p.Name, p.Labels["zone"], node, region[node])
			}
		case "rook-ceph-mgr":
			mgrZones[region[node]]++
		case "rook-ceph-osd":
			osdZones[p.Labels["topology-location-zone"]]++
			if !storage[node] || p.Labels["topology-location-host"] != node {
				t.Errorf("OSD pod %s on %s (host label %s): not a storage node", p.Name, node, p.Labels["topology-location-host"])
			}
		}
	}
	if want := map[string]int{"sto1": 2, "sto2": 2, "osl1": 1}; !maps.Equal(mons, want) {
		t.Errorf("mons by zone %v, want %v", mons, want)
	}
	if len(monNodes) != 5 {
		t.Errorf("mons on nodes %v: want five nodes (required anti-affinity)", monNodes)
	}
	if want := map[string]int{"sto1": 1, "sto2": 1}; !maps.Equal(mgrZones, want) {
		t.Errorf("mgrs by region %v, want %v", mgrZones, want)
	}
	if want := map[string]int{"sto1": 2, "sto2": 2}; !maps.Equal(osdZones, want) {
		t.Errorf("OSDs by zone %v, want %v", osdZones, want)
	}
	waitFor(t, waitShort, "the WireGuard annotations", func(ctx context.Context) error {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, n := range nodes.Items {
			if n.Annotations[annotationWireguardKey] == "" {
				return fmt.Errorf("node %s has no WireGuard key yet", n.Name)
			}
		}
		return nil
	})
	nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if got, want := n.Annotations[annotationWireguardKey], WireGuardPublicKey(n.Name); got != want {
			t.Errorf("node %s WireGuard key %q, want %q", n.Name, got, want)
		}
		if n.Annotations[annotationWireguardAddr] == "" || n.Annotations[annotationIPv4Address] == "" {
			t.Errorf("node %s lacks Calico address annotations: %v", n.Name, n.Annotations)
		}
	}
	waitFor(t, waitShort, "a healthy CephCluster", func(ctx context.Context) error {
		return cephClusterHealth(ctx, cfg, HealthOK, nil)
	})
	waitFor(t, waitShort, "Ready pools", func(ctx context.Context) error {
		list, err := dynamic.NewForConfigOrDie(cfg).Resource(cephBlockPoolResource).Namespace(model.Storage.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var ids []int64
		for _, p := range list.Items {
			if phase, _, _ := unstructured.NestedString(p.Object, "status", "phase"); phase != "Ready" {
				return fmt.Errorf("pool %s is %q", p.GetName(), phase)
			}
			id, _, _ := unstructured.NestedInt64(p.Object, "status", "poolID")
			ids = append(ids, id)
		}
		if len(ids) != 2 || !slices.Equal(ids, []int64{1, 2}) { // builtin-mgr (.mgr) first
			return fmt.Errorf("pool IDs %v, want [1 2]", ids)
		}
		return nil
	})
}

// cephClusterHealth succeeds when the CephCluster rook-ceph/rook-ceph is
// Ready with health and exactly the detail codes.
func cephClusterHealth(ctx context.Context, cfg *rest.Config, health string, codes []string) error {
	obj, err := dynamic.NewForConfigOrDie(cfg).Resource(cephClusterResource).Namespace("rook-ceph").Get(ctx, "rook-ceph", metav1.GetOptions{})
	if err != nil {
		return err
	}
	phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	got, _, _ := unstructured.NestedString(obj.Object, "status", "ceph", "health")
	details, _, _ := unstructured.NestedMap(obj.Object, "status", "ceph", "details")
	gotCodes := slices.Sorted(maps.Keys(details))
	slices.Sort(codes)
	if phase != "Ready" || got != health || !slices.Equal(gotCodes, codes) {
		return fmt.Errorf("CephCluster phase %q health %s %v, want Ready %s %v", phase, got, gotCodes, health, codes)
	}
	if obj.GetAnnotations()[LabelSimulated] != "true" {
		return fmt.Errorf("CephCluster lacks the %s annotation", LabelSimulated)
	}
	return nil
}

// runDeployment creates a two-replica Deployment spread over the data
// regions the way the spread patcher writes it, with short eviction
// tolerations, and waits until one pod runs in each data region.
func runDeployment(t *testing.T, client kubernetes.Interface, model *topology.Model) {
	labels := map[string]string{"app": "web"}
	short := int64(2)
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1"}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew:           1,
						TopologyKey:       topology.LabelZone,
						WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector:     &metav1.LabelSelector{MatchLabels: labels},
						MatchLabelKeys:    []string{appsv1.DefaultDeploymentUniqueLabelKey},
						NodeTaintsPolicy:  new(corev1.NodeInclusionPolicyHonor),
					}},
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
							NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
								Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: model.Data,
							}}}},
						},
					}},
					// Evicted 2 s after its node turns NotReady, not 300 s.
					Tolerations: []corev1.Toleration{
						{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &short},
						{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &short},
					},
				},
			},
		},
	}
	start := time.Now()
	if _, err := client.AppsV1().Deployments("default").Create(t.Context(), deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitShort, "one web pod Running in each data region", func(ctx context.Context) error {
		return webPods(ctx, client, model, map[string]int{"sto1": 1, "sto2": 1})
	})
	t.Logf("TIMING deployment -> one pod Running per data region in %s", since(start))
}

// webPods succeeds when the live (not terminating) Running pods of the web
// Deployment are spread over the regions as want says; with noTerminating,
// no pod may be terminating either.
func webPods(ctx context.Context, client kubernetes.Interface, model *topology.Model, want map[string]int, noTerminating ...bool) error {
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		return err
	}
	region := map[string]string{}
	for _, n := range model.Nodes {
		region[n.Name] = n.Region
	}
	got := map[string]int{}
	var other []string
	for _, p := range pods.Items {
		switch {
		case p.DeletionTimestamp != nil:
			other = append(other, p.Name+" terminating on "+p.Spec.NodeName)
		case p.Status.Phase == corev1.PodRunning:
			got[region[p.Spec.NodeName]]++
		default:
			other = append(other, fmt.Sprintf("%s %s on %q", p.Name, p.Status.Phase, p.Spec.NodeName))
		}
	}
	if !maps.Equal(got, want) || (len(noTerminating) > 0 && noTerminating[0] && len(other) > 0) {
		return fmt.Errorf("running web pods by region %v, want %v (others: %s)", got, want, strings.Join(other, ", "))
	}
	return nil
}

// regionTainted succeeds when every node of region has the unreachable
// NoExecute taint of the node lifecycle controller.
func regionTainted(ctx context.Context, client kubernetes.Interface, model *topology.Model, region string) error {
	for _, name := range regionNodes(model, region) {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == corev1.TaintNodeUnreachable && t.Effect == corev1.TaintEffectNoExecute
		}) {
			return fmt.Errorf("node %s has taints %v", name, taintStrings(n.Spec.Taints))
		}
	}
	return nil
}

// podsReady succeeds when every selected pod in namespace is Ready.
func podsReady(ctx context.Context, client kubernetes.Interface, namespace, selector string) error {
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return err
	}
	var notReady []string
	for _, p := range pods.Items {
		ready := false
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		if !ready {
			notReady = append(notReady, p.Name)
		}
	}
	if len(pods.Items) == 0 || len(notReady) > 0 {
		return fmt.Errorf("%d pods, not Ready: %v", len(pods.Items), notReady)
	}
	return nil
}

// waitFor polls check until it succeeds, failing the test after timeout
// with check's last error.
func waitFor(t *testing.T, timeout time.Duration, what string, check func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	err := poll(ctx, func(ctx context.Context) (bool, error) {
		err := check(ctx)
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("waiting %s for %s: %v", timeout, what, err)
	}
}

// TestStartClusterMissingKwok fails before starting anything when a binary
// is missing.
func TestStartClusterMissingKwok(t *testing.T) {
	t.Parallel()
	binDir := t.TempDir()
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if err := os.WriteFile(filepath.Join(binDir, name), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stateDir := t.TempDir()
	_, err := StartCluster(t.Context(), ClusterOptions{Options: Options{BinDir: binDir, StateDir: stateDir}, Topology: exampleModel(t)})
	var missing *MissingBinaryError
	if !errors.As(err, &missing) {
		t.Fatalf("got %v, want a *MissingBinaryError", err)
	}
	if want := "start cluster: " + filepath.Join(binDir, "kwok") + " not found: run make testbin"; err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if entries, err := os.ReadDir(stateDir); err != nil || len(entries) > 0 {
		t.Errorf("state folder not empty (%v): %v", err, entries)
	}
}

// checkCSIDrivers: a claim on the topology's StorageClass gets no volume
// while the ceph-csi-drivers release is not applied; once the bundle's
// release is applied the RBD CSIDriver is registered and the claim on the
// applied pool binds, while one on a pool no CephBlockPool defines stays
// Pending; deleting the release deregisters the driver.
func checkCSIDrivers(t *testing.T, cfg *rest.Config, ops *Operators, model *topology.Model) {
	ctx := t.Context()
	client := kubernetes.NewForConfigOrDie(cfg)
	driver := model.Storage.Provisioner
	ns := model.Storage.Namespace
	// A class on the applied pool replicapool, and one on a pool no
	// CephBlockPool defines: its claim never binds.
	claim := func(name, pool string) *corev1.PersistentVolumeClaim {
		t.Helper()
		class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: driver,
			Parameters: map[string]string{"clusterID": ns, "pool": pool}}
		if _, err := client.StorageV1().StorageClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.PersistentVolumeClaimSpec{
				StorageClassName: &class.Name,
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
		if _, err := client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = client.CoreV1().PersistentVolumeClaims(ns).Delete(context.Background(), pvc.Name, metav1.DeleteOptions{})
			_ = client.StorageV1().StorageClasses().Delete(context.Background(), class.Name, metav1.DeleteOptions{})
		})
		return pvc
	}
	pvc := claim("csi-test", "replicapool")
	noPool := claim("csi-test-nopool", "nopool")

	// Without the release: one full reconcile registers nothing and
	// provisions nothing.
	if err := ops.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.StorageV1().CSIDrivers().Get(ctx, driver, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("CSIDriver %s without the drivers release: %v, want NotFound", driver, err)
	}
	pvs, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if ref := pv.Spec.ClaimRef; ref != nil && ref.Namespace == ns && ref.Name == pvc.Name {
			t.Fatalf("PersistentVolume %s provisioned for the claim without the driver", pv.Name)
		}
	}

	// The bundle's release, as rendered.
	objs, err := apply.Decode(readFile(t, filepath.Join("..", "..", "testdata", "golden", "example", "storage", "rook", "operator", "helmrelease-ceph-csi-drivers.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(ctx, cfg, objs, "kubectl-stretch-test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitShort, "the claim to bind", func(ctx context.Context) error {
		if _, err := client.StorageV1().CSIDrivers().Get(ctx, driver, metav1.GetOptions{}); err != nil {
			return err
		}
		c, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, pvc.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if c.Status.Phase != corev1.ClaimBound {
			return fmt.Errorf("claim %s", c.Status.Phase)
		}
		return nil
	})

	// The claim on a pool that does not exist stays Pending, with the
	// driver registered.
	if err := ops.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, noPool.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status.Phase != corev1.ClaimPending || c.Spec.VolumeName != "" {
		t.Errorf("claim on a missing pool: %s, volume %q; want Pending without a volume", c.Status.Phase, c.Spec.VolumeName)
	}

	dyn := dynamic.NewForConfigOrDie(cfg)
	if err := dyn.Resource(helmReleaseResource).Namespace(ns).Delete(ctx, objs[0].GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitShort, "the CSIDriver to be deregistered", func(ctx context.Context) error {
		if _, err := client.StorageV1().CSIDrivers().Get(ctx, driver, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("CSIDriver %s: %v", driver, err)
		}
		return nil
	})
}

// checkWireGuardFollowsFelix: turning WireGuard off in the applied
// FelixConfiguration default removes every node's WireGuard key and tunnel
// address and keeps its node address; turning it on again brings them back.
func checkWireGuardFollowsFelix(t *testing.T, cfg *rest.Config) {
	client := kubernetes.NewForConfigOrDie(cfg)
	felix := dynamic.NewForConfigOrDie(cfg).Resource(felixConfigurationResource)
	set := func(on bool) {
		t.Helper()
		patch := fmt.Sprintf(`{"spec":{"wireguardEnabled":%t}}`, on)
		if _, err := felix.Patch(t.Context(), "default", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(want bool) func(context.Context) error {
		return func(ctx context.Context) error {
			nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, n := range nodes.Items {
				_, key := n.Annotations[annotationWireguardKey]
				_, addr := n.Annotations[annotationWireguardAddr]
				if key != want || addr != want || n.Annotations[annotationIPv4Address] == "" {
					return fmt.Errorf("node %s: WireGuard key %v, tunnel address %v, node address %q; want WireGuard %v",
						n.Name, key, addr, n.Annotations[annotationIPv4Address], want)
				}
			}
			return nil
		}
	}
	set(false)
	waitFor(t, waitShort, "the WireGuard annotations to go", keys(false))
	set(true)
	waitFor(t, waitShort, "the WireGuard annotations to come back", keys(true))
}
