package fence

import (
	"context"
	"errors"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const zone = "topology.kubernetes.io/zone"

func node(name, region string, ready bool, taints ...corev1.Taint) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{zone: region}},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}},
	}
}

var (
	unreachable = corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute}
	storage     = corev1.Taint{Key: "stretch.dev/storage", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	outOfSvc    = corev1.Taint{Key: TaintKey, Value: TaintValue, Effect: TaintEffect}
)

func taints(t *testing.T, c *fake.Clientset, name string) []corev1.Taint {
	t.Helper()
	n, err := c.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n.Spec.Taints
}

func keys(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key+"="+t.Value+":"+string(t.Effect))
	}
	return out
}

// TestFenceRefusesReadyNodes checks that Fence names the Ready nodes of the
// region and changes nothing, and that --force taints them anyway.
func TestFenceRefusesReadyNodes(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(node("sto1-b", "sto1", true), node("sto1-a", "sto1", false), node("sto2-a", "sto2", true))
	r := Region{ZoneKey: zone, Name: "sto1"}
	_, err := Fence(context.Background(), c, r, false, nil)
	var re *ReadyError
	if !errors.As(err, &re) || !errors.Is(err, ErrReady) || !slices.Equal(re.Nodes, []string{"sto1-b"}) ||
		err.Error() != "region sto1: 1 node is Ready (sto1-b): fencing a running node force-deletes pods that may still be running and writing; stop the region first, or give --force" {
		t.Fatalf("Fence of a region with a Ready node: %v, want a ReadyError naming sto1-b", err)
	}
	for _, n := range []string{"sto1-a", "sto1-b"} {
		if ts := taints(t, c, n); len(ts) != 0 {
			t.Errorf("refused Fence tainted %s: %v", n, keys(ts))
		}
	}
	res, err := Fence(context.Background(), c, r, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch, un := res.Count(); ch != 2 || un != 0 {
		t.Errorf("Fence --force changed %d, left %d; want 2 and 0", ch, un)
	}
	if ts := taints(t, c, "sto2-a"); len(ts) != 0 {
		t.Errorf("Fence of sto1 tainted sto2-a: %v", keys(ts))
	}
}

// TestFenceAndUnfence checks that Fence adds the taint next to the node's
// others, is idempotent, and that Unfence removes exactly it.
func TestFenceAndUnfence(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(
		node("sto1-a", "sto1", false, storage, unreachable),
		node("sto1-b", "sto1", false, outOfSvc),
	)
	r := Region{ZoneKey: zone, Name: "sto1"}
	var seen []Change
	res, err := Fence(context.Background(), c, r, false, func(ch Change) { seen = append(seen, ch) })
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Node: "sto1-a", Changed: true}, {Node: "sto1-b", Changed: false}}
	if !slices.Equal(res.Changes, want) || !slices.Equal(seen, want) {
		t.Errorf("Fence: %v, reported %v; want %v", res.Changes, seen, want)
	}
	if got, want := keys(taints(t, c, "sto1-a")), keys([]corev1.Taint{storage, unreachable, outOfSvc}); !slices.Equal(got, want) {
		t.Errorf("sto1-a after Fence: %v, want %v", got, want)
	}
	res, err = Fence(context.Background(), c, r, false, nil)
	if ch, un := res.Count(); err != nil || ch != 0 || un != 2 {
		t.Errorf("second Fence: %v, changed %d, unchanged %d; want nothing changed", err, ch, un)
	}
	res, err = Unfence(context.Background(), c, r, nil)
	if ch, _ := res.Count(); err != nil || ch != 2 {
		t.Errorf("Unfence: %v, changed %d; want 2", err, ch)
	}
	if got, want := keys(taints(t, c, "sto1-a")), keys([]corev1.Taint{storage, unreachable}); !slices.Equal(got, want) {
		t.Errorf("sto1-a after Unfence: %v, want %v", got, want)
	}
	if got := taints(t, c, "sto1-b"); len(got) != 0 {
		t.Errorf("sto1-b after Unfence: %v, want none", keys(got))
	}
	res, err = Unfence(context.Background(), c, r, nil)
	if ch, un := res.Count(); err != nil || ch != 0 || un != 2 {
		t.Errorf("second Unfence: %v, changed %d, unchanged %d; want nothing changed", err, ch, un)
	}
}

// TestFenceRetriesOnConflict checks that a node changed between the read and
// the patch is read and patched again, keeping the change.
func TestFenceRetriesOnConflict(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(node("sto1-a", "sto1", false))
	conflicts := 0
	c.PrependReactor("patch", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			conflicts++
			// Another writer adds a taint meanwhile.
			n, err := c.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, "", "sto1-a")
			if err != nil {
				return true, nil, err
			}
			nn := n.(*corev1.Node).DeepCopy()
			nn.Spec.Taints = append(nn.Spec.Taints, storage)
			if err := c.Tracker().Update(schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, nn, ""); err != nil {
				return true, nil, err
			}
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "nodes"}, "sto1-a", errors.New("changed"))
		}
		return false, nil, nil
	})
	if _, err := Fence(context.Background(), c, Region{ZoneKey: zone, Name: "sto1"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(taints(t, c, "sto1-a")), keys([]corev1.Taint{storage, outOfSvc}); conflicts != 1 || !slices.Equal(got, want) {
		t.Errorf("after a conflict: %d conflicts, taints %v; want 1 and %v", conflicts, got, want)
	}
}

// TestRegionWithoutNodes checks that a region no node is labelled with is
// an error, not an empty success.
func TestRegionWithoutNodes(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(node("sto1-a", "sto1", false))
	_, err := Fence(context.Background(), c, Region{ZoneKey: zone, Name: "sto3"}, false, nil)
	if err == nil || err.Error() != "region sto3 has no nodes labelled topology.kubernetes.io/zone=sto3" {
		t.Errorf("Fence of a region without nodes: %v", err)
	}
}
