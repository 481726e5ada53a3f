package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ExampleCopy copies the example topology (testdata/topology.yaml under
// repo, the repository's root) and its apps/shop.yaml into a temporary
// folder, adds files (slash paths relative to the folder), replaces the
// example's workload sources with sources when it is not empty (YAML list
// items, one a line, indented as in the file), and returns the topology
// file's path.
func ExampleCopy(t testing.TB, repo, sources string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	topo, err := os.ReadFile(filepath.Join(repo, "testdata", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	shop, err := os.ReadFile(filepath.Join(repo, "testdata", "apps", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if sources != "" {
		topo = []byte(strings.Replace(string(topo), "    sources:\n    - path: apps\n", "    sources:\n"+sources, 1))
	}
	all := map[string]string{"topology.yaml": string(topo), "apps/shop.yaml": string(shop)}
	for k, v := range files {
		all[k] = v
	}
	for name, data := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "topology.yaml")
}
