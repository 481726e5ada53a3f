package spread

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzPatchStream checks that no input makes PatchStream panic, that it
// returns either output or a *DocumentError, and that its output patches
// again to the same bytes with no change.
func FuzzPatchStream(f *testing.F) {
	for _, dir := range caseDirs(f) {
		for _, name := range []string{"input.yaml", "expected.yaml"} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(goodDeployment))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\ndata: &a {x: *a}\n"))
	p := testPolicy()
	f.Fuzz(func(t *testing.T, in []byte) {
		out, res, err := PatchStream(in, p)
		if err != nil {
			var de *DocumentError
			if out != nil || res != nil || !errors.As(err, &de) {
				t.Fatalf("PatchStream = %q, %v, %T %v; want no output and a *DocumentError", out, res, err, err)
			}
			return
		}
		again, res2, err := PatchStream(out, p)
		if err != nil {
			t.Fatalf("the output does not patch again: %v\noutput:\n%s", err, out)
		}
		if res2.Changed() {
			t.Fatalf("patching the output again changed it: %+v\noutput:\n%s", res2.Findings, out)
		}
		if !bytes.Equal(again, out) && !bytes.Equal(withoutComments(t, again), withoutComments(t, out)) {
			t.Fatalf("patching the output again gave other bytes\nfirst:\n%s\nagain:\n%s", out, again)
		}
	})
}

// withoutComments re-encodes a stream without its comments. yaml.v3 does
// not always put a comment indented between two levels back where it read
// it, so the second pass may move such a comment; the golden tests check
// that comments in ordinary places keep their bytes.
func withoutComments(t *testing.T, data []byte) []byte {
	t.Helper()
	docs, _, err := decodeStream(data)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i, d := range docs {
		stripComments(d)
		if err := encodeDoc(&buf, d, i > 0); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func stripComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		stripComments(c)
	}
}
