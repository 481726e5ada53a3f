package generators

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

func TestStorageStageWaitsForCeph(t *testing.T) {
	t.Parallel()
	got := fileData(t, Options{}, "flux/storage.yaml")
	for _, want := range []string{
		"  - apiVersion: ceph.rook.io/v1\n    current: has(status.phase) && status.phase == 'Ready'",
		"status.ceph.health in ['HEALTH_OK', 'HEALTH_WARN']",
		"    failed: has(status.phase) && status.phase == 'Failure'\n    kind: CephCluster\n",
		"    kind: CephBlockPool\n",
		"  wait: true\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("flux/storage.yaml lacks %q:\n%s", want, got)
		}
	}
	// Only the storage stage needs them.
	for _, other := range []string{"flux/storage-operator.yaml", "flux/workloads.yaml"} {
		if strings.Contains(fileData(t, Options{}, other), "healthCheckExprs") {
			t.Errorf("%s has healthCheckExprs", other)
		}
	}
}

func TestStorageHealthCheckRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, mixin, want string }{
		{"no exprs", `{ flux+: { 'flux/storage.yaml'+: { spec+: { healthCheckExprs:: null } } } }`,
			"[flux-storage-health] flux/storage.yaml: Kustomization stretch-storage needs a healthCheckExprs entry for ceph.rook.io/v1 CephCluster"},
		{"no pool expr", `{ flux+: { 'flux/storage.yaml'+: { spec+: { healthCheckExprs: [super.healthCheckExprs[0]] } } } }`,
			"needs a healthCheckExprs entry for ceph.rook.io/v1 CephBlockPool"},
		{"no wait", `{ flux+: { 'flux/storage.yaml'+: { spec+: { wait: false } } } }`,
			"[flux-storage-health] flux/storage.yaml: Kustomization stretch-storage needs wait: true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := renderWithMixin(t, tc.mixin)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error lacks %q:\n%v", tc.want, err)
			}
		})
	}
}

// Every status field the health expressions read exists in the status
// schema of Rook's CRDs, so a misspelt field cannot make Flux wait until
// its timeout.
func TestHealthExprFieldsExistInRookCRDs(t *testing.T) {
	bin, err := sim.DefaultBinDir()
	if err != nil {
		t.Skipf("no Rook CRDs: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(bin, "crds", "rook", "crds.yaml"))
	if err != nil {
		t.Skipf("no Rook CRDs: %v", err)
	}
	schemas := map[string]map[string]any{}
	for _, doc := range strings.Split(string(data), "\n---") {
		var crd struct {
			Spec struct {
				Names    struct{ Kind string }
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal([]byte(doc), &crd); err != nil || len(crd.Spec.Versions) == 0 {
			continue
		}
		schemas[crd.Spec.Names.Kind] = crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	}
	field := regexp.MustCompile(`\b(status|metadata)(\.[A-Za-z]+)+`)
	checked := 0
	for _, h := range storageHealthChecks {
		schema := schemas[h.Kind]
		if schema == nil {
			t.Fatalf("no CRD for %s", h.Kind)
		}
		for _, expr := range []string{h.Current, h.Failed, h.InProgress} {
			for _, f := range field.FindAllString(expr, -1) {
				if strings.HasPrefix(f, "metadata.") {
					continue // ObjectMeta: not in the CRD's schema
				}
				node := schema
				for _, part := range strings.Split(f, ".") {
					props, _ := node["properties"].(map[string]any)
					next, ok := props[part].(map[string]any)
					if !ok {
						t.Errorf("%s: %s: %q is not in the CRD's schema", h.Kind, f, part)
						break
					}
					node = next
				}
				checked++
			}
		}
	}
	if checked < 6 {
		t.Errorf("checked %d fields; the expressions read more", checked)
	}
}
