package app

import (
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TestDiff runs diff against a real API server: everything is new, then
// nothing differs once the bundle is applied, then a changed field and a
// deleted object show up, and exit codes follow kubectl diff.
func TestDiff(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	cp := sim.StartForTest(t)
	if err := cp.InstallBundleCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + cp.Kubeconfig()

	code, out, errOut := run(t, "diff", kc, "-f", example)
	if code != ExitFailed || !strings.Contains(out, "+++ bundle/cephcluster/rook-ceph/rook-ceph\n") || !strings.Contains(errOut, "missing from the cluster") {
		t.Fatalf("diff against an empty cluster: exit %d\n%s\n%s", code, out, errOut)
	}

	f, err := topology.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(example)})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ClusterObjects(rendered.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	fluxNS := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "flux-system"}}}
	if err := apply.Apply(t.Context(), cp.RESTConfig(), append([]*unstructured.Unstructured{fluxNS}, objs...), FieldManager); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "diff", kc, "-f", example)
	if code != 0 || out != "" {
		t.Fatalf("diff after apply: exit %d\n%s\n%s", code, out, errOut)
	}

	// Someone scales the mons down by hand and deletes a pool.
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	clusters := dyn.Resource(schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters"}).Namespace("rook-ceph")
	patch := []byte(`{"apiVersion":"ceph.rook.io/v1","kind":"CephCluster","metadata":{"name":"rook-ceph"},"spec":{"mon":{"count":3}}}`)
	force := true
	if _, err := clusters.Patch(t.Context(), "rook-ceph", types.ApplyPatchType, patch, metav1.PatchOptions{FieldManager: "someone", Force: &force}); err != nil {
		t.Fatal(err)
	}
	pools := dyn.Resource(schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephblockpools"}).Namespace("rook-ceph")
	if err := pools.Delete(t.Context(), "replicapool", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "diff", kc, "-f", example)
	if code != ExitFailed {
		t.Fatalf("diff after a change: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"--- live/cephcluster/rook-ceph/rook-ceph\n+++ bundle/cephcluster/rook-ceph/rook-ceph\n",
		"-    count: 3\n+    count: 5\n",
		"+++ bundle/cephblockpool/rook-ceph/replicapool\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(errOut, "1 differ, 1 missing from the cluster, 0 could not be compared\n") {
		t.Errorf("summary: %s", errOut)
	}
	if strings.Contains(out, "managedFields") || strings.Contains(out, "resourceVersion") {
		t.Errorf("the diff shows server-set fields:\n%s", out)
	}

	// An unreachable cluster is an error, not a difference.
	code, _, _ = run(t, "diff", "--server=https://127.0.0.1:1", "--insecure-skip-tls-verify", "--request-timeout=5s", "-f", example)
	if code != ExitError {
		t.Errorf("diff against nothing: exit %d", code)
	}
}
