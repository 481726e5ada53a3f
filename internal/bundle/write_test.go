package bundle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// demoBundle is a small bundle over three layers.
func demoBundle(t *testing.T) *Bundle {
	return mustNew(t,
		file("storage/rook/cluster.yaml", "storage", "kind: CephCluster\n"),
		file("network/calico/felix.yaml", "network", "kind: FelixConfiguration\n"),
		file("storage/rook/pool.yaml", "storage", "kind: CephBlockPool\n"),
		file("kustomization.yaml", "flux", "resources: []\n"),
	)
}

// checkResult compares a Result with the expected one, and checks that it
// knows the layer of every path it lists (for Commit's message).
func checkResult(t *testing.T, got, want *Result) {
	t.Helper()
	for _, list := range [][]string{got.Added, got.Changed, got.Unchanged, got.Adopted, got.Removed} {
		for _, p := range list {
			if got.layers[p] == "" {
				t.Errorf("Result has no layer for %s", p)
			}
		}
	}
	g := *got
	g.layers = nil
	g.gone = nil
	if !reflect.DeepEqual(&g, want) {
		t.Errorf("Result:\n got %+v\nwant %+v", &g, want)
	}
}

func TestWriteEmptyDirThenAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := demoBundle(t)

	res := mustWrite(t, dir, b)
	checkResult(t, res, &Result{
		Added:           []string{"kustomization.yaml", "network/calico/felix.yaml", "storage/rook/cluster.yaml", "storage/rook/pool.yaml"},
		ManifestChanged: true,
		Layers: []LayerSummary{
			{Layer: "flux", Added: 1},
			{Layer: "network", Added: 1},
			{Layer: "storage", Added: 2},
		},
	})
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText(
			[3]string{"flux", "kustomization.yaml", "resources: []\n"},
			[3]string{"network", "network/calico/felix.yaml", "kind: FelixConfiguration\n"},
			[3]string{"storage", "storage/rook/cluster.yaml", "kind: CephCluster\n"},
			[3]string{"storage", "storage/rook/pool.yaml", "kind: CephBlockPool\n"},
		), "\n", `\n`)+`"`,
		`kustomization.yaml = "resources: []\n"`,
		`network/`,
		`network/calico/`,
		`network/calico/felix.yaml = "kind: FelixConfiguration\n"`,
		`storage/`,
		`storage/rook/`,
		`storage/rook/cluster.yaml = "kind: CephCluster\n"`,
		`storage/rook/pool.yaml = "kind: CephBlockPool\n"`,
	))
	for _, p := range []string{"kustomization.yaml", "storage/rook/pool.yaml", ManifestPath} {
		info, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r--", p, info.Mode())
		}
	}

	ageFiles(t, dir)
	before := snapshot(t, dir)
	res = mustWrite(t, dir, b)
	checkResult(t, res, &Result{
		Unchanged: []string{"kustomization.yaml", "network/calico/felix.yaml", "storage/rook/cluster.yaml", "storage/rook/pool.yaml"},
		Layers: []LayerSummary{
			{Layer: "flux", Unchanged: 1},
			{Layer: "network", Unchanged: 1},
			{Layer: "storage", Unchanged: 2},
		},
	})
	if res.HasChanges() {
		t.Error("HasChanges() = true after an identical write")
	}
	// Same bytes, same modes and the same modification times: nothing
	// was rewritten.
	diffStrings(t, "snapshot after the second write", snapshot(t, dir), before)
}

func TestWriteCreatesMissingDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out", "prod")
	mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n")))
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText([3]string{"l", "a.yaml", "a\n"}), "\n", `\n`)+`"`,
		`a.yaml = "a\n"`,
	))
}

func TestWriteChangesOwnedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "v1\n"), file("b.yaml", "l", "v1\n"), file("c.yaml", "m", "v1\n")))
	// The user edits an owned file: render owns it, so it is overwritten.
	writeFiles(t, dir, map[string]string{"b.yaml": "edited\n"})
	res := mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "v2\n"), file("b.yaml", "l", "v1\n"), file("c.yaml", "m", "v1\n")))
	checkResult(t, res, &Result{
		Changed:         []string{"a.yaml", "b.yaml"},
		Unchanged:       []string{"c.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "l", Changed: 2}, {Layer: "m", Unchanged: 1}},
	})
	if got := readFile(t, dir, "a.yaml") + readFile(t, dir, "b.yaml"); got != "v2\nv1\n" {
		t.Errorf("content = %q", got)
	}
}

func TestWriteKeepsUserFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	user := map[string]string{
		"README.md":          "# my repo\n",
		"storage/notes.txt":  "remember the mons\n",
		"apps/shop/app.yaml": "kind: Deployment\n",
	}
	writeFiles(t, dir, user)
	v1 := mustNew(t,
		file("storage/rook/cluster.yaml", "storage", "c\n"),
		file("storage/pool.yaml", "storage", "p\n"),
		file("network/fw/sto1.yaml", "network", "fw\n"),
		file("flux/ks.yaml", "flux", "ks\n"),
	)
	mustWrite(t, dir, v1)
	for p, want := range user {
		if got := readFile(t, dir, p); got != want {
			t.Errorf("after the first render, %s = %q, want %q", p, got, want)
		}
	}

	// The second render drops the storage and network layers.
	res := mustWrite(t, dir, mustNew(t, file("flux/ks.yaml", "flux", "ks\n")))
	checkResult(t, res, &Result{
		Unchanged:       []string{"flux/ks.yaml"},
		Removed:         []string{"network/fw/sto1.yaml", "storage/pool.yaml", "storage/rook/cluster.yaml"},
		ManifestChanged: true,
		Layers: []LayerSummary{
			{Layer: "flux", Unchanged: 1},
			{Layer: "network", Removed: 1},
			{Layer: "storage", Removed: 2},
		},
	})
	// network/ became empty and is gone; storage/ still holds the user's
	// notes and stays.
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText([3]string{"flux", "flux/ks.yaml", "ks\n"}), "\n", `\n`)+`"`,
		`README.md = "# my repo\n"`,
		`apps/`,
		`apps/shop/`,
		`apps/shop/app.yaml = "kind: Deployment\n"`,
		`flux/`,
		`flux/ks.yaml = "ks\n"`,
		`storage/`,
		`storage/notes.txt = "remember the mons\n"`,
	))
}

func TestWriteAdoptsIdenticalFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "same\n"})
	ageFiles(t, dir)
	before := snapshot(t, dir)
	res := mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "same\n"), file("b.yaml", "l", "new\n")))
	checkResult(t, res, &Result{
		Added:           []string{"b.yaml"},
		Adopted:         []string{"a.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "l", Added: 1, Adopted: 1}},
	})
	after := snapshot(t, dir)
	if got, want := strings.Split(after, "\n")[2], strings.Split(before, "\n")[0]; got != want {
		t.Errorf("adopted file was rewritten:\n got %s\nwant %s", got, want)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{Entries: []ManifestEntry{{"a.yaml", "l", sha("same\n")}, {"b.yaml", "l", sha("new\n")}}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("manifest = %+v, want %+v", m, want)
	}
}

func TestWriteRefusesConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		files []File
		want  []Conflict
	}{
		{
			name:  "user file with other content",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"storage/pool.yaml": "mine\n"}) },
			files: []File{file("storage/pool.yaml", "storage", "rendered\n"), file("z.yaml", "l", "z\n")},
			want:  []Conflict{{"storage/pool.yaml", "exists with other content and is not in the manifest"}},
		},
		{
			name: "user file next to an earlier render",
			setup: func(t *testing.T, dir string) {
				mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n")))
				writeFiles(t, dir, map[string]string{"b.yaml": "mine\n"})
			},
			files: []File{file("a.yaml", "l", "a2\n"), file("b.yaml", "l", "b\n")},
			want:  []Conflict{{"b.yaml", "exists with other content and is not in the manifest"}},
		},
		{
			name:  "directory at the path",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"network/fw/mine.txt": "x"}) },
			files: []File{file("network/fw", "network", "fw\n")},
			want:  []Conflict{{"network/fw", "is a directory"}},
		},
		{
			name: "empty directory at the path",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "network", "fw"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			files: []File{file("network/fw", "network", "fw\n")},
			want:  []Conflict{{"network/fw", "is a directory"}},
		},
		{
			name:  "parent is a file",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"storage": "x"}) },
			files: []File{file("storage/rook/cluster.yaml", "storage", "c\n"), file("storage/pool.yaml", "storage", "p\n")},
			want: []Conflict{
				{"storage/pool.yaml", "cannot be created: its parent storage is a file"},
				{"storage/rook/cluster.yaml", "cannot be created: its parent storage is a file"},
			},
		},
		{
			name: "parent is a symbolic link",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(t.TempDir(), filepath.Join(dir, "storage")); err != nil {
					t.Fatal(err)
				}
			},
			files: []File{file("storage/pool.yaml", "storage", "p\n")},
			want:  []Conflict{{"storage/pool.yaml", "cannot be created: its parent storage is a symbolic link"}},
		},
		{
			name: "path is a symbolic link",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("elsewhere", filepath.Join(dir, "pool.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			files: []File{file("pool.yaml", "storage", "p\n")},
			want:  []Conflict{{"pool.yaml", "is a symbolic link"}},
		},
		{
			name:  "state directory is a file",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{".stretch": "x"}) },
			files: []File{file("a.yaml", "l", "a\n")},
			want:  []Conflict{{".stretch", "is not a directory, but kubectl stretch keeps its manifest there"}},
		},
		{
			name: "manifest is a directory",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, ".stretch", "manifest"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			files: []File{file("a.yaml", "l", "a\n")},
			want:  []Conflict{{".stretch/manifest", "is not a regular file"}},
		},
		{
			name: "stale file modified by the user is in the way",
			setup: func(t *testing.T, dir string) {
				mustWrite(t, dir, mustNew(t, file("network/fw", "network", "fw\n")))
				writeFiles(t, dir, map[string]string{"network/fw": "edited\n"})
			},
			files: []File{file("network/fw/sto1.yaml", "network", "fw\n")},
			want:  []Conflict{{"network/fw/sto1.yaml", "cannot be created: its parent network/fw is a file"}},
		},
		{
			name: "every conflict at once",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"a.yaml": "mine\n", "b/c.txt": "mine\n", "d.yaml": "same\n"})
			},
			files: []File{file("a.yaml", "l", "a\n"), file("b", "l", "b\n"), file("d.yaml", "l", "same\n"), file("e.yaml", "l", "e\n")},
			want: []Conflict{
				{"a.yaml", "exists with other content and is not in the manifest"},
				{"b", "is a directory"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.setup(t, dir)
			ageFiles(t, dir)
			before := snapshot(t, dir)

			res, err := Write(dir, mustNew(t, tt.files...))
			if err == nil {
				t.Fatalf("Write = %+v, want a conflict error", res)
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConflictError", err)
			}
			if !reflect.DeepEqual(ce.Conflicts, tt.want) {
				t.Errorf("conflicts:\n got %q\nwant %q", ce.Conflicts, tt.want)
			}
			diffStrings(t, "snapshot after the refused write", snapshot(t, dir), before)
		})
	}
}

