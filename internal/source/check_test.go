package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// writeTree writes files (relative path: content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// secret is a file outside every source folder, whose content must never
// reach an error message.
const secret = "root:x:0:0:root:/root:/bin/bash\n"

// TestLoadRefuses loads sources that must not be read and checks each
// error; none may echo the content of a file outside the source.
func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"passwd": secret, "base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
	const chart = "apiVersion: v2\nname: web\nversion: 1.0.0\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		links map[string]string // link: target, relative to outside
		src   v1alpha1.Source
		want  string
	}{
		{"topology in the folder", map[string]string{"topology.yaml": "kind: Topology\n", "web.yaml": cm}, nil,
			v1alpha1.Source{Path: "."}, "holds the topology file"},
		{"absolute path", nil, nil, v1alpha1.Source{Path: outside},
			"workloads folder " + outside + ": an absolute path is refused"},
		{"chart URL", nil, nil, v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "oci://registry.example/web", Release: "web", Namespace: "web"}},
			"helm chart oci://registry.example/web: charts must be local folders or .tgz archives; vendor the chart"},
		{"release with ../", map[string]string{"chart/Chart.yaml": chart}, nil,
			v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "chart", Release: "../web", Namespace: "web"}}, `release name "../web": invalid release name`},
		{"link in a folder", map[string]string{"apps/web.yaml": cm}, map[string]string{"apps/passwd.yaml": "passwd"},
			v1alpha1.Source{Path: "apps"}, "apps/passwd.yaml: a symbolic link to " + filepath.Join(outside, "passwd") + ", outside"},
		{"link in a chart", map[string]string{"chart/Chart.yaml": chart}, map[string]string{"chart/templates/passwd.yaml": "passwd"},
			v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "chart", Release: "web", Namespace: "web"}}, "chart/templates/passwd.yaml: a symbolic link to"},
		{"link in a kustomization", map[string]string{"k/kustomization.yaml": "resources: [passwd.yaml]\n"}, map[string]string{"k/passwd.yaml": "passwd"},
			v1alpha1.Source{Kustomize: "k"}, "k/passwd.yaml: a symbolic link to"},
		{"kustomize base outside", map[string]string{"k/kustomization.yaml": "resources: [OUTSIDE/base]\n"}, nil,
			v1alpha1.Source{Kustomize: "k"}, "leads outside"},
		{"remote https resource", map[string]string{"k/kustomization.yaml": "resources:\n- https://raw.example.com/x/cm.yaml\n"}, nil,
			v1alpha1.Source{Kustomize: "k"}, "k/kustomization.yaml: https://raw.example.com/x/cm.yaml is a remote base or resource, which kustomize would fetch over the network: vendor it into the repository, or pass --allow-remote-bases"},
		{"remote git base", map[string]string{"k/kustomization.yaml": "resources:\n- github.com/example/repo//base?ref=v1\n"}, nil,
			v1alpha1.Source{Kustomize: "k"}, "github.com/example/repo//base?ref=v1 is a remote base"},
		{"remote base in a base", map[string]string{"k/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources:\n- git@github.com:example/repo.git\n"}, nil,
			v1alpha1.Source{Kustomize: "k"}, "git@github.com:example/repo.git is a remote base"},
		{"remote generator file", map[string]string{"k/kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [conf=https://example.com/conf]\n"}, nil,
			v1alpha1.Source{Kustomize: "k"}, "https://example.com/conf is a remote base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rel, err := filepath.Rel(filepath.Join(dir, "k"), outside)
			if err != nil {
				t.Fatal(err)
			}
			for name, data := range tc.files {
				tc.files[name] = strings.ReplaceAll(data, "OUTSIDE", rel)
			}
			writeTree(t, dir, tc.files)
			for link, target := range tc.links {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, link)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(outside, target), filepath.Join(dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			files, err := Load(context.Background(), dir, tc.src, Options{TopologyFile: filepath.Join(dir, "topology.yaml")})
			if err == nil {
				t.Fatalf("loaded %d files, want an error with %q", len(files), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "root:x") {
				t.Errorf("error:\n%v\nwant it to contain %q (and no line of a file outside the source)", err, tc.want)
			}
		})
	}
}

// TestRemoteBasesAllowed checks that --allow-remote-bases lets the check
// pass a remote base (fetching it is kustomize's), and that local bases
// inside the topology's folder pass without it.
func TestRemoteBasesAllowed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"k/kustomization.yaml": "resources:\n- https://example.com/cm.yaml\n- ../base\n", "base/kustomization.yaml": "resources: []\n"})
	if err := checkKustomization(filepath.Join(dir, "k"), dir, true); err != nil {
		t.Errorf("allowed: %v", err)
	}
	if err := checkKustomization(filepath.Join(dir, "k"), dir, false); err == nil {
		t.Errorf("not allowed: no error")
	}
	for ref, want := range map[string]bool{
		"https://example.com/x.yaml": true, "github.com/org/repo//base": true, "git@gitlab.example:org/repo.git": true,
		"git::https://example.com/repo": true, "ssh://git@example.com/repo": true,
		"../base": false, "base": false, "github.comfy/base": false, "user@local/base": false,
	} {
		if got := isRemote(ref); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestHelmNotReproducible renders a chart whose Secret uses randAlphaNum:
// it is refused, naming the Secret and the chart.
func TestHelmNotReproducible(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"chart/Chart.yaml":            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"chart/templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: {{ .Release.Name }}-pass}\nstringData: {password: {{ randAlphaNum 16 | quote }}}\n",
		"chart/templates/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {a: b}\n",
	})
	_, err := Load(context.Background(), dir, v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "chart", Release: "shop", Namespace: "web"}}, Options{})
	want := `helm chart chart is not reproducible: two renders differ in "Secret shop-pass"; a template that uses randAlphaNum`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to start with\n%s", err, want)
	}
}

// TestHelmLongErrorIsCut renders a template that includes itself: Helm's
// error (about 100 KB) is cut to its start, a count and its end, which
// says the cause.
func TestHelmLongErrorIsCut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"chart/Chart.yaml":          "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"chart/templates/loop.yaml": "{{- define \"loop\" }}{{ include \"loop\" . }}{{ end }}\n{{ include \"loop\" . }}\n",
	})
	_, err := Load(context.Background(), dir, v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "chart", Release: "shop", Namespace: "web"}}, Options{})
	if err == nil || len(err.Error()) > maxErrorBytes+200 || !strings.Contains(err.Error(), "more bytes)") ||
		!strings.HasPrefix(err.Error(), "render helm chart chart: ") ||
		!strings.HasSuffix(err.Error(), "rendering template has a nested reference name: loop: unable to execute template") {
		msg := "<nil>"
		if err != nil {
			msg = err.Error()
		}
		t.Errorf("error of %d bytes:\n%.3000s\nwant at most %d bytes, with a count and the cause", len(msg), msg, maxErrorBytes+200)
	}
}
