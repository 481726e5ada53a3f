package bundle

import (
	"reflect"
	"testing"
)

func TestNewSortsByPath(t *testing.T) {
	t.Parallel()
	b := mustNew(t,
		file("storage/rook/cluster.yaml", "storage", "c"),
		file("kustomization.yaml", "flux", "k"),
		file("network/calico/felix.yaml", "network", "f"),
	)
	var got []string
	for _, f := range b.Files {
		got = append(got, f.Path)
	}
	want := []string{"kustomization.yaml", "network/calico/felix.yaml", "storage/rook/cluster.yaml"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths = %q, want %q", got, want)
	}
}

func TestNewDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	in := []File{file("b", "l", ""), file("a", "l", "")}
	mustNew(t, in...)
	if in[0].Path != "b" || in[1].Path != "a" {
		t.Errorf("New reordered its input: %q, %q", in[0].Path, in[1].Path)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []File
		want  string
	}{
		{"empty path", []File{file("", "l", "")}, `invalid bundle: empty path`},
		{"absolute", []File{file("/etc/passwd", "l", "")}, `invalid bundle: path "/etc/passwd": must be relative`},
		{"dot dot", []File{file("../x.yaml", "l", "")}, `invalid bundle: path "../x.yaml": must not contain ".."`},
		{"not clean", []File{file("a//b.yaml", "l", "")}, `invalid bundle: path "a//b.yaml": must be clean (path.Clean gives "a/b.yaml")`},
		{"dot slash", []File{file("./a.yaml", "l", "")}, `invalid bundle: path "./a.yaml": must be clean (path.Clean gives "a.yaml")`},
		{"trailing slash", []File{file("a/", "l", "")}, `invalid bundle: path "a/": must be clean (path.Clean gives "a")`},
		{"dot", []File{file(".", "l", "")}, `invalid bundle: path ".": must be clean (path.Clean gives ".")`},
		{"state dir", []File{file(".stretch/manifest", "l", "")}, `invalid bundle: path ".stretch/manifest": .stretch/ is reserved for kubectl stretch's own state`},
		{"state dir itself", []File{file(".stretch", "l", "")}, `invalid bundle: path ".stretch": .stretch/ is reserved for kubectl stretch's own state`},
		{"git dir", []File{file("sub/.git/config", "l", "")}, `invalid bundle: path "sub/.git/config": must not be inside a .git directory`},
		{"backslash", []File{file(`a\b.yaml`, "l", "")}, `invalid bundle: path "a\\b.yaml": contains a backslash; use forward slashes`},
		{"newline", []File{file("a\nb", "l", "")}, `invalid bundle: path "a\nb": contains a control character`},
		{"empty layer", []File{file("a", "", "")}, `invalid bundle: file "a": empty layer`},
		{"layer with space", []File{file("a", "my layer", "")}, `invalid bundle: file "a": layer "my layer": only letters, digits, '.', '_' and '-' are allowed`},
		{"duplicate", []File{file("a", "l", "1"), file("b", "l", ""), file("a", "l", "2"), file("a", "m", "3")}, `invalid bundle: path "a": duplicate`},
		{"file is a parent", []File{file("net/fw", "l", ""), file("net/fw/sto1.yaml", "l", "")}, `invalid bundle: path "net/fw/sto1.yaml": its parent "net/fw" is also a file`},
		{
			"all errors together",
			[]File{file("/a", "l", ""), file("b", "", ""), file("c/../d", "l", "")},
			"invalid bundle: path \"/a\": must be relative\nfile \"b\": empty layer\npath \"c/../d\": must be clean (path.Clean gives \"d\")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := New(tt.files)
			if err == nil {
				t.Fatalf("New = %+v, want error %q", b, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestBundleManifest(t *testing.T) {
	t.Parallel()
	b := mustNew(t, file("b.yaml", "storage", "bee\n"), file("a.yaml", "network", "ay\n"))
	want := &Manifest{Entries: []ManifestEntry{
		{Path: "a.yaml", Layer: "network", SHA256: sha("ay\n")},
		{Path: "b.yaml", Layer: "storage", SHA256: sha("bee\n")},
	}}
	if got := b.Manifest(); !reflect.DeepEqual(got, want) {
		t.Errorf("Manifest() = %+v, want %+v", got, want)
	}
}
