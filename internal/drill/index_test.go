package drill

import (
	"maps"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/drill/drilltest"
)

// TestCountsKeptUpToDate places every workload's replacements on a
// generated cluster whose workers fill up (so that replacements are
// placed, and some are pending), with pod affinity and anti-affinity, and
// checks after each workload that the topology spread and inter-pod
// affinity counts placed kept up to date are those countSpread and
// countAffinity give when they count again from the running and bound
// pods.
func TestCountsKeptUpToDate(t *testing.T) {
	shape := drilltest.Scale()
	shape.Workers, shape.Deployments, shape.StatefulSets, shape.BarePods = 24, 48, 12, 40
	gen, _, err := drilltest.Generate(shape, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, lost := range []string{"sto1", "sto2"} {
		s := gen.Snapshot()
		c := newCluster(s, gen.Model, lost)
		placed, spreads, affinities, existing := 0, 0, 0, 0
		for _, w := range c.workloads(s) {
			var gone []*corev1.Pod
			for _, p := range w.pods {
				if c.isLost(p.Spec.NodeName) {
					gone = append(gone, p)
				}
			}
			if len(gone) == 0 || w.kind == "DaemonSet" || w.bare {
				continue
			}
			before := len(c.running)
			c.place(gone)
			placed += len(c.running) - before
			for _, st := range c.templates {
				if st.spread != nil {
					fresh := c.countSpread(st.pod)
					for i, kept := range st.spread {
						if !maps.Equal(kept.counts, fresh[i].counts) || kept.min != fresh[i].min {
							t.Fatalf("losing %s, %s/%s constraint %d: kept counts %v (minimum %d), counted again %v (minimum %d)",
								lost, w.namespace, w.name, i, kept.counts, kept.min, fresh[i].counts, fresh[i].min)
						}
						spreads++
					}
				}
				if kept := st.affinity; kept != nil {
					fresh := c.countAffinity(st.pod)
					if !maps.Equal(kept.affinityCounts, fresh.affinityCounts) || !maps.Equal(kept.antiCounts, fresh.antiCounts) ||
						!maps.EqualFunc(kept.existingAnti, fresh.existingAnti, func(a, b []string) bool { return reflect.DeepEqual(a, b) }) {
						t.Fatalf("losing %s, %s/%s: kept affinity %v %v %v, counted again %v %v %v", lost, w.namespace, w.name,
							kept.affinityCounts, kept.antiCounts, kept.existingAnti, fresh.affinityCounts, fresh.antiCounts, fresh.existingAnti)
					}
					if len(kept.affinityCounts)+len(kept.antiCounts) > 0 {
						affinities++
					}
					if len(kept.existingAnti) > 0 {
						existing++
					}
				}
			}
		}
		if placed == 0 || spreads == 0 || affinities == 0 || existing == 0 {
			t.Fatalf("losing %s: %d replacements placed, %d spread counts, %d affinity counts and %d existing anti-affinities checked: the test checks too little",
				lost, placed, spreads, affinities, existing)
		}
		t.Logf("losing %s: %d replacements placed, %d spread counts, %d affinity counts and %d existing anti-affinities checked", lost, placed, spreads, affinities, existing)
	}
}
