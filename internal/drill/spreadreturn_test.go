package drill

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

func zoneNode(name, zone string, taints ...corev1.Taint) corev1.Node {
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"topology.kubernetes.io/zone": zone}},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
}

// spreadPod is a storefront pod on node with render's zone constraint
// (maxSkew 1, DoNotSchedule, nodeTaintsPolicy Honor, matchLabelKeys
// pod-template-hash) and a ScheduleAnyway one on the hostname.
func spreadPod(name, node string) corev1.Pod {
	honor := corev1.NodeInclusionPolicyHonor
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront"}}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "storefront", "pod-template-hash": "abc"}},
		Spec: corev1.PodSpec{
			NodeName: node,
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
					LabelSelector: sel, NodeTaintsPolicy: &honor, MatchLabelKeys: []string{"pod-template-hash"}},
				{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel},
			},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// TestWorkloadSkews checks the skew as PodTopologySpread computes it: an
// empty eligible zone counts zero; a zone whose nodes carry a taint the
// pods do not tolerate is no domain under nodeTaintsPolicy Honor;
// terminating, Pending and other revisions' pods do not count.
func TestWorkloadSkews(t *testing.T) {
	t.Parallel()
	unreachable := corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoSchedule}
	w := SpreadWorkload{Kind: "Deployment", Namespace: "shop", Name: "storefront",
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront"}}}
	terminating := spreadPod("c", "sto2-a")
	terminating.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	oldRevision := spreadPod("d", "sto2-a")
	oldRevision.Labels["pod-template-hash"] = "old"
	pending := spreadPod("e", "")
	both := []corev1.Pod{spreadPod("a", "sto2-a"), spreadPod("b", "sto2-b"), terminating, oldRevision, pending}
	for _, tc := range []struct {
		name  string
		nodes []corev1.Node
		pods  []corev1.Pod
		skew  int
	}{
		{"sto1 back and empty", []corev1.Node{zoneNode("sto1-a", "sto1"), zoneNode("sto2-a", "sto2"), zoneNode("sto2-b", "sto2")}, both, 2},
		{"sto1 still tainted", []corev1.Node{zoneNode("sto1-a", "sto1", unreachable), zoneNode("sto2-a", "sto2"), zoneNode("sto2-b", "sto2")}, both, 0},
		{"one in each", []corev1.Node{zoneNode("sto1-a", "sto1"), zoneNode("sto2-a", "sto2")},
			[]corev1.Pod{spreadPod("a", "sto2-a"), spreadPod("b", "sto1-a"), terminating}, 0},
	} {
		skews, err := workloadSkews(w, tc.pods, tc.nodes, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(skews) == 0 {
			t.Fatalf("%s: no skews", tc.name)
		}
		for _, s := range skews {
			if s.TopologyKey != "topology.kubernetes.io/zone" {
				t.Errorf("%s: skew of %s, want only the DoNotSchedule zone constraint", tc.name, s.TopologyKey)
			}
		}
		if got := skews[0].Skew; got != tc.skew {
			t.Errorf("%s: skew %d (counts %v), want %d", tc.name, got, skews[0].Counts, tc.skew)
		}
		if within(skews) != (tc.skew <= 1) {
			t.Errorf("%s: within %v for skew %d", tc.name, within(skews), tc.skew)
		}
	}
	skews, err := workloadSkews(w, both, []corev1.Node{zoneNode("sto1-a", "sto1"), zoneNode("sto2-a", "sto2")}, true)
	if err != nil || len(skews) != 6 {
		t.Fatalf("with ScheduleAnyway: %v, %d skews, want both constraints of the three running pods", err, len(skews))
	}
	if none, _ := workloadSkews(w, []corev1.Pod{pending}, nil, false); none != nil {
		t.Errorf("no running pod: skews %v, want nil (nothing to judge)", none)
	}
}

// TestWaitSpreadReturn runs the wait against a fake client (pure logic:
// the live test on the simulated cluster is TestSpreadReturnsWithDescheduler):
// a spread already within maxSkew returns at once and is recorded on the
// report; a skewed one does not return before the context ends.
func TestWaitSpreadReturn(t *testing.T) {
	t.Parallel()
	n1, n2 := zoneNode("sto1-a", "sto1"), zoneNode("sto2-a", "sto2")
	a, b := spreadPod("a", "sto1-a"), spreadPod("b", "sto2-a")
	w := SpreadWorkload{Kind: "Deployment", Namespace: "shop", Name: "storefront",
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront"}}}
	client := fake.NewClientset(&n1, &n2, &a, &b)
	rs, err := WaitSpreadReturn(t.Context(), client, []SpreadWorkload{w}, SpreadOptions{Poll: 10 * time.Millisecond})
	if err != nil || len(rs) != 1 || !rs[0].Returned {
		t.Fatalf("balanced: %v, %+v; want returned", err, rs)
	}
	rep := &Report{DrillReport: v1alpha1.DrillReport{Workloads: []v1alpha1.DrillWorkload{
		{Kind: "Deployment", Namespace: "shop", Name: "storefront"},
		{Kind: "StatefulSet", Namespace: "shop", Name: "orders-db"},
	}}}
	rep.SetSpreadReturns(rs)
	if got := rep.Workloads[0].SpreadReturnSeconds; got == nil || *got != 1 {
		t.Errorf("storefront's spreadReturnSeconds %v, want 1 (rounded up)", got)
	}
	if got := rep.Workloads[1].SpreadReturnSeconds; got != nil {
		t.Errorf("orders-db was not measured, has %d", *got)
	}

	b.Spec.NodeName = "sto1-a"
	client = fake.NewClientset(&n1, &n2, &a, &b)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	rs, err = WaitSpreadReturn(ctx, client, []SpreadWorkload{w}, SpreadOptions{Poll: 10 * time.Millisecond})
	if err == nil || rs[0].Returned || rs[0].Seconds() != nil || rs[0].Skews[0].Skew != 2 {
		t.Errorf("skewed: %v, %+v; want not returned with skew 2 and the context's error", err, rs)
	}
}
