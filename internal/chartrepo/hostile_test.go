package chartrepo

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// chartFS is a small valid chart in folder app, with extra files.
func chartFS(extra map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"app/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n")},
		"app/values.yaml":            {Data: []byte("replicas: 1\n")},
		"app/templates/cm.yaml":      {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")},
		"lib/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: lib\nversion: 0.0.1\ntype: library\n")},
		"lib/templates/_helpers.tpl": {Data: []byte("{{- define \"lib.name\" -}}lib{{- end -}}\n")},
	}
	for k, v := range extra {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}

func TestBuildRefusesHostileSources(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: Secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A chart on disk with a link out of its sources.
	linked := t.TempDir()
	if err := os.MkdirAll(filepath.Join(linked, "app", "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(linked, "app", "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(linked, "app", "templates", "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	linkedRoot, err := os.OpenRoot(linked)
	if err != nil {
		t.Fatal(err)
	}
	defer linkedRoot.Close()
	// A chart whose whole folder is a link out of the sources.
	linkedDir := t.TempDir()
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(linkedDir, "app")); err != nil {
		t.Fatal(err)
	}
	linkedDirRoot, err := os.OpenRoot(linkedDir)
	if err != nil {
		t.Fatal(err)
	}
	defer linkedDirRoot.Close()

	withDep := func(repo string) fstest.MapFS {
		return chartFS(map[string]string{
			"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 0.0.1\n  repository: " + repo + "\n",
		})
	}
	cases := []struct {
		name  string
		chart Chart
		want  string
	}{
		{"symlink out of the sources", Chart{FS: linkedRoot.FS(), Dir: "app"}, "symbolic link"},
		{"chart folder is a symlink", Chart{FS: linkedDirRoot.FS(), Dir: "app"}, "app"},
		{"absolute chart folder", Chart{FS: chartFS(nil), Dir: "/etc"}, "absolute"},
		{"chart folder with ..", Chart{FS: chartFS(nil), Dir: "../app"}, "leaves the sources' root"},
		{"chart folder with backslash", Chart{FS: chartFS(nil), Dir: `..\app`}, "use /"},
		{"file dependency out of the root", Chart{FS: withDep("file://../../lib"), Dir: "app"}, "leaves the sources' root"},
		{"absolute file dependency", Chart{FS: withDep("file:///etc"), Dir: "app"}, "absolute"},
		{"remote dependency not vendored", Chart{FS: withDep("https://example.org/charts"), Dir: "app"}, "not reachable here"},
		{"vendored chart of another version", Chart{FS: withDep("https://example.org/charts"), Dir: "app", Vendor: []Chart{{FS: chartFS(nil), Dir: "lib", Version: "0.0.2"}}}, "wants version 0.0.1; the chart it resolved to is 0.0.2"},
		{"file dependency of another version", Chart{FS: chartFS(map[string]string{
			"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: \">=0.1.0\"\n  repository: file://../lib\n",
		}), Dir: "app"}, "wants version >=0.1.0; the chart it resolved to is 0.0.1"},
		{"vendored chart not a dependency", Chart{FS: chartFS(nil), Dir: "app", Vendor: []Chart{{FS: chartFS(nil), Dir: "lib"}}}, "not a missing dependency"},
		{"dependency of another name", Chart{FS: withDep("file://../app"), Dir: "app"}, "names the chart itself"},
		{"no Chart.yaml", Chart{FS: chartFS(nil), Dir: "app/templates"}, "Chart.yaml"},
		{"bad version stamp", Chart{FS: chartFS(nil), Dir: "app", Version: "not-semver"}, "version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			_, err := Build(dir, []Chart{tc.chart})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Errorf("a refused build left %s behind (%v)", dir, serr)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".repo.tmp.*"))
			if len(left) > 0 {
				t.Errorf("scratch left behind: %v", left)
			}
		})
	}
}

func TestBuildResolvesFileDependencies(t *testing.T) {
	fsys := chartFS(map[string]string{
		"app/Chart.yaml":    "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 0.0.1\n  repository: file://../lib\n",
		"app/.helmignore":   "*.bak\n",
		"app/notes.bak":     "ignored",
		"app/templates/x.y": "kept",
	})
	dir := filepath.Join(t.TempDir(), "repo")
	entries, err := Build(dir, []Chart{{FS: fsys, Dir: "app", Version: "1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].File != "app-1.2.3.tgz" {
		t.Fatalf("entries %+v", entries)
	}
	ch, err := loadArchive(filepath.Join(dir, entries[0].File))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Dependencies()) != 1 || ch.Dependencies()[0].Name() != "lib" {
		t.Errorf("the packaged chart's charts/ holds %v, want lib", ch.Dependencies())
	}
	for _, f := range ch.Raw {
		if strings.HasSuffix(f.Name, ".bak") {
			t.Errorf("%s was packaged despite .helmignore", f.Name)
		}
	}
}

// TestBuildBoundsDependencyFanOut: seven layers of four charts, each
// depending on every chart of the next layer, nest less deep than the
// depth limit but would load 4^7 charts; the budget for the whole tree
// stops the load after maxFiles files.
func TestBuildBoundsDependencyFanOut(t *testing.T) {
	const layers, width = 7, 4
	name := func(layer, i int) string { return fmt.Sprintf("l%d-%d", layer, i) }
	deps := func(layer int) string {
		if layer > layers {
			return ""
		}
		var b strings.Builder
		b.WriteString("dependencies:\n")
		for i := 1; i <= width; i++ {
			fmt.Fprintf(&b, "- name: %s\n  version: 0.1.0\n  repository: file://../%s\n", name(layer, i), name(layer, i))
		}
		return b.String()
	}
	fsys := fstest.MapFS{"root/Chart.yaml": {Data: []byte("apiVersion: v2\nname: root\nversion: 0.1.0\n" + deps(1))}}
	for layer := 1; layer <= layers; layer++ {
		for i := 1; i <= width; i++ {
			fsys[name(layer, i)+"/Chart.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v2\nname: " + name(layer, i) + "\nversion: 0.1.0\n" + deps(layer+1))}
		}
	}
	_, err := Build(filepath.Join(t.TempDir(), "repo"), []Chart{{FS: fsys, Dir: "root"}})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("the chart and its dependencies hold more than %d files", maxFiles)) {
		t.Fatalf("Build of a dependency fan-out: %v, want the file budget's error", err)
	}
}

