package bundle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestManifestEncode(t *testing.T) {
	t.Parallel()
	m := &Manifest{Entries: []ManifestEntry{
		{Path: "storage/rook/cluster.yaml", Layer: "storage", SHA256: sha("c")},
		{Path: "kubespray/hosts.yaml", Layer: "kubespray", SHA256: sha("h")},
	}}
	want := "# kubectl-stretch manifest v1: files owned by kubectl stretch render; do not edit\n" +
		"aaa9402664f1a41f40ebbc52c9993eb66aeb366602958fdfaa283b71e64db123  kubespray  kubespray/hosts.yaml\n" +
		"2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6  storage  storage/rook/cluster.yaml\n"
	diffStrings(t, "Encode", string(m.Encode()), want)
	if m.Entries[0].Path != "storage/rook/cluster.yaml" {
		t.Errorf("Encode reordered the manifest's entries")
	}
	if got := string((&Manifest{}).Encode()); got != ManifestHeader+"\n" {
		t.Errorf("empty manifest = %q, want the header alone", got)
	}
}

func TestParseManifestRoundTrip(t *testing.T) {
	t.Parallel()
	want := &Manifest{Entries: []ManifestEntry{
		{Path: "a b/with space.yaml", Layer: "network", SHA256: sha("1")},
		{Path: "kustomization.yaml", Layer: "flux", SHA256: sha("2")},
		{Path: "storage/x.yaml", Layer: "storage", SHA256: sha("3")},
	}}
	got, err := ParseManifest("m", want.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseManifest(Encode()) = %+v, want %+v", got, want)
	}
}

func TestParseManifestSortsEntries(t *testing.T) {
	t.Parallel()
	text := ManifestHeader + "\n" + sha("b") + "  l  b\n" + sha("a") + "  l  a\n"
	got, err := ParseManifest("m", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{Entries: []ManifestEntry{{"a", "l", sha("a")}, {"b", "l", sha("b")}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseManifestErrors(t *testing.T) {
	t.Parallel()
	h := ManifestHeader + "\n"
	good := sha("x")
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", `invalid manifest: m:1: empty file, want the header "` + ManifestHeader + `"`},
		{"no header", good + "  l  a\n", `invalid manifest: m:1: got "` + good + `  l  a", want the header "` + ManifestHeader + `"`},
		{"one space", h + good + " l a\n", `invalid manifest: m:2: got "` + good + ` l a", want "<sha256>  <layer>  <path>"`},
		{"blank line", h + "\n", `invalid manifest: m:2: got "", want "<sha256>  <layer>  <path>"`},
		{"short hash", h + "abc  l  a\n", `invalid manifest: m:2: invalid sha256 "abc": want 64 lower-case hex digits`},
		{"upper-case hash", h + strings.ToUpper(good) + "  l  a\n", `invalid manifest: m:2: invalid sha256 "` + strings.ToUpper(good) + `": want 64 lower-case hex digits`},
		{"bad layer", h + good + "  l!  a\n", `invalid manifest: m:2: layer "l!": only letters, digits, '.', '_' and '-' are allowed`},
		{"escaping path", h + good + "  l  ../../etc/passwd\n", `invalid manifest: m:2: path "../../etc/passwd": must not contain ".."`},
		{"absolute path", h + good + "  l  /etc/passwd\n", `invalid manifest: m:2: path "/etc/passwd": must be relative`},
		{"duplicate", h + good + "  l  a\n" + good + "  l  b\n" + good + "  m  a\n", `invalid manifest: m:4: path "a": duplicate of line 2`},
		{"parent file", h + good + "  l  a/b\n" + good + "  l  a\n", `invalid manifest: m:2: path "a/b": its parent "a" is also a file (line 3)`},
		{
			"merge conflict, every line reported",
			h + "<<<<<<< HEAD\n" + good + "  l  a\n=======\n" + good + "  l  b\n>>>>>>> branch\n",
			"invalid manifest: m:2: got \"<<<<<<< HEAD\", want \"<sha256>  <layer>  <path>\"\n" +
				"m:4: got \"=======\", want \"<sha256>  <layer>  <path>\"\n" +
				"m:6: got \">>>>>>> branch\", want \"<sha256>  <layer>  <path>\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseManifest("m", []byte(tt.text))
			if err == nil {
				t.Fatalf("ParseManifest = %+v, want error %q", m, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestReadManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := ReadManifest(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadManifest of an empty directory: %v, want fs.ErrNotExist", err)
	}
	writeFiles(t, dir, map[string]string{ManifestPath: ManifestHeader + "\n" + sha("a") + "  l  a\nnonsense\n"})
	_, err = ReadManifest(dir)
	name := filepath.Join(dir, ".stretch", "manifest")
	want := `invalid manifest: ` + name + `:3: got "nonsense", want "<sha256>  <layer>  <path>"`
	if err == nil || err.Error() != want {
		t.Errorf("ReadManifest error:\n got %v\nwant %s", err, want)
	}
	if err := os.WriteFile(name, []byte(ManifestHeader+"\n"+sha("a")+"  l  a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Manifest{Entries: []ManifestEntry{{"a", "l", sha("a")}}}); !reflect.DeepEqual(m, want) {
		t.Errorf("ReadManifest = %+v, want %+v", m, want)
	}
}
