package spread

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// patchWhole is the reference of PatchStream's two passes: the whole
// stream decoded in one piece, patched by run and encoded document by
// document, the added budgets last.
func patchWhole(in []byte, p Policy) ([]byte, *Result, error) {
	docs, pos, err := decodeSequential(in)
	if err != nil {
		return nil, nil, err
	}
	roots := make([]*yaml.Node, len(docs))
	for i, d := range docs {
		roots[i] = d.Content[0]
	}
	res, err := run(roots, pos, p)
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	for i, d := range docs {
		if err := encodeDoc(&out, d, i > 0); err != nil {
			return nil, nil, err
		}
	}
	for i, a := range res.Added {
		if err := encodeDoc(&out, a.YNode(), len(docs)+i > 0); err != nil {
			return nil, nil, err
		}
	}
	return out.Bytes(), res, nil
}

// TestPatchStreamTwoPasses checks that PatchStream, which reads the stream
// twice and keeps only facts between the passes, gives the bytes, findings
// and budgets of a patch of the whole decoded stream: on every case, and on
// all cases joined into one large stream, repeated so that it is read in
// chunks at once and autoscalers, budgets, claims and workloads of the
// same names meet across documents and chunks.
func TestPatchStreamTwoPasses(t *testing.T) {
	var all [][]byte
	for _, dir := range caseDirs(t) {
		_, in := loadCase(t, dir)
		all = append(all, in)
	}
	var joined, reversed []byte
	for _, in := range all {
		joined = append(append(joined, in...), "\n---\n"...)
	}
	for i := len(all) - 1; i >= 0; i-- {
		reversed = append(append(reversed, all[i]...), "\n---\n"...)
	}
	inputs := map[string][]byte{
		"joined":   bytes.Repeat(joined, 1+minParallelDecode/max(1, len(joined))),
		"reversed": bytes.Repeat(reversed, 2+2*minParallelDecode/max(1, len(reversed))),
	}
	for i, in := range all {
		inputs[fmt.Sprint("case ", i)] = in
	}
	// Errors in a later chunk: a document that does not decode, and
	// objects that are not Kubernetes objects, numbered in the stream.
	large := inputs["joined"]
	inputs["syntax error"] = append(append(large[:len(large):len(large)], "a: [b\n---\n"...), large...)
	inputs["bad objects"] = append(append(large[:len(large):len(large)], "- a\n---\nkind: 1\n---\n"...), large...)
	for name, in := range inputs {
		want, wantRes, wantErr := patchWhole(in, testPolicy())
		got, res, err := PatchStream(in, testPolicy())
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, want %v", name, err, wantErr)
			continue
		}
		if err != nil {
			if len(in) > minParallelDecode && !strings.Contains(name, "error") && !strings.Contains(name, "bad") {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if strings.Contains(name, "error") || strings.Contains(name, "bad") {
			t.Errorf("%s: no error", name)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the whole-stream patch's %d", name, len(got), len(want))
		}
		if !reflect.DeepEqual(res.Findings, wantRes.Findings) {
			t.Errorf("%s: %d findings differ from the whole-stream patch's %d", name, len(res.Findings), len(wantRes.Findings))
		}
		if len(res.Added) != len(wantRes.Added) {
			t.Errorf("%s: added %d budgets, want %d", name, len(res.Added), len(wantRes.Added))
		}
	}
}
