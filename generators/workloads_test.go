package generators

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TestRenderWorkloadErrorNamesTheFile renders the example with a second
// workload file whose Deployment has a field of the wrong type: the error
// names that file, the line and column of the field, and its path.
func TestRenderWorkloadErrorNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	topo, err := os.ReadFile("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shop, err := os.ReadFile("../testdata/apps/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n" +
		"  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n" +
		"    spec:\n      containers: [{name: web, image: web}]\n      tolerations: [oops]\n"
	for name, data := range map[string][]byte{
		"topology.yaml": topo, "apps/shop.yaml": shop, "apps/zz-web.yaml": []byte(bad),
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := topology.Load(filepath.Join(dir, "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Render(context.Background(), f.Topology, Options{BaseDir: dir})
	want := filepath.Join(dir, "apps", "zz-web.yaml") +
		`:11:21: Deployment shop/web: spec.template.spec.tolerations[0]: expected a mapping, got the string "oops"`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("render: %v\nwant it to end with %s", err, want)
	}
}
