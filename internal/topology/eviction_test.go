package topology

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestEvictionSeconds checks spec.workloads.evictionSeconds: unset stays
// nil (Kubernetes' 300 s), 0 and 3600 are kept, and anything outside them
// is refused with the field and its line.
func TestEvictionSeconds(t *testing.T) {
	t.Parallel()
	example, withWorkloads := exampleWithWorkloads(t)
	f, err := Parse([]byte(example), "topology.yaml")
	if err != nil {
		t.Fatalf("the example: %v", err)
	}
	if got := NewModel(f.Topology).Workloads.EvictionSeconds; got != nil {
		t.Errorf("unset evictionSeconds: model has %d, want nil", *got)
	}
	for _, tc := range []struct {
		value string
		want  int    // when valid
		err   string // when invalid
	}{
		{value: "0", want: 0},
		{value: "30", want: 30},
		{value: "3600", want: 3600},
		{value: "-1", err: "topology.yaml:49:22: spec.workloads.evictionSeconds: must be 0 to 3600 seconds (unset: Kubernetes' default of 300), got -1"},
		{value: "3601", err: "topology.yaml:49:22: spec.workloads.evictionSeconds: must be 0 to 3600 seconds (unset: Kubernetes' default of 300), got 3601"},
		{value: "thirty", err: "topology.yaml:49"},
	} {
		data := withWorkloads("evictionSeconds: " + tc.value)
		f, err := Parse([]byte(data), "topology.yaml")
		if tc.err != "" {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("evictionSeconds %s: error %v, want one containing %q", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("evictionSeconds %s: %v", tc.value, err)
			continue
		}
		got := NewModel(f.Topology).Workloads.EvictionSeconds
		if got == nil || *got != tc.want {
			t.Errorf("evictionSeconds %s: model has %v, want %d", tc.value, got, tc.want)
		}
	}
}

// exampleWithWorkloads returns the example topology and a function that
// returns it with one more line under spec.workloads (after minReplicas),
// where the line numbers the tests expect put it.
func exampleWithWorkloads(t *testing.T) (string, func(line string) string) {
	t.Helper()
	data, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	example := string(data)
	const at = "    minReplicas: 2\n"
	if !strings.Contains(example, at) {
		t.Fatalf("the example has no line %q", at)
	}
	return example, func(line string) string { return strings.Replace(example, at, at+"    "+line+"\n", 1) }
}
