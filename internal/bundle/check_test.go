package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// report returns what Drift.Write prints.
func report(t *testing.T, d *Drift) string {
	t.Helper()
	var sb strings.Builder
	if err := d.Write(&sb); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

const clusterV1 = `apiVersion: ceph.rook.io/v1
kind: CephCluster
metadata:
  name: rook-ceph
  namespace: rook-ceph
spec:
  mon:
    count: 5
  stretchCluster:
    zones:
    - name: sto1
    - name: sto2
    - name: fra1
      arbiter: true
`

func TestCheck(t *testing.T) {
	t.Parallel()
	base := []File{
		file("storage/cluster.yaml", "storage", clusterV1),
		file("flux/ks.yaml", "flux", "kind: Kustomization\n"),
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, dir string) // runs after base is written
		files      []File                         // the bundle to check
		want       *Drift
		wantReport string
	}{
		{
			name:  "clean",
			setup: func(t *testing.T, dir string) {},
			files: base,
			want:  &Drift{},
		},
		{
			name: "a user file that render does not own is not drift",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"README.md": "mine\n", "storage/notes.txt": "mine\n"})
			},
			files: base,
			want:  &Drift{},
		},
		{
			name:  "changed file",
			setup: func(t *testing.T, dir string) {},
			files: []File{
				file("storage/cluster.yaml", "storage", strings.Replace(clusterV1, "count: 5", "count: 3", 1)),
				file("flux/ks.yaml", "flux", "kind: Kustomization\n"),
			},
			want: &Drift{
				Changed: []FileDiff{{Path: "storage/cluster.yaml", Diff: `--- a/storage/cluster.yaml
+++ b/storage/cluster.yaml
@@ -5,7 +5,7 @@
   namespace: rook-ceph
 spec:
   mon:
-    count: 5
+    count: 3
   stretchCluster:
     zones:
     - name: sto1
`}},
				ManifestChanged: true,
			},
			wantReport: `changed   storage/cluster.yaml
manifest  .stretch/manifest is out of date

--- a/storage/cluster.yaml
+++ b/storage/cluster.yaml
@@ -5,7 +5,7 @@
   namespace: rook-ceph
 spec:
   mon:
-    count: 5
+    count: 3
   stretchCluster:
     zones:
     - name: sto1
`,
		},
		{
			name: "file edited by hand",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"flux/ks.yaml": "kind: Kustomization\nedited: true"})
			},
			files: base,
			want: &Drift{
				Changed: []FileDiff{{Path: "flux/ks.yaml", Diff: `--- a/flux/ks.yaml
+++ b/flux/ks.yaml
@@ -1,2 +1 @@
 kind: Kustomization
-edited: true
\ No newline at end of file
`}},
			},
		},
		{
			name:  "binary file",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"flux/ks.yaml": "\x00\x01"}) },
			files: base,
			want: &Drift{
				Changed: []FileDiff{{Path: "flux/ks.yaml", Diff: "Binary files a/flux/ks.yaml and b/flux/ks.yaml differ\n"}},
			},
		},
		{
			name: "missing file",
			setup: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "flux", "ks.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			files: base,
			want:  &Drift{Missing: []string{"flux/ks.yaml"}},
		},
		{
			name:       "new file",
			setup:      func(t *testing.T, dir string) {},
			files:      append([]File{file("network/felix.yaml", "network", "kind: FelixConfiguration\n")}, base...),
			want:       &Drift{Missing: []string{"network/felix.yaml"}, ManifestChanged: true},
			wantReport: "missing   network/felix.yaml\nmanifest  .stretch/manifest is out of date\n",
		},
		{
			name:       "stale file",
			setup:      func(t *testing.T, dir string) {},
			files:      base[:1],
			want:       &Drift{Stale: []string{"flux/ks.yaml"}, ManifestChanged: true},
			wantReport: "stale     flux/ks.yaml (no longer rendered; render removes it)\nmanifest  .stretch/manifest is out of date\n",
		},
		{
			name:  "stale file modified by hand",
			setup: func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"flux/ks.yaml": "mine\n"}) },
			files: base[:1],
			want:  &Drift{Kept: []string{"flux/ks.yaml"}, ManifestChanged: true},
			wantReport: "kept      flux/ks.yaml (no longer rendered but modified by hand; render keeps it and stops owning it)\n" +
				"manifest  .stretch/manifest is out of date\n",
		},
		{
			name: "missing manifest",
			setup: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, ".stretch", "manifest")); err != nil {
					t.Fatal(err)
				}
			},
			files:      base,
			want:       &Drift{ManifestMissing: true},
			wantReport: "manifest  .stretch/manifest is missing\n",
		},
		{
			name: "manifest reordered by hand",
			setup: func(t *testing.T, dir string) {
				m := strings.Split(readFile(t, dir, ManifestPath), "\n")
				m[1], m[2] = m[2], m[1]
				writeFiles(t, dir, map[string]string{ManifestPath: strings.Join(m, "\n")})
			},
			files:      base,
			want:       &Drift{ManifestChanged: true},
			wantReport: "manifest  .stretch/manifest is out of date\n",
		},
		{
			name: "unowned file in the way",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"network/felix.yaml": "mine\n", "dns": "mine\n"})
			},
			files: append([]File{
				file("network/felix.yaml", "network", "kind: FelixConfiguration\n"),
				file("dns/records.yaml", "dns", "records: []\n"),
			}, base...),
			want: &Drift{
				Changed: []FileDiff{{Path: "network/felix.yaml", Diff: "--- a/network/felix.yaml\n+++ b/network/felix.yaml\n@@ -1 +1 @@\n-mine\n+kind: FelixConfiguration\n"}},
				Conflicts: []Conflict{
					{"dns/records.yaml", "cannot be created: its parent dns is a file"},
					{"network/felix.yaml", reasonUnowned},
				},
				ManifestChanged: true,
			},
			wantReport: `conflict  dns/records.yaml cannot be created: its parent dns is a file
changed   network/felix.yaml
conflict  network/felix.yaml exists with other content and is not in the manifest
manifest  .stretch/manifest is out of date

--- a/network/felix.yaml
+++ b/network/felix.yaml
@@ -1 +1 @@
-mine
+kind: FelixConfiguration
`,
		},
		{
			name:       "identical unowned file is adopted",
			setup:      func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"network/felix.yaml": "f\n"}) },
			files:      append([]File{file("network/felix.yaml", "network", "f\n")}, base...),
			want:       &Drift{ManifestChanged: true},
			wantReport: "manifest  .stretch/manifest is out of date\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mustWrite(t, dir, mustNew(t, base...))
			tt.setup(t, dir)
			ageFiles(t, dir)
			before := snapshot(t, dir)

			d, err := Check(dir, mustNew(t, tt.files...))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if !reflect.DeepEqual(d, tt.want) {
				t.Errorf("Drift:\n got %#v\nwant %#v", d, tt.want)
			}
			wantEmpty := reflect.DeepEqual(tt.want, &Drift{})
			if d.Empty() != wantEmpty {
				t.Errorf("Empty() = %v, want %v", d.Empty(), wantEmpty)
			}
			if tt.wantReport != "" || wantEmpty {
				diffStrings(t, "report", report(t, d), tt.wantReport)
			}
			diffStrings(t, "snapshot after Check", snapshot(t, dir), before)
		})
	}
}

func TestCheckEmptyDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not-yet")
	d, err := Check(dir, mustNew(t, file("b.yaml", "l", "b\n"), file("a.yaml", "l", "a\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := &Drift{Missing: []string{"a.yaml", "b.yaml"}, ManifestMissing: true}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Drift = %#v, want %#v", d, want)
	}
	diffStrings(t, "report", report(t, d), "missing   a.yaml\nmissing   b.yaml\nmanifest  .stretch/manifest is missing\n")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Check created %s", dir)
	}
}

func TestCheckAfterWriteIsEmpty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"user.txt": "mine\n"})
	b := demoBundle(t)
	mustWrite(t, dir, b)
	d, err := Check(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() {
		t.Errorf("Check after Write is not empty:\n%s", report(t, d))
	}
}

func TestCheckMalformedManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ManifestPath: "garbage\n"})
	_, err := Check(dir, mustNew(t))
	want := "check bundle in " + dir + ": invalid manifest: " + filepath.Join(dir, ".stretch", "manifest") +
		`:1: got "garbage", want the header "` + ManifestHeader + `"`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}
