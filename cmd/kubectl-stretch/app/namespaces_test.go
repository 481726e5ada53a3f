package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderPrintsUncreatedNamespace renders the example with an extra
// file in its apps source whose objects are in billing, which nothing
// creates: render still writes the bundle (a risk is not an error) and
// prints the risk on standard error under the source, naming the namespace, the objects and
// the file.
func TestRenderPrintsUncreatedNamespace(t *testing.T) {
	topo := exampleCopy(t, "", map[string]string{
		"apps/zz-billing.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rates, namespace: billing}\n",
	})
	dir := filepath.Dir(topo)
	code, out, errOut := run(t, "render", "-f", topo, "-o", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("render exited %d: %s", code, errOut)
	}
	want := "  NAMESPACE001 error   Namespace/billing (" + filepath.Join(dir, "apps", "zz-billing.yaml") +
		"): namespace billing is created by no Namespace object, yet 1 object is in it (ConfigMap/rates): " +
		"Flux's workloads stage cannot apply them and fails as a whole\n"
	if !strings.Contains(errOut, want) || !strings.Contains(errOut, "workloads/apps: ") {
		t.Errorf("render printed on standard error\n%s\nwant under workloads/apps a line\n%s", errOut, want)
	}
	if !strings.Contains(out, "workloads/apps/configmap_billing_rates.yaml") {
		t.Errorf("the object is not written:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "workloads", "apps", "configmap_billing_rates.yaml")); err != nil {
		t.Errorf("the object is not written: %v", err)
	}
}
