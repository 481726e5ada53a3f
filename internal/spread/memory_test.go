package spread

import (
	"runtime"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// maxAllocPerInputByte bounds what PatchStream allocates, in all, per byte
// of input. The decoded yaml.v3 tree and the nodes the patch adds to every
// workload are most of it; docs/BENCHMARKS.md records the peak memory of
// post-render, which follows the same multiple. The bound catches a
// change that copies the stream once more.
const maxAllocPerInputByte = 110

// TestPatchStreamAllocations checks that patching allocates at most
// maxAllocPerInputByte times its input.
func TestPatchStreamAllocations(t *testing.T) {
	in := spreadtest.Corpus(400, 100)
	p := testPolicy()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, _, err := PatchStream(in, p); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	perByte := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(in))
	t.Logf("%d bytes in, %.1f bytes allocated per input byte", len(in), perByte)
	if perByte > maxAllocPerInputByte {
		t.Errorf("PatchStream allocated %.1f bytes per input byte; the bound is %d", perByte, maxAllocPerInputByte)
	}
}