func TestServerServesOnlyTheRepository(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if _, err := Build(repo, StandInCharts()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "outside.tgz"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "outside.tgz"), filepath.Join(repo, "link.tgz")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".hidden.tgz"), []byte("hidden"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(repo)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	get := func(method, p string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL()+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The raw path, so that the client does not clean it.
		req.URL.Opaque = p
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("GET", "/index.yaml"); code != 200 || !strings.Contains(body, "ceph-csi-drivers-1.0.4.tgz") {
		t.Errorf("GET /index.yaml: %d %q", code, body)
	}
	if code, _ := get("HEAD", "/ceph-csi-drivers-1.0.4.tgz"); code != 200 {
		t.Errorf("HEAD a chart: %d", code)
	}
	for _, p := range []string{"/../outside.tgz", "/%2e%2e/outside.tgz", "/link.tgz", "/.hidden.tgz", "/", "/standin/ceph-csi-drivers/Chart.yaml", "//etc/passwd", "/index.yaml/", "/x/../index.yaml"} {
		if code, body := get("GET", p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d %q, want 404", p, code, body)
		}
	}
	if code, _ := get("POST", "/index.yaml"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", code)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(srv.URL() + "/index.yaml"); err == nil {
		t.Error("the server still answers after Close")
	}
}

func TestStartRefusesAFolderWithoutIndex(t *testing.T) {
	if _, err := Start(t.TempDir()); err == nil || !strings.Contains(err.Error(), IndexFile) {
		t.Errorf("Start on an empty folder: %v", err)
	}
}

func FuzzResolveFileDependency(f *testing.F) {
	for _, s := range []string{"../library", "../../x", "/etc", "lib", "./", "..", "a/../../b", `..\x`, "x\x00y"} {
		f.Add("deploy/charts/rook-ceph", s)
	}
	f.Fuzz(func(t *testing.T, dir, rel string) {
		clean, err := cleanDir(dir)
		if err != nil {
			return
		}
		got, err := ResolveFileDependency(clean, rel)
		if err != nil {
			return
		}
		// "..0" is a folder of the root, not its parent.
		if !filepath.IsLocal(got) || got == clean {
			t.Fatalf("ResolveFileDependency(%q, %q) = %q leaves the root or names the chart", clean, rel, got)
		}
		if path.Clean(got) != got {
			t.Fatalf("ResolveFileDependency(%q, %q) = %q is not clean", clean, rel, got)
		}
	})
}

func FuzzRepoFileName(f *testing.F) {
	for _, s := range []string{"/index.yaml", "/a-1.0.0.tgz", "/../x.tgz", "/a/b.tgz", "/.x.tgz", "", "/", `/..\x.tgz`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, ok := RepoFileName(p)
		if !ok {
			return
		}
		if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || name == "" {
			t.Fatalf("RepoFileName(%q) = %q is not a top-level file", p, name)
		}
		if name != IndexFile && !strings.HasSuffix(name, ".tgz") && !strings.HasSuffix(name, ".tgz.prov") {
			t.Fatalf("RepoFileName(%q) = %q is not a repository file", p, name)
		}
	})
}

func loadArchive(p string) (*chart.Chart, error) { return loader.Load(p) }

// OpenBuilt opens make testbin's repository only when its stamp names the
// Rook version asked for.
func TestOpenBuilt(t *testing.T) {
	bin := t.TempDir()
	if _, ok, err := OpenBuilt(bin, "v1.20.6"); ok || err != nil {
		t.Errorf("no stamp: ok %v, err %v", ok, err)
	}
	if _, err := Build(filepath.Join(bin, BuiltDir), StandInCharts()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, BuiltStampFile), []byte("rook v1.20.6 chartrepo 1234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := OpenBuilt(bin, "v1.20.5"); ok || err != nil {
		t.Errorf("another version: ok %v, err %v", ok, err)
	}
	if _, ok, err := OpenBuilt(bin, "v1.20"); ok || err != nil {
		t.Errorf("a version prefix: ok %v, err %v", ok, err)
	}
	h, ok, err := OpenBuilt(bin, "v1.20.6")
	if !ok || err != nil {
		t.Fatalf("the stamped version: ok %v, err %v", ok, err)
	}
	if err := h.Close(); err != nil {
		t.Error(err)
	}
}
