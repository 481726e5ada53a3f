package app

import (
	"context"
	"io"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// endless is an input that never ends, like /dev/zero on standard input.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	return len(p), nil
}

// TestStdinCap feeds post-render and fn more than their cap, and an
// endless stream at the default cap: each stops reading at the cap and
// exits 1 with a message naming standard input and the limit, writing
// nothing on standard output.
func TestStdinCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   io.Reader
		args []string
		want string
	}{
		{"post-render over --max-input", strings.NewReader(strings.Repeat("# x\n", 300)),
			[]string{"post-render", "-f", example, "--max-input", "1024"},
			"error: post-render: standard input: larger than the 1 KiB limit\n"},
		{"post-render, endless input", endless{},
			[]string{"post-render", "-f", example},
			"error: post-render: standard input: larger than the 32 MiB limit\n"},
		{"fn over --max-input", strings.NewReader(strings.Repeat("# x\n", 300)),
			[]string{"fn", "--max-input", "1024"},
			"error: fn: standard input: larger than the 1 KiB limit\n"},
		{"fn, endless input", endless{},
			[]string{"fn"},
			"error: fn: standard input: larger than the 32 MiB limit\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			streams.In = tc.in
			code := Run(context.Background(), streams, tc.args)
			if code != ExitFailed || errOut.String() != tc.want || out.Len() != 0 {
				t.Errorf("exit %d, stdout %d bytes, stderr %q; want exit %d, no output, %q", code, out.Len(), errOut.String(), ExitFailed, tc.want)
			}
		})
	}
	code, _, stderr := run(t, "post-render", "-f", example, "--max-input", "0")
	if code != ExitError || !strings.Contains(stderr, "--max-input 0: give a positive number of bytes") {
		t.Errorf("--max-input 0: exit %d, %q", code, stderr)
	}
}
