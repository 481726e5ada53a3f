package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// FuzzPostRender feeds any stream to `kubectl stretch post-render` as Helm
// does and checks that the command exits 0 with output, or 1 with one
// error message and no output, and never panics or prints a Go stack.
func FuzzPostRender(f *testing.F) {
	seeds, err := filepath.Glob("../../../testdata/spread/*/input.yaml")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("---\n"))
	f.Add([]byte("kind: List\nitems: [1]\n"))
	f.Add([]byte("a: \xff\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: bytes.NewReader(in), Out: &out, ErrOut: &errOut}
		code := Run(context.Background(), streams, []string{"post-render", "-f", "../../../testdata/topology.yaml"})
		stderr := errOut.String()
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Fatalf("a Go stack or panic on stderr:\n%s", stderr)
		}
		switch code {
		case ExitOK:
		case ExitFailed:
			if out.Len() > 0 || !strings.HasPrefix(stderr, "error: post-render: ") {
				t.Fatalf("exit 1 with %d bytes of output and stderr %q", out.Len(), stderr)
			}
		default:
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}
