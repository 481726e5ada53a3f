package generators

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// billingObjects are a ConfigMap and a Service in namespace billing, and a
// ConfigMap in each namespace the cluster or the bundle always has.
const billingObjects = `apiVersion: v1
kind: ConfigMap
metadata: {name: rates, namespace: billing}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: billing}
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: default}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: system, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: in-rook, namespace: rook-ceph}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: no-namespace}
`

// renderWithSources renders the example with its apps source and, under
// extra/, a source per entry of files (folder name to its files).
func renderWithSources(t *testing.T, sources map[string]map[string]string) []Finding {
	t.Helper()
	files := map[string]string{}
	for src, fs := range sources {
		for name, data := range fs {
			files[src+"/"+name] = data
		}
	}
	topo := exampleWith(t, "", files)
	dir := filepath.Dir(topo)
	f, err := topology.Load(topo)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"billing", "platform"} {
		if _, ok := sources[src]; ok {
			f.Topology.Spec.Workloads.Sources = append(f.Topology.Spec.Workloads.Sources, v1alpha1.Source{Name: src, Path: src})
		}
	}
	_, findings, err := renderObjects(context.Background(), f.Topology, Options{BaseDir: dir})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return findings
}

func namespaceFindings(findings []Finding) []Finding {
	var out []Finding
	for _, f := range findings {
		if f.ID == namespaces.Rule.ID {
			out = append(out, f)
		}
	}
	return out
}

// TestRenderReportsUncreatedNamespace: objects in billing, which no source
// creates, are one error-level risk of their source naming them; the
// namespaces the cluster has (default, kube-system), the Rook namespace
// the bundle creates and the example's shop are not reported.
func TestRenderReportsUncreatedNamespace(t *testing.T) {
	got := namespaceFindings(renderWithSources(t, map[string]map[string]string{
		"billing": {"objects.yaml": billingObjects},
	}))
	if len(got) != 1 {
		t.Fatalf("got %d %s findings, want 1: %+v", len(got), namespaces.Rule.ID, got)
	}
	f := got[0]
	want := "namespace billing is created by no Namespace object, yet 2 objects are in it (ConfigMap/rates, Service/api): " +
		"Flux's workloads stage cannot apply them and fails as a whole"
	if f.Source != "billing" || f.Severity != "error" || f.Changed || f.Kind != "Namespace" || f.Name != "billing" || f.Message != want ||
		!strings.HasSuffix(f.File, filepath.Join("billing", "objects.yaml")) {
		t.Errorf("finding %+v\nwant source billing, severity error, not changed, Namespace/billing, file billing/objects.yaml and message\n%s", f, want)
	}
}

// TestRenderNamespaceFromAnotherSource: a Namespace object in any source
// creates it for every source.
func TestRenderNamespaceFromAnotherSource(t *testing.T) {
	got := namespaceFindings(renderWithSources(t, map[string]map[string]string{
		"billing":  {"objects.yaml": billingObjects},
		"platform": {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: billing}\n"},
	}))
	if len(got) != 0 {
		t.Errorf("got %+v, want no %s finding: the platform source creates billing", got, namespaces.Rule.ID)
	}
}

// TestRenderExampleCreatesItsNamespaces: the example and every golden
// topology report no namespace finding.
func TestRenderExampleCreatesItsNamespaces(t *testing.T) {
	for _, tc := range goldenCases(t) {
		f, err := topology.Load(tc.topology)
		if err != nil {
			t.Fatal(err)
		}
		_, findings, err := renderObjects(context.Background(), f.Topology, Options{BaseDir: filepath.Dir(tc.topology)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := namespaceFindings(findings); len(got) != 0 {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}
