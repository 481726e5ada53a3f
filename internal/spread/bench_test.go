package spread

import (
	"bytes"
	"errors"
	"io"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// TestLargeStream patches the benchmark corpus: every workload is spread
// and gets a budget, the run is deterministic, and patching the output
// again changes nothing.
func TestLargeStream(t *testing.T) {
	if testing.Short() {
		t.Skip("large stream")
	}
	in := spreadtest.Corpus(2000, 500)
	out, res, err := PatchStream(in, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2500 || len(res.Findings) != 2500*5 {
		t.Errorf("added %d objects and found %d findings, want 2500 and 12500", len(res.Added), len(res.Findings))
	}
	again, res2, err := PatchStream(out, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) || len(res2.Findings) != 0 || len(res2.Added) != 0 {
		t.Errorf("patching the output again gave %d findings, %d objects, same bytes %v",
			len(res2.Findings), len(res2.Added), bytes.Equal(again, out))
	}
	repeat, _, err := PatchStream(in, testPolicy())
	if err != nil || !bytes.Equal(repeat, out) {
		t.Errorf("a second run on the same input gave other bytes (error %v)", err)
	}
}

// BenchmarkPatchStream patches the corpus: decode, patch and encode.
func BenchmarkPatchStream(b *testing.B) {
	in := spreadtest.Corpus(2000, 500)
	p := testPolicy()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := PatchStream(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPatchStreamPatched patches the corpus's output again: the
// budgets are looked up, nothing changes.
func BenchmarkPatchStreamPatched(b *testing.B) {
	in, _, err := PatchStream(spreadtest.Corpus(2000, 500), testPolicy())
	if err != nil {
		b.Fatal(err)
	}
	p := testPolicy()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := PatchStream(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNodeRoundTrip is the floor of PatchStream: a bare decode and
// encode of the corpus with yaml.v3 nodes, without patching, one encoder
// per document as PatchStream does.
func BenchmarkNodeRoundTrip(b *testing.B) {
	in := spreadtest.Corpus(2000, 500)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dec := yaml.NewDecoder(bytes.NewReader(in))
		var out bytes.Buffer
		for i := 0; ; i++ {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			if err := encodeDoc(&out, &n, i > 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkUnstructuredRoundTrip is the "bare decode and encode"
// performance anchor: apimachinery's YAML reader and sigs.k8s.io/yaml into maps and
// back.
func BenchmarkUnstructuredRoundTrip(b *testing.B) {
	in := spreadtest.Corpus(2000, 500)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spreadtest.RoundTrip(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStream decodes the corpus into nodes, in one piece and in
// GOMAXPROCS chunks at once, as PatchStream does.
func BenchmarkDecodeStream(b *testing.B) {
	in := spreadtest.Corpus(2000, 500)
	for _, bc := range []struct {
		name   string
		decode func([]byte) ([]*yaml.Node, []int, error)
	}{
		{"sequential", decodeSequential},
		{"parallel", decodeStream},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := bc.decode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
