package apply

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []string // "apiVersion kind name" per object
		wantErr string
	}{
		{
			name: "documents, empty and comment-only ones skipped",
			in: `# leading comment
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
# only a comment
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: a}
`,
			want: []string{"v1 Namespace a", "apps/v1 Deployment b"},
		},
		{
			name: "a List is flattened",
			in: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c1}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c2}}
`,
			want: []string{"v1 ConfigMap c1", "v1 ConfigMap c2"},
		},
		{
			name: "JSON",
			in:   `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}`,
			want: []string{"v1 Secret s"},
		},
		{
			name:    "no kind",
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n",
			wantErr: "document 2: object has no kind",
		},
		{
			name:    "no apiVersion in a List item",
			in:      "apiVersion: v1\nkind: List\nitems:\n- {kind: ConfigMap}\n",
			wantErr: "document 1: item 0: object has no apiVersion",
		},
		{
			name:    "not an object",
			in:      "- a\n- b\n",
			wantErr: "document 1: not an object: json: cannot unmarshal array into Go value of type map[string]interface {}",
		},
		{
			name: "empty",
			in:   "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetAPIVersion()+" "+o.GetKind()+" "+o.GetName())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRejectedError(t *testing.T) {
	t.Parallel()
	errBad := errors.New("bad field")
	err := &RejectedError{Rejected: []Result{
		{APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "rook-ceph", Name: "c", Err: errBad},
		{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass", Name: "s", Err: errors.New("no")},
	}}
	want := "2 object(s) rejected:\n" +
		"  ceph.rook.io/v1 CephCluster rook-ceph/c: bad field\n" +
		"  storage.k8s.io/v1 StorageClass s: no"
	if err.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", err, want)
	}
	if !errors.Is(err, errBad) {
		t.Error("errors.Is does not see the rejected objects' errors")
	}
}
