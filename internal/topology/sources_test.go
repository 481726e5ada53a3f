package topology

import (
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
	for _, d := range []string{"apps", "chart"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "file.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(example), sources, `    sources:
    - path: apps
    - {name: gone, path: gone}
    - {name: kfile, kustomize: file.yaml}
    - {name: web, helm: {chart: chart, release: web, namespace: web, valuesFiles: [file.yaml, missing.yaml, apps]}}
    - {name: nochart, helm: {chart: nochart.tgz, release: x, namespace: x}}
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
