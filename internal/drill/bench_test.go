package drill

import (
	"os"
	"sync"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/drill/drilltest"
)

// scaleCluster is drilltest.Scale's cluster, generated once for the
// benchmarks.
var scaleCluster = sync.OnceValues(func() (*drilltest.Cluster, error) {
	dir, err := os.MkdirTemp("", "drill-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	c, _, err := drilltest.Generate(drilltest.Scale(), dir)
	return c, err
})

// BenchmarkPredict predicts the loss of sto1 and, fenced, on an in-memory
// snapshot of 1,000 nodes and 20,000 pods (drilltest.Scale): the
// prediction alone, without the API.
func BenchmarkPredict(b *testing.B) {
	c, err := scaleCluster()
	if err != nil {
		b.Fatal(err)
	}
	snap := c.Snapshot()
	for _, tc := range []struct {
		name string
		opts Options
	}{{"lose-sto1", Options{}}, {"lose-sto1-fenced", Options{Fence: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var r *Report
			for b.Loop() {
				r = Predict(snap, c.Model, "sto1", tc.opts)
			}
			n := map[v1alpha1.Verdict]int{}
			for _, w := range r.Workloads {
				n[w.Verdict]++
			}
			if n[v1alpha1.VerdictRecovers] == 0 || len(r.Workloads) < 1000 {
				b.Fatalf("nothing recovers: %s", r.SummaryLine())
			}
			b.Logf("%s", r.SummaryLine())
		})
	}
}
