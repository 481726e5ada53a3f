package chartrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"sigs.k8s.io/yaml"
)

// bundleRelease reads a HelmRelease of the minimal topology's golden bundle
// (storage/rook/operator) and returns its chart, version and values.
func bundleRelease(t *testing.T, file string) (chart, version string, values map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "minimal", "storage", "rook", "operator", file))
	if err != nil {
		t.Fatal(err)
	}
	var hr struct {
		Spec struct {
			Chart struct {
				Spec struct {
					Chart   string `json:"chart"`
					Version string `json:"version"`
				} `json:"spec"`
			} `json:"chart"`
			Values map[string]any `json:"values"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &hr); err != nil {
		t.Fatal(err)
	}
	if hr.Spec.Chart.Spec.Chart == "" || hr.Spec.Values == nil {
		t.Fatalf("%s names no chart or values", file)
	}
	return hr.Spec.Chart.Spec.Chart, hr.Spec.Chart.Spec.Version, hr.Spec.Values
}

// pull fetches chart at version from the repository at url with Helm's own
// pull action (index download, version match, digest check) into a folder
// and loads it.
func pull(t *testing.T, url, chart, version string) string {
	t.Helper()
	home := t.TempDir()
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(home, "cache")
	settings.RepositoryConfig = filepath.Join(home, "repositories.yaml")
	p := action.NewPullWithOpts(action.WithConfig(&action.Configuration{}))
	p.Settings = settings
	p.RepoURL = url
	p.Version = version
	p.DestDir = filepath.Join(home, "pulled")
	if err := os.MkdirAll(p.DestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(chart); err != nil {
		t.Fatalf("helm pull %s %s from %s: %v", chart, version, url, err)
	}
	archive := filepath.Join(p.DestDir, chart+"-"+version+".tgz")
	if _, err := os.Stat(archive); err != nil {
		t.Fatal(err)
	}
	return archive
}

// template renders a chart archive as `helm template` does, after Helm's
// dependency check (`helm install` refuses a chart whose Chart.yaml names a
// dependency missing from charts/).
func template(t *testing.T, archive, release, namespace string, values map[string]any) string {
	t.Helper()
	ch, err := loader.Load(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := action.CheckDependencies(ch, ch.Metadata.Dependencies); err != nil {
		t.Fatalf("helm's dependency check refuses %s: %v", archive, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.DisableHooks = true
	install.ReleaseName = release
	install.Namespace = namespace
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.35.4", Major: "1", Minor: "35"}
	rel, err := install.Run(ch, values)
	if err != nil {
		t.Fatalf("helm template %s: %v", archive, err)
	}
	return rel.Manifest
}

// objects lists "Kind name" of each object in a rendered manifest.
func objects(t *testing.T, manifest string) []string {
	t.Helper()
	var out []string
	for _, doc := range strings.Split(manifest, "\n---") {
		var o struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("rendered manifest: %v\n%s", err, doc)
		}
		if o.Kind != "" {
			out = append(out, o.Kind+" "+o.Metadata.Name)
		}
	}
	slices.Sort(out)
	return out
}

func TestHelmPullsAndRendersTheBundleCharts(t *testing.T) {
	dir, _ := buildRepo(t)
	srv, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s is not on 127.0.0.1", srv.URL())
	}
	_, rookVersion := rookModule(t)

	chart, version, values := bundleRelease(t, "helmrelease.yaml")
	if chart != RookCephChart || version != rookVersion {
		t.Fatalf("the bundle installs %s %s; the repository holds %s %s", chart, version, RookCephChart, rookVersion)
	}
	archive := pull(t, srv.URL(), chart, version)
	objs := objects(t, template(t, archive, "rook-ceph", "rook-ceph", values))
	for _, want := range []string{"Deployment rook-ceph-operator", "Deployment ceph-csi-controller-manager", "CustomResourceDefinition cephclusters.ceph.rook.io"} {
		if !slices.Contains(objs, want) {
			t.Errorf("rook-ceph with the bundle's values renders no %s; it renders %v", want, objs)
		}
	}
	// The dependency's condition works as in Rook's published chart.
	off := map[string]any{"csi": map[string]any{"installCsiOperator": false}}
	for k, v := range values {
		if k != "csi" {
			off[k] = v
		}
	}
	if objs := objects(t, template(t, archive, "rook-ceph", "rook-ceph", off)); slices.Contains(objs, "Deployment ceph-csi-controller-manager") {
		t.Errorf("csi.installCsiOperator=false still installs the ceph-csi-operator stand-in: %v", objs)
	}

	chart, version, values = bundleRelease(t, "helmrelease-ceph-csi-drivers.yaml")
	if chart != CSIDriversChart || version != CSIStandInVersion {
		t.Fatalf("the bundle installs %s %s; the repository holds %s %s", chart, version, CSIDriversChart, CSIStandInVersion)
	}
	archive = pull(t, srv.URL(), chart, version)
	objs = objects(t, template(t, archive, "ceph-csi-drivers", "rook-ceph", values))
	// The minimal topology enables the RBD driver only.
	want := []string{"CSIDriver rook-ceph.rbd.csi.ceph.com", "Deployment rook-ceph.rbd.csi.ceph.com-ctrlplugin"}
	if !slices.Equal(objs, want) {
		t.Errorf("ceph-csi-drivers with the bundle's values renders %v, want %v", objs, want)
	}
}

// TestHelm4PullsAndTemplates runs the real Helm 4 command (bin/testbin/helm,
// see internal/testbin/go-install.sh) against the served repository.
func TestHelm4PullsAndTemplates(t *testing.T) {
	bin := os.Getenv("STRETCH_TESTBIN")
	helm := filepath.Join(bin, "helm")
	if _, err := os.Stat(helm); bin == "" || err != nil {
		if os.Getenv("STRETCH_REQUIRE_TOOLS") == "1" {
			t.Fatalf("no helm in STRETCH_TESTBIN=%q: run make testbin", bin)
		}
		t.Skipf("no helm in STRETCH_TESTBIN=%q: run make testbin", bin)
	}
	dir, _ := buildRepo(t)
	srv, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, rookVersion := rookModule(t)
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(helm, args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("pull", "rook-ceph", "--repo", srv.URL(), "--version", rookVersion, "--destination", home)
	out := run("template", "rook-ceph", filepath.Join(home, "rook-ceph-"+rookVersion+".tgz"), "--namespace", "rook-ceph", "--set", "crds.enabled=true")
	for _, want := range []string{"name: rook-ceph-operator", "name: ceph-csi-controller-manager"} {
		if !strings.Contains(out, want) {
			t.Errorf("helm template rook-ceph prints no %q", want)
		}
	}
	out = run("template", "ceph-csi-drivers", "ceph-csi-drivers", "--repo", srv.URL(), "--version", CSIStandInVersion, "--namespace", "rook-ceph", "--set", "drivers.rbd.enabled=true,drivers.rbd.name=rook-ceph.rbd.csi.ceph.com,drivers.cephfs.enabled=false")
	for _, want := range []string{"kind: CSIDriver", "name: rook-ceph.rbd.csi.ceph.com-ctrlplugin"} {
		if !strings.Contains(out, want) {
			t.Errorf("helm template ceph-csi-drivers prints no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cephfs.csi.ceph.com") {
		t.Errorf("helm template ceph-csi-drivers renders the disabled CephFS driver:\n%s", out)
	}
}
