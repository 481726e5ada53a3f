package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheckSources(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const sources = "    sources:\n    - path: apps\n"
	if !strings.Contains(string(example), sources) {
		t.Fatalf("the example's sources changed; update this test")
	}
	dir := t.TempDir()
	for _, d := range []string{"apps", "chart", "empty"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"file.yaml", "apps/web.yaml", "chart/Chart.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, file), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := strings.Replace(string(example), sources, `    sources:
    - path: apps
    - {name: gone, path: gone}
    - {name: kfile, kustomize: file.yaml}
    - {name: web, helm: {chart: chart, release: web, namespace: web, valuesFiles: [file.yaml, missing.yaml, apps]}}
    - {name: nochart, helm: {chart: nochart.tgz, release: x, namespace: x}}
    - {name: empty, path: empty}
    - {name: notkustomize, kustomize: apps}
    - {name: notchart, helm: {chart: apps, release: y, namespace: y}}
`, 1)
	path := filepath.Join(dir, "topology.yaml")
	f, err := Decode(path, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	Default(f.Topology)
	if err := f.Validate(); err != nil {
		t.Fatalf("the test topology is invalid: %v", err)
	}
	err = f.CheckSources(dir)
	// at is the line and column of the value that follows key on the line
	// that holds marker.
	at := func(marker, key string) string {
		i := strings.Index(data, marker)
		i += strings.Index(data[i:], key) + len(key)
		line := strings.Count(data[:i], "\n") + 1
		col := i - strings.LastIndex(data[:i], "\n")
		return path + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": "
	}
	const rel = " (paths are relative to the topology file's folder)"
	want := strings.Join([]string{
		at("name: gone", "path: ") + "spec.workloads.sources[1].path: workloads folder " + filepath.Join(dir, "gone") + " does not exist" + rel,
		at("name: kfile", "kustomize: ") + "spec.workloads.sources[2].kustomize: kustomize folder " + filepath.Join(dir, "file.yaml") + " is a file, not a folder",
		at("name: web", "file.yaml, ") + "spec.workloads.sources[3].helm.valuesFiles[1]: values file " + filepath.Join(dir, "missing.yaml") + " does not exist" + rel,
		at("name: web", "missing.yaml, ") + "spec.workloads.sources[3].helm.valuesFiles[2]: values file " + filepath.Join(dir, "apps") + " is a folder, not a file",
		at("name: nochart", "chart: ") + "spec.workloads.sources[4].helm.chart: helm chart " + filepath.Join(dir, "nochart.tgz") + " does not exist" + rel,
		at("name: empty", "path: ") + "spec.workloads.sources[5].path: workloads folder " + filepath.Join(dir, "empty") + " holds no .yaml or .yml file",
		at("name: notkustomize", "kustomize: ") + "spec.workloads.sources[6].kustomize: kustomize folder " + filepath.Join(dir, "apps") + " holds no kustomization.yaml",
		at("name: notchart", "chart: ") + "spec.workloads.sources[7].helm.chart: helm chart " + filepath.Join(dir, "apps") + " holds no Chart.yaml",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("CheckSources:\n%v\nwant\n%s", err, want)
	}
	ex, err := Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.CheckSources("../../testdata"); err != nil {
		t.Errorf("CheckSources on the example: %v", err)
	}
}

// TestLoadWithSources checks that a missing source is reported with the
// topology's other errors, not after they are fixed.
func TestLoadWithSources(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "topology.yaml")
	bad := strings.Replace(string(example), "minReplicas: 2", "minReplicas: 1", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadWithSources(path)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 ||
		errs[0].Field != "spec.workloads.minReplicas" || errs[1].Field != "spec.workloads.sources[0].path" {
		t.Errorf("LoadWithSources: %v\nwant the minReplicas error and the missing apps folder, in file order", err)
	}
	if _, err := LoadWithSources("../../testdata/topology.yaml"); err != nil {
		t.Errorf("LoadWithSources on the example: %v", err)
	}
}

func TestIsManifestFile(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"app.yaml": true, "app.YML": true, "dir/app.yml": true, "app.json": false, "yaml": false,
		"kustomization.yaml": false, "Kustomization.yaml": false, "dir/kustomization.yml": false, "kustomization.json": false,
	} {
		if got := IsManifestFile(name); got != want {
			t.Errorf("IsManifestFile(%q) = %v, want %v", name, got, want)
		}
	}
}