func TestWriteConflictErrorMessage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "mine\n", "b/c.txt": "mine\n"})
	_, err := Write(dir, mustNew(t, file("a.yaml", "l", "a\n"), file("b", "l", "b\n")))
	want := "write bundle to " + dir + ": refusing to overwrite 2 path(s) that kubectl stretch render does not own: " +
		"a.yaml exists with other content and is not in the manifest; b is a directory (move or delete them, or render elsewhere)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestWriteRemovesStaleFilesAndPrunesDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t,
		file("storage/rook/a.yaml", "storage", "a\n"),
		file("storage/rook/deep/b.yaml", "storage", "b\n"),
		file("storage/c.yaml", "storage", "c\n"),
		file("flux/ks.yaml", "flux", "ks\n"),
		file("top.yaml", "flux", "top\n"),
	))
	if err := os.MkdirAll(filepath.Join(dir, "empty-user-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := mustWrite(t, dir, mustNew(t, file("flux/ks.yaml", "flux", "ks\n"), file("storage/c.yaml", "storage", "c\n")))
	checkResult(t, res, &Result{
		Unchanged:       []string{"flux/ks.yaml", "storage/c.yaml"},
		Removed:         []string{"storage/rook/a.yaml", "storage/rook/deep/b.yaml", "top.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "flux", Removed: 1, Unchanged: 1}, {Layer: "storage", Removed: 2, Unchanged: 1}},
	})
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText(
			[3]string{"flux", "flux/ks.yaml", "ks\n"},
			[3]string{"storage", "storage/c.yaml", "c\n"},
		), "\n", `\n`)+`"`,
		`empty-user-dir/`,
		`flux/`,
		`flux/ks.yaml = "ks\n"`,
		`storage/`,
		`storage/c.yaml = "c\n"`,
	))

	// An empty bundle removes every owned file but never dir itself.
	res = mustWrite(t, dir, mustNew(t))
	checkResult(t, res, &Result{
		Removed:         []string{"flux/ks.yaml", "storage/c.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "flux", Removed: 1}, {Layer: "storage", Removed: 1}},
	})
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText(), "\n", `\n`)+`"`,
		`empty-user-dir/`,
	))
}

