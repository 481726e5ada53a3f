package spread

import (
	"runtime"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// maxAllocPerInputByte bounds what PatchStream allocates, in all, per byte
// of input. The two decodes of the yaml.v3 tree (one per pass) and the
// nodes the patch adds to every workload are most of it; little of it is
// live at once (TestPatchStreamLiveMemory). The bound catches a change
// that copies the stream once more.
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

// maxLivePerInputByte bounds what PatchStream holds live, per byte of
// input and besides the input, after each of its passes: the facts of the
// first pass (about 3 times the input), then those, the findings and the
// encoded output (about 10 times). A patch that holds the decoded yaml.v3
// tree of the whole stream (about 18 times the input) fails both.
var maxLivePerInputByte = [...]float64{1: 4, 2: 13}

// TestPatchStreamLiveMemory checks that PatchStream drops the nodes of
// every document once it is read, and once it is patched and encoded.
func TestPatchStreamLiveMemory(t *testing.T) {
	in := spreadtest.Corpus(2000, 500)
	p := testPolicy()
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	live := map[int]float64{}
	afterPass = func(pass int) {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		live[pass] = float64(int64(m.HeapAlloc)-int64(base.HeapAlloc)) / float64(len(in))
	}
	defer func() { afterPass = nil }()
	if _, _, err := PatchStream(in, p); err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 {
		t.Fatalf("PatchStream made %d passes, want 2", len(live))
	}
	for pass := 1; pass <= 2; pass++ {
		t.Logf("%d bytes in, %.1f bytes live per input byte after pass %d", len(in), live[pass], pass)
		if live[pass] > maxLivePerInputByte[pass] {
			t.Errorf("after pass %d PatchStream held %.1f bytes per input byte; the bound is %g",
				pass, live[pass], maxLivePerInputByte[pass])
		}
	}
}
