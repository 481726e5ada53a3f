package generators

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

// TestServerSideDryRun starts a real etcd and kube-apiserver, installs the
// real Rook v1.20.6 and Flux CRDs and the project's FelixConfiguration CRD,
// and server-side dry-run applies every object of every golden bundle:
// the API server, with the CRDs' schemas and CEL rules, must accept all.
func TestServerSideDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	cp := sim.StartForTest(t)
	start := time.Now()
	if err := cp.InstallBundleCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("CRDs established in %s", time.Since(start).Round(time.Millisecond))

	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b := renderFile(t, tc.topology, Options{})
			// Flux's bootstrap creates flux-system; the bundle only uses it.
			objs := []*unstructured.Unstructured{{Object: map[string]any{
				"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "flux-system"},
			}}}
			want := 1
			for _, f := range b.Files {
				if !layout.ClusterFile(f.Layer, f.Path) {
					continue
				}
				decoded, err := apply.Decode(f.Data)
				if err != nil {
					t.Fatalf("%s: %v", f.Path, err)
				}
				objs = append(objs, decoded...)
				want++
			}
			results, err := apply.DryRun(t.Context(), cp.RESTConfig(), objs, "kubectl-stretch-test")
			if err != nil {
				t.Fatalf("the API server refused the bundle of %s:\n%v", tc.name, err)
			}
			if len(results) != want {
				t.Fatalf("%d results for %d objects", len(results), want)
			}
			kinds := map[string]int{}
			for _, r := range results {
				if r.Err != nil {
					t.Errorf("%s: %v", r, r.Err)
				}
				kinds[r.Kind]++
			}
			for _, k := range []string{"CephCluster", "CephBlockPool", "StorageClass", "FelixConfiguration", "HelmRelease", "HelmRepository", "Kustomization", "Namespace"} {
				if kinds[k] == 0 {
					t.Errorf("no %s was dry-run applied", k)
				}
			}
		})
	}
}

// The same server refuses a CephCluster that breaks Rook's CEL rule, so
// the acceptance above means something.
func TestServerSideDryRunRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	cp := sim.StartForTest(t)
	bin, err := sim.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.InstallCRDs(t.Context(), readTestbin(t, filepath.Join(bin, "crds", "rook", "crds.yaml"))); err != nil {
		t.Fatal(err)
	}
	b := renderFile(t, "../testdata/topology.yaml", Options{})
	var objs []*unstructured.Unstructured
	for _, f := range b.Files {
		if f.Path == "storage/rook/operator/namespace.yaml" || f.Path == "storage/rook/cluster/cephcluster.yaml" {
			decoded, err := apply.Decode(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, decoded...)
		}
	}
	var cluster *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "CephCluster" {
			cluster = o
		}
	}
	zones, _, _ := unstructured.NestedSlice(cluster.Object, "spec", "mon", "stretchCluster", "zones")
	zones = append(zones, map[string]any{"name": "extra"})
	if err := unstructured.SetNestedSlice(cluster.Object, zones, "spec", "mon", "stretchCluster", "zones"); err != nil {
		t.Fatal(err)
	}
	_, err = apply.DryRun(t.Context(), cp.RESTConfig(), objs, "kubectl-stretch-test")
	if err == nil || !strings.Contains(err.Error(), "stretchCluster zones must be equal to 3") {
		t.Fatalf("a CephCluster with four stretch zones: %v", err)
	}
}

func readTestbin(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run make testbin", err)
	}
	return data
}
