package topology

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCheckSourcesRefusesPaths checks that a source folder that holds the
// topology file, an absolute path and a chart URL are refused at their
// field, without reading anything.
func TestCheckSourcesRefusesPaths(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const sources = "    sources:\n    - path: apps\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(example), sources, `    sources:
    - {name: here, path: .}
    - {name: abs, path: `+dir+`}
    - {name: kabs, kustomize: /etc}
    - {name: url, helm: {chart: "https://charts.example/web-1.0.0.tgz", release: web, namespace: web}}
    - {name: oci, helm: {chart: "oci://registry.example/charts/web", release: web, namespace: web, valuesFiles: [/etc/passwd]}}
`, 1)
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Decode(path, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	Default(f.Topology)
	if err := f.Validate(); err != nil {
		t.Fatalf("the test topology is invalid: %v", err)
	}
	at := func(marker, key string) string {
		i := strings.Index(data, marker)
		i += strings.Index(data[i:], key) + len(key)
		line := strings.Count(data[:i], "\n") + 1
		col := i - strings.LastIndex(data[:i], "\n")
		return path + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": "
	}
	const abs = ": an absolute path is refused: give it relative to the topology file's folder, so that the bundle renders the same from any checkout"
	const vendor = ": charts must be local folders or .tgz archives; vendor the chart (helm pull --untar) and give its folder"
	want := strings.Join([]string{
		at("name: here", "path: ") + "spec.workloads.sources[0].path: workloads folder " + dir + " holds the topology file " + path + ", which is not a workload: give the workloads a folder of their own",
		at("name: abs", "path: ") + "spec.workloads.sources[1].path: workloads folder " + dir + abs,
		at("name: kabs", "kustomize: ") + "spec.workloads.sources[2].kustomize: kustomize folder /etc" + abs,
		at("name: url", "chart: ") + "spec.workloads.sources[3].helm.chart: helm chart https://charts.example/web-1.0.0.tgz" + vendor,
		at("name: oci", "chart: ") + "spec.workloads.sources[4].helm.chart: helm chart oci://registry.example/charts/web" + vendor,
		at("name: oci", "valuesFiles: [") + "spec.workloads.sources[4].helm.valuesFiles[0]: values file /etc/passwd" + abs,
	}, "\n")
	if err := f.CheckSources(dir); err == nil || err.Error() != want {
		t.Errorf("CheckSources:\n%v\nwant\n%s", err, want)
	}
}