func TestWriteKeepsStaleFileModifiedByUser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t, file("net/a.yaml", "network", "a\n"), file("net/b.yaml", "network", "b\n"), file("c.yaml", "flux", "c\n")))
	writeFiles(t, dir, map[string]string{"net/b.yaml": "b, tuned by hand\n"})

	res := mustWrite(t, dir, mustNew(t, file("c.yaml", "flux", "c\n")))
	checkResult(t, res, &Result{
		Unchanged:       []string{"c.yaml"},
		Removed:         []string{"net/a.yaml"},
		Kept:            []string{"net/b.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "flux", Unchanged: 1}, {Layer: "network", Removed: 1, Kept: 1}},
	})
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText([3]string{"flux", "c.yaml", "c\n"}), "\n", `\n`)+`"`,
		`c.yaml = "c\n"`,
		`net/`,
		`net/b.yaml = "b, tuned by hand\n"`,
	))

	// The kept file is the user's now: rendering it again is a conflict.
	_, err := Write(dir, mustNew(t, file("net/b.yaml", "network", "b\n")))
	var ce *ConflictError
	if !errors.As(err, &ce) || !reflect.DeepEqual(ce.Conflicts, []Conflict{{"net/b.yaml", reasonUnowned}}) {
		t.Errorf("rendering a kept file again: %v, want a conflict on net/b.yaml", err)
	}
}

func TestWriteStaleFileAlreadyGone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n"), file("b.yaml", "l", "b\n")))
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	res := mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n")))
	checkResult(t, res, &Result{
		Unchanged:       []string{"a.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "l", Unchanged: 1}},
	})
}

func TestWriteFileAndDirectorySwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A file becomes a directory.
	mustWrite(t, dir, mustNew(t, file("network/fw", "network", "all\n"), file("x.yaml", "l", "x\n")))
	res := mustWrite(t, dir, mustNew(t, file("network/fw/sto1.yaml", "network", "sto1\n"), file("x.yaml", "l", "x\n")))
	checkResult(t, res, &Result{
		Added:           []string{"network/fw/sto1.yaml"},
		Unchanged:       []string{"x.yaml"},
		Removed:         []string{"network/fw"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "l", Unchanged: 1}, {Layer: "network", Added: 1, Removed: 1}},
	})
	// And back: a directory of owned files becomes a file.
	res = mustWrite(t, dir, mustNew(t, file("network", "network", "flat\n"), file("x.yaml", "l", "x\n")))
	checkResult(t, res, &Result{
		Added:           []string{"network"},
		Unchanged:       []string{"x.yaml"},
		Removed:         []string{"network/fw/sto1.yaml"},
		ManifestChanged: true,
		Layers:          []LayerSummary{{Layer: "l", Unchanged: 1}, {Layer: "network", Added: 1, Removed: 1}},
	})
	diffStrings(t, "tree", tree(t, dir), lines(
		`.stretch/`,
		`.stretch/manifest = "`+strings.ReplaceAll(manifestText(
			[3]string{"network", "network", "flat\n"},
			[3]string{"l", "x.yaml", "x\n"},
		), "\n", `\n`)+`"`,
		`network = "flat\n"`,
		`x.yaml = "x\n"`,
	))
}

func TestWriteRejectsMalformedManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ManifestPath: ManifestHeader + "\n" + sha("a") + "  l  ../../etc/passwd\n"})
	before := snapshot(t, dir)
	_, err := Write(dir, mustNew(t, file("a.yaml", "l", "a\n")))
	want := "write bundle to " + dir + ": invalid manifest: " + filepath.Join(dir, ".stretch", "manifest") +
		`:2: path "../../etc/passwd": must not contain ".."`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	diffStrings(t, "snapshot", snapshot(t, dir), before)
}

func TestWriteValidatesBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Write(dir, &Bundle{Files: []File{file("../escape", "l", "")}})
	want := "write bundle to " + dir + `: invalid bundle: path "../escape": must not contain ".."`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if got := tree(t, dir); got != "" {
		t.Errorf("dir is not empty:\n%s", got)
	}
	if _, err := Write(dir, nil); err == nil || err.Error() != "write bundle to "+dir+": no bundle" {
		t.Errorf("Write(nil) error: %v", err)
	}
	if _, err := Check(dir, nil); err == nil || err.Error() != "check bundle in "+dir+": no bundle" {
		t.Errorf("Check(nil) error: %v", err)
	}
}

