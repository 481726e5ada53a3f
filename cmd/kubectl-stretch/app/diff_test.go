package app

import (
	"bytes"
	"os"
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
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// TestDiff runs diff against a real API server: everything is new; the
// bundle applied by kubectl-stretch's own field manager still differs by
// what Flux adds (its owner labels); applied as kustomize-controller,
// nothing differs; then a changed field and a deleted object show up, and
// exit codes follow kubectl diff.
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
	// Applied by hand: Flux would add its owner labels, and nothing else.
	code, out, errOut = run(t, "diff", kc, "-f", example)
	if code != ExitFailed || !strings.Contains(out, "+++ bundle/cephcluster/rook-ceph/rook-ceph\n") ||
		!strings.Contains(out, "+    kustomize.toolkit.fluxcd.io/name: stretch-storage\n+    kustomize.toolkit.fluxcd.io/namespace: flux-system\n") {
		t.Fatalf("diff after kubectl-stretch's apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "---") {
			t.Errorf("diff after kubectl-stretch's apply removes %q", line)
		}
	}
	// Applied as Flux applies it.
	fobjs, err := FluxObjects(rendered.Bundle, f.Topology.Spec.GitOps)
	if err != nil {
		t.Fatal(err)
	}
	asFlux := make([]*unstructured.Unstructured, len(fobjs))
	for i, o := range fobjs {
		asFlux[i] = o.Object.DeepCopy()
		labels := asFlux[i].GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[flux.OwnerNameLabel], labels[flux.OwnerNamespaceLabel] = o.Kustomization, o.Namespace
		asFlux[i].SetLabels(labels)
	}
	if err := apply.Apply(t.Context(), cp.RESTConfig(), asFlux, apply.FluxManager); err != nil {
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
	if !strings.HasSuffix(errOut, "1 differ, 1 missing from the cluster, 0 skipped, 0 could not be compared\n") {
		t.Errorf("summary: %s", errOut)
	}
	if strings.Contains(out, "managedFields") || strings.Contains(out, "resourceVersion") {
		t.Errorf("the diff shows server-set fields:\n%s", out)
	}

	// KUBECTL_EXTERNAL_DIFF: diff itself, on the two folders.
	t.Setenv(ExternalDiffEnv, "diff -u -N -r")
	code, out, errOut = run(t, "diff", kc, "-f", example)
	if code != ExitFailed {
		t.Fatalf("KUBECTL_EXTERNAL_DIFF=diff -u -N -r: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"/ceph.rook.io.v1.CephCluster.rook-ceph.rook-ceph\t",
		"-    count: 3\n+    count: 5\n",
		"/ceph.rook.io.v1.CephBlockPool.rook-ceph.replicapool\t",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the external diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "v1.Namespace..rook-ceph") || strings.Contains(out, "+++ bundle/") {
		t.Errorf("the external diff shows an object that does not differ, or diff's own output:\n%s", out)
	}
	// A program of one's own: its arguments and exit status are diff's.
	script := filepath.Join(t.TempDir(), "mydiff")
	record := filepath.Join(t.TempDir(), "record")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > "+record+"\nls \"$3\" \"$4\" >> "+record+"\nexit \"$2\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		status string
		code   int
	}{{"0", 0}, {"1", ExitFailed}, {"3", ExitError}} {
		t.Setenv(ExternalDiffEnv, script+" --flag "+tt.status)
		code, out, errOut = run(t, "diff", kc, "-f", example)
		if code != tt.code {
			t.Errorf("a program that exits %s: diff exits %d\n%s\n%s", tt.status, code, out, errOut)
		}
		data, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Fields(strings.SplitN(string(data), "\n", 2)[0])
		if len(args) != 4 || args[0] != "--flag" || args[1] != tt.status ||
			!strings.HasPrefix(filepath.Base(args[2]), "LIVE-") || !strings.HasPrefix(filepath.Base(args[3]), "MERGED-") {
			t.Errorf("the program's arguments: %q", args)
		}
		if !strings.Contains(string(data), "\nv1.Namespace..rook-ceph\n") || !strings.Contains(string(data), "\nceph.rook.io.v1.CephCluster.rook-ceph.rook-ceph\n") {
			t.Errorf("the folders' files:\n%s", data)
		}
		if len(args) == 4 {
			if _, err := os.Stat(args[2]); !os.IsNotExist(err) {
				t.Errorf("diff left %s behind", args[2])
			}
		}
	}
	if !strings.Contains(errOut, "error: KUBECTL_EXTERNAL_DIFF: "+script+" exited 3") {
		t.Errorf("a program that exits 3: %s", errOut)
	}
	t.Setenv(ExternalDiffEnv, "")

	// An unreachable cluster is an error, not a difference.
	code, _, _ = run(t, "diff", "--server=https://127.0.0.1:1", "--insecure-skip-tls-verify", "--request-timeout=5s", "-f", example)
	if code != ExitError {
		t.Errorf("diff against nothing: exit %d", code)
	}
}

// TestDiffBadExternalDiff: a KUBECTL_EXTERNAL_DIFF that cannot run as
// written is refused before the cluster is asked, naming the variable and
// the word.
func TestDiffBadExternalDiff(t *testing.T) {
	for env, want := range map[string]string{
		"no-such-diff-program -u": `error: KUBECTL_EXTERNAL_DIFF="no-such-diff-program -u": program no-such-diff-program: exec: "no-such-diff-program": executable file not found in $PATH`,
		"diff '-u'":               `error: KUBECTL_EXTERNAL_DIFF="diff '-u'": argument "'-u'": kubectl diff passes only arguments made of letters, digits, - and =, and no shell runs the program; use a script for anything else`,
		"diff -u | less":          `argument "|"`,
		" diff":                   `error: KUBECTL_EXTERNAL_DIFF=" diff": starts with a space`,
	} {
		t.Setenv(ExternalDiffEnv, env)
		code, out, errOut := run(t, "diff", "--server=https://127.0.0.1:1", "-f", example)
		if code != ExitError || out != "" || !strings.Contains(errOut, want) || strings.Contains(errOut, "127.0.0.1") {
			t.Errorf("KUBECTL_EXTERNAL_DIFF=%q: exit %d\nout %q\nerr %s\nwant %s", env, code, out, errOut, want)
		}
	}
}

// TestFluxObjects: each object of the example's bundle is given the Flux
// Kustomization whose path holds its file, with the topology's
// spec.gitops.path in front; the flux/ folder's objects the root
// Kustomization.
func TestFluxObjects(t *testing.T) {
	t.Parallel()
	for _, gitopsPath := range []string{".", "clusters/prod"} {
		f, err := topology.Load(example)
		if err != nil {
			t.Fatal(err)
		}
		f.Topology.Spec.GitOps.Path = gitopsPath
		rendered, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(example)})
		if err != nil {
			t.Fatal(err)
		}
		objs, err := FluxObjects(rendered.Bundle, f.Topology.Spec.GitOps)
		if err != nil {
			t.Fatal(err)
		}
		cluster, err := ClusterObjects(rendered.Bundle)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != len(cluster) {
			t.Fatalf("%d Flux objects, %d cluster objects", len(objs), len(cluster))
		}
		got := map[string]string{}
		for _, o := range objs {
			if o.Namespace != "flux-system" || o.Force {
				t.Errorf("%s %s: Kustomization %s/%s force %v", o.Object.GetKind(), o.Object.GetName(), o.Namespace, o.Kustomization, o.Force)
			}
			got[o.Object.GetKind()+"/"+o.Object.GetName()] = o.Kustomization
		}
		for obj, want := range map[string]string{
			"CephCluster/rook-ceph":           "stretch-storage",
			"CephBlockPool/replicapool":       "stretch-storage",
			"HelmRelease/rook-ceph":           "stretch-storage-operator",
			"FelixConfiguration/default":      "stretch-network",
			"ClusterRole/stretch-verify":      "stretch-access",
			"Kustomization/stretch-workloads": "flux-system",
			"Kustomization/stretch-access":    "flux-system",
			"StatefulSet/orders-db":           "stretch-workloads",
		} {
			if got[obj] != want {
				t.Errorf("spec.gitops.path %s: %s is applied by %q, want %q", gitopsPath, obj, got[obj], want)
			}
		}
	}
}

// TestFluxObjectsOutsidePath refuses a bundle whose Flux Kustomization
// applies a folder outside spec.gitops.path, its parent included, as a
// mixin could make it.
func TestFluxObjectsOutsidePath(t *testing.T) {
	t.Parallel()
	f, err := topology.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	f.Topology.Spec.GitOps.Path = "clusters/prod"
	for _, outside := range []string{"./clusters", "./clusters/other", "./", "../x"} {
		rendered, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(example)})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for i, file := range rendered.Bundle.Files {
			if file.Path == "flux/access.yaml" {
				rendered.Bundle.Files[i].Data = bytes.Replace(file.Data, []byte("path: ./clusters/prod/access"), []byte("path: "+outside), 1)
				found = !bytes.Equal(rendered.Bundle.Files[i].Data, file.Data)
			}
		}
		if !found {
			t.Fatal("no flux/access.yaml with path: ./clusters/prod/access in the bundle")
		}
		_, err = FluxObjects(rendered.Bundle, f.Topology.Spec.GitOps)
		want := "flux/access.yaml: Kustomization stretch-access applies " + outside + ", outside clusters/prod"
		if err == nil || err.Error() != want {
			t.Errorf("path %s: error %v, want %s", outside, err, want)
		}
	}
}
