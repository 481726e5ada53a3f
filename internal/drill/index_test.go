package drill

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/drill/drilltest"
)

// TestSpreadCountsKeptUpToDate places every workload's replacements on a
// generated cluster whose workers fill up (so that replacements are
// placed, and some are pending), and checks after each workload that the
// counts placed kept up to date are those spreadCounts gives when it
// counts again from the running pods.
func TestSpreadCountsKeptUpToDate(t *testing.T) {
	shape := drilltest.Scale()
	shape.Workers, shape.Deployments, shape.StatefulSets, shape.BarePods = 24, 48, 12, 40
	gen, _, err := drilltest.Generate(shape, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, lost := range []string{"sto1", "sto2"} {
		s := gen.Snapshot()
		c := newCluster(s, gen.Model, lost)
		placed, checked := 0, 0
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
			for _, e := range c.spreadEntries {
				for i, kept := range e.counts {
					c.spreadCache = nil
					fresh := c.spreadCounts(e.pod, i, e.pod.Spec.TopologySpreadConstraints[i])
					if !maps.Equal(kept.counts, fresh.counts) || kept.min != fresh.min {
						t.Fatalf("losing %s, %s/%s constraint %d: kept counts %v (least %d), counted again %v (least %d)",
							lost, w.namespace, w.name, i, kept.counts, kept.min, fresh.counts, fresh.min)
					}
					checked++
				}
			}
		}
		if placed == 0 || checked == 0 {
			t.Fatalf("losing %s: %d replacements placed, %d counts checked: the test checks nothing", lost, placed, checked)
		}
		t.Logf("losing %s: %d replacements placed, %d counts checked", lost, placed, checked)
	}
}
