package drill

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/drill/drilltest"
)

var update = flag.Bool("update", false, "rewrite the expected reports under testdata/generated")

// TestPredictGenerated predicts the loss of sto1, with and without the
// fence, on a generated cluster whose surviving workers fill up (so that
// replacements are placed, some pending with topology spread's reasons),
// with pod affinity and anti-affinity, and compares the whole report with
// the one under testdata/generated. Those were written by the placement
// that recounted every pod for every replacement, before the counts were
// kept up to date (index.go): the faster placement predicts the same.
func TestPredictGenerated(t *testing.T) {
	shape := drilltest.Scale()
	shape.Workers, shape.Deployments, shape.StatefulSets, shape.BarePods = 24, 48, 12, 40
	gen, _, err := drilltest.Generate(shape, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		opts Options
	}{{"lose-sto1.json", Options{}}, {"lose-sto1-fenced.json", Options{Fence: true}}} {
		r := Predict(gen.Snapshot(), gen.Model, "sto1", tc.opts)
		got, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "generated", tc.file)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/drill -run TestPredictGenerated -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the report differs from %s (%s; run with -update and look at the diff)", tc.file, path, r.SummaryLine())
		}
	}
}