// tempFiles lists the temporary files of atomic writes left below dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ok, _ := filepath.Match(tempPattern, d.Name()); ok {
			found = append(found, name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestWriteLeavesNoTempFiles(t *testing.T) {
	t.Parallel()
	errInjected := errors.New("injected failure")
	// failWrite writes half of the data of storage/b.yaml, then fails.
	failWrite := func() fsOps {
		ops := osOps()
		ops.write = func(f *os.File, data []byte) error {
			if !strings.HasPrefix(string(data), "b2") {
				_, err := f.Write(data)
				return err
			}
			if _, err := f.Write(data[:len(data)/2]); err != nil {
				return err
			}
			return errInjected
		}
		return ops
	}
	// failRename fails to rename onto a file named base.
	failRename := func(base string) func() fsOps {
		return func() fsOps {
			ops := osOps()
			ops.rename = func(oldpath, newpath string) error {
				if filepath.Base(newpath) == base {
					return errInjected
				}
				return os.Rename(oldpath, newpath)
			}
			return ops
		}
	}
	tests := []struct {
		name    string
		ops     func() fsOps
		wantErr string
	}{
		{"no failure", osOps, ""},
		{"write of a file fails", failWrite, "write storage/b.yaml: write temporary file: injected failure"},
		{"rename of a file fails", failRename("b.yaml"), "write storage/b.yaml: rename temporary file: injected failure"},
		{"rename of the manifest fails", failRename("manifest"), "write .stretch/manifest: rename temporary file: injected failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mustWrite(t, dir, mustNew(t, file("storage/a.yaml", "storage", "a1\n"), file("storage/b.yaml", "storage", "b1\n")))
			next := mustNew(t,
				file("storage/a.yaml", "storage", "a2\n"),
				file("storage/b.yaml", "storage", "b2, long enough to be cut in half\n"),
				file("storage/c.yaml", "storage", "c2\n"),
			)
			_, err := write(dir, next, tt.ops())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("write: %v", err)
				}
			} else {
				want := "write bundle to " + dir + ": " + tt.wantErr + " (the next render recovers)"
				if err == nil || err.Error() != want {
					t.Fatalf("error:\n got %v\nwant %s", err, want)
				}
				if !errors.Is(err, errInjected) {
					t.Errorf("error %v does not wrap the injected failure", err)
				}
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left behind: %q", left)
			}
			// No file is ever half-written: each holds the old or the new
			// content.
			for _, p := range []string{"storage/a.yaml", "storage/b.yaml"} {
				got := readFile(t, dir, p)
				if !strings.HasSuffix(got, "\n") {
					t.Errorf("%s is half-written: %q", p, got)
				}
			}
			// The next write recovers and ends in the same state as a
			// write that never failed.
			mustWrite(t, dir, next)
			diffStrings(t, "tree after recovery", tree(t, dir), lines(
				`.stretch/`,
				`.stretch/manifest = "`+strings.ReplaceAll(manifestText(
					[3]string{"storage", "storage/a.yaml", "a2\n"},
					[3]string{"storage", "storage/b.yaml", "b2, long enough to be cut in half\n"},
					[3]string{"storage", "storage/c.yaml", "c2\n"},
				), "\n", `\n`)+`"`,
				`storage/`,
				`storage/a.yaml = "a2\n"`,
				`storage/b.yaml = "b2, long enough to be cut in half\n"`,
				`storage/c.yaml = "c2\n"`,
			))
		})
	}
}

func TestWriteExample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.yaml")
	written, err := WriteExample(topo, []byte("topology\n"), "apps", "shop.yaml", []byte("workloads\n"))
	want := []string{topo, filepath.Join(dir, "apps", "shop.yaml")}
	if err != nil || !slices.Equal(written, want) {
		t.Fatalf("WriteExample: %q, %v; want %q", written, err, want)
	}
	// Again: the topology is rewritten, the user's apps/ is not touched.
	if err := os.WriteFile(want[1], []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err = WriteExample(topo, []byte("topology 2\n"), "apps", "shop.yaml", []byte("workloads\n"))
	if err != nil || !slices.Equal(written, want[:1]) {
		t.Fatalf("second WriteExample: %q, %v; want only the topology", written, err)
	}
	if got, _ := os.ReadFile(want[1]); string(got) != "mine\n" {
		t.Errorf("apps/shop.yaml was changed: %q", got)
	}
	// A topology that cannot be written leaves no example workloads behind.
	other := t.TempDir()
	blocked := filepath.Join(other, "topology.yaml")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteExample(blocked, []byte("t\n"), "apps", "shop.yaml", []byte("w\n")); err == nil {
		t.Fatal("WriteExample over a folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(other, "apps")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("apps/ was left behind: %v", err)
	}
	// Nor the folders it created for them.
	deep := filepath.Join(other, "new", "sub", strings.Repeat("t", 300)+".yaml")
	if _, err := WriteExample(deep, []byte("t\n"), "apps", "shop.yaml", []byte("w\n")); err == nil {
		t.Fatal("WriteExample of a name too long succeeded")
	}
	if _, err := os.Stat(filepath.Join(other, "new")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("new/ was left behind: %v", err)
	}
}
