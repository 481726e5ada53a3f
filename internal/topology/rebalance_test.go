package topology

import (
	"slices"
	"strings"
	"testing"
)

// TestRebalanceModel checks spec.workloads.rebalance in the model: unset
// is nil (no descheduler); set, it keeps the interval and scheduleAnyway
// and excludes kube-system and the Rook namespace, whatever it is named.
func TestRebalanceModel(t *testing.T) {
	t.Parallel()
	example, withWorkloads := exampleWithWorkloads(t)
	f, err := Parse([]byte(example), "topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := NewModel(f.Topology).Workloads.Rebalance; r != nil {
		t.Errorf("unset rebalance: model has %+v, want nil", r)
	}
	data := withWorkloads("rebalance: {interval: 90s, scheduleAnyway: true}")
	for _, tc := range []struct {
		rook string // spec.storage.rook.namespace, "" for the default
		want []string
	}{
		{"", []string{"kube-system", "rook-ceph"}},
		{"ceph", []string{"ceph", "kube-system"}},
	} {
		text := data
		if tc.rook != "" {
			text = strings.Replace(text, "  storage:\n", "  storage:\n    rook: {namespace: "+tc.rook+"}\n", 1)
		}
		f, err := Parse([]byte(text), "topology.yaml")
		if err != nil {
			t.Fatalf("rook namespace %q: %v", tc.rook, err)
		}
		r := NewModel(f.Topology).Workloads.Rebalance
		if r == nil || r.Interval != "90s" || !r.ScheduleAnyway || !slices.Equal(r.ExcludedNamespaces, tc.want) {
			t.Errorf("rook namespace %q: model %+v, want interval 90s, scheduleAnyway, excluded %v", tc.rook, r, tc.want)
		}
	}
}
