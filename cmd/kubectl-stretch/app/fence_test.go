package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/fence"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Bounds of the waits of TestFenceLive: the region turns NotReady after the
// simulated cluster's 20 s node-monitor grace period, PodGC runs every 20 s;
// the bounds leave room for a busy machine.
const (
	fenceWaitNotReady = 90 * time.Second
	fenceWaitMoved    = 2 * time.Minute
	// fenceWaitEvicted bounds the replacement of a pod with evictionSeconds
	// 5 once its node is NotReady: far below the 300 s of the default
	// toleration, which it would otherwise wait.
	fenceWaitEvicted = 90 * time.Second
)

// fenceWeb is a Deployment of two replicas, spread by the patcher.
const fenceWeb = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`

// waitWeb waits until the web Deployment's Running pods that are not
// terminating are, per region, exactly want.
func waitWeb(t *testing.T, client kubernetes.Interface, m *topology.Model, bound time.Duration, want map[string]int) {
	t.Helper()
	region := map[string]string{}
	for _, r := range m.Regions {
		for _, n := range r.Nodes {
			region[n] = r.Name
		}
	}
	var last map[string]int
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, bound, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, nil
		}
		last = map[string]int{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				last[region[p.Spec.NodeName]]++
			}
		}
		return maps.Equal(last, want), nil
	})
	if err != nil {
		t.Fatalf("web pods per region: %v after %s, want %v", last, bound, want)
	}
}

// TestFenceLive plays a region loss on the simulated cluster (real
// kube-controller-manager and scheduler, kwok kubelets): fence refuses
// while sto1 is Ready; once sto1's kwok is stopped and its nodes are
// NotReady, a one-replica StatefulSet's pod hangs on the lost node; fence
// taints sto1's nodes out-of-service, the controller-manager force-deletes
// the pod and the StatefulSet recreates it in sto2; unfence removes the
// taint and only it.
func TestFenceLive(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	c, model, client := exampleCluster(t)
	kc := "--kubeconfig=" + c.Kubeconfig()
	ctx := t.Context()

	code, out, errOut := run(t, "fence", "sto1", "-f", example, kc)
	// The README shows this message.
	wantRefusal := "error: region sto1: 5 nodes are Ready (sto1-cp-0, sto1-s-0, sto1-s-1, sto1-w-0, sto1-w-1): fencing a " +
		"running node force-deletes pods that may still be running and writing; stop the region first, or give --force\n"
	if code != ExitFailed || out != "" || errOut != wantRefusal {
		t.Fatalf("fence of a Ready region: exit %d, stdout %q, stderr %q; want exit 1 naming the Ready nodes", code, out, errOut)
	}
	if n := outOfService(t, client, model, "sto1"); n != 0 {
		t.Fatalf("refused fence tainted %d nodes", n)
	}

	// A one-replica StatefulSet in sto1.
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "db", Image: "db"}},
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
							Weight: 100,
							Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{
								Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"sto1"},
							}}},
						}},
					}},
				},
			},
		},
	}
	if _, err := client.AppsV1().StatefulSets("default").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first := waitPod(t, client, model, fenceWaitMoved, "sto1")
	t.Logf("db-0 runs on %s", first)

	// A two-replica Deployment patched as render patches it with
	// evictionSeconds 5: one replica per data region.
	webEviction := 5
	policy := spread.PolicyFor(model)
	policy.EvictionSeconds = &webEviction
	patched, _, err := spread.PatchStream([]byte(fenceWeb), policy)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := apply.Decode(patched)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(ctx, c.RESTConfig(), objs, "kubectl-stretch-test"); err != nil {
		t.Fatal(err)
	}
	waitWeb(t, client, model, fenceWaitMoved, map[string]int{"sto1": 1, "sto2": 1})

	start := time.Now()
	if err := c.Fail(ctx, "sto1"); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, fenceWaitNotReady)
	defer cancel()
	if err := c.WaitRegion(waitCtx, "sto1", false); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING fail -> sto1 NotReady in %s", time.Since(start).Round(time.Second))

	notReady := time.Now()
	// Unfenced, the StatefulSet's pod stays bound to the lost node.
	if p, err := client.CoreV1().Pods("default").Get(ctx, "db-0", metav1.GetOptions{}); err != nil || p.Spec.NodeName != first {
		t.Fatalf("before fence, db-0: %v, want it still on %s", err, first)
	}
	// The Deployment's lost replica is evicted after 5 s, not Kubernetes'
	// 300 s, and replaced in sto2: the bound is well under 300 s.
	waitWeb(t, client, model, fenceWaitEvicted, map[string]int{"sto2": 2})
	t.Logf("TIMING NotReady -> web back at 2 replicas in sto2 in %s (evictionSeconds %d)", time.Since(notReady).Round(time.Second), webEviction)
	if p, err := client.CoreV1().Pods("default").Get(ctx, "db-0", metav1.GetOptions{}); err != nil || p.Spec.NodeName != first {
		t.Fatalf("before fence, db-0: %v, want it still on %s", err, first)
	}
	code, out, errOut = run(t, "fence", "sto1", "-f", example, kc)
	n := len(regionNodes(model, "sto1"))
	if code != ExitOK || errOut != "" || strings.Count(out, " tainted "+fenceTaint+"\n") != n ||
		!strings.HasSuffix(out, fmt.Sprintf("region sto1 fenced: %d nodes tainted, 0 already tainted\n", n)) {
		t.Fatalf("fence of a NotReady region: exit %d, stdout %q, stderr %q; want %d nodes tainted", code, out, errOut, n)
	}
	if got := outOfService(t, client, model, "sto1"); got != n {
		t.Errorf("after fence, %d of %d sto1 nodes are out of service", got, n)
	}
	fenced := time.Now()
	moved := waitPod(t, client, model, fenceWaitMoved, "sto2")
	t.Logf("TIMING fence -> db-0 Running on %s in sto2 in %s", moved, time.Since(fenced).Round(time.Second))

	code, out, _ = run(t, "fence", "sto1", "-f", example, kc)
	if code != ExitOK || out != fmt.Sprintf("region sto1 fenced: 0 nodes tainted, %d already tainted\n", n) {
		t.Errorf("second fence: exit %d, stdout %q; want nothing changed", code, out)
	}
	code, out, errOut = run(t, "unfence", "sto1", "-f", example, kc)
	if code != ExitOK || strings.Count(out, " untainted "+fenceTaint+"\n") != n {
		t.Errorf("unfence: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := outOfService(t, client, model, "sto1"); got != 0 {
		t.Errorf("after unfence, %d sto1 nodes are out of service", got)
	}
	// The node lifecycle controller's taints of the lost region stay.
	node, err := client.CoreV1().Nodes().Get(ctx, first, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == "node.kubernetes.io/unreachable" }) {
		t.Errorf("unfence removed other taints of %s: %v", first, node.Spec.Taints)
	}
}

// regionNodes returns the names of the topology's nodes in region.
func regionNodes(m *topology.Model, region string) []string {
	for _, r := range m.Regions {
		if r.Name == region {
			return r.Nodes
		}
	}
	return nil
}

// outOfService counts the nodes of region with the out-of-service taint.
func outOfService(t *testing.T, client kubernetes.Interface, m *topology.Model, region string) int {
	t.Helper()
	n := 0
	for _, name := range regionNodes(m, region) {
		node, err := client.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == fence.TaintKey }) {
			n++
		}
	}
	return n
}

// waitPod waits until db-0 is Running, not terminating, on a node of region,
// and returns the node.
func waitPod(t *testing.T, client kubernetes.Interface, m *topology.Model, bound time.Duration, region string) string {
	t.Helper()
	var node, last string
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, bound, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods("default").Get(ctx, "db-0", metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("db-0 %s on %q, deleting %v", p.Status.Phase, p.Spec.NodeName, p.DeletionTimestamp != nil)
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !slices.Contains(regionNodes(m, region), p.Spec.NodeName) {
			return false, nil
		}
		node = p.Spec.NodeName
		return true, nil
	})
	if errors.Is(err, context.DeadlineExceeded) || err != nil {
		t.Fatalf("db-0 not Running in %s within %s: %s", region, bound, last)
	}
	return node
}

// exampleCluster starts a simulated cluster of the example topology for a
// live test and returns it, the example's model and a client of it.
func exampleCluster(t *testing.T) (*sim.Cluster, *topology.Model, kubernetes.Interface) {
	t.Helper()
	f, err := topology.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	model := topology.NewModel(f.Topology)
	c := sim.StartClusterForTest(t, model)
	return c, model, kubernetes.NewForConfigOrDie(c.RESTConfig())
}
