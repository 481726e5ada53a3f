package apply_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/yaml"

	. "github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// resourceOf is the resource of the test's kinds.
func resourceOf(obj *unstructured.Unstructured) schema.GroupVersionResource {
	if obj.GetKind() == "Deployment" {
		return deployments
	}
	return configMaps
}

// deployment decodes a Deployment in the namespace default whose one
// container app has env.
func deployment(t *testing.T, name, env string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + "}\nspec:\n  selector: {matchLabels: {app: x}}\n" +
		"  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example/app:1\n        env: " + env + "\n"
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// configMap decodes a ConfigMap in the namespace default.
func configMap(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte("apiVersion: v1\nkind: ConfigMap\n"+doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// serverApply server-side applies obj as manager, for real.
func serverApply(t *testing.T, dyn dynamic.Interface, obj *unstructured.Unstructured, manager string) {
	t.Helper()
	data, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(resourceOf(obj)).Namespace("default").Patch(t.Context(), obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: manager, Force: new(true)}); err != nil {
		t.Fatal(err)
	}
}

// takenOver are the managers kustomize-controller v1.7.3 takes over
// (kustomization_controller.go, applyOpts.Cleanup.FieldManagers), matched
// by prefix as github.com/fluxcd/pkg/ssa matches them.
var takenOver = []struct {
	name      string
	operation metav1.ManagedFieldsOperationType
}{
	{"kubectl", metav1.ManagedFieldsOperationApply},
	{"kubectl", metav1.ManagedFieldsOperationUpdate},
	{"before-first-apply", metav1.ManagedFieldsOperationUpdate},
	{"kustomize-controller", metav1.ManagedFieldsOperationUpdate},
}

// fluxApply does for real what kustomize-controller's apply does to one
// object (github.com/fluxcd/pkg/ssa's ResourceManager.Apply with the
// controller's options), step by step and independently of DiffFlux: the
// owner labels, the metadata cleanup (a JSON patch that removes the
// annotations and merges the taken-over managers' entries into one apply
// entry of kustomize-controller), the recreate of an immutable object
// with force, and the server-side apply with conflicts forced. It returns
// the object as the server then has it.
func fluxApply(t *testing.T, dyn dynamic.Interface, obj *unstructured.Unstructured, ks string, force bool) *unstructured.Unstructured {
	t.Helper()
	client := dyn.Resource(resourceOf(obj)).Namespace("default")
	obj = obj.DeepCopy()
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[flux.OwnerNameLabel], labels[flux.OwnerNamespaceLabel] = ks, "flux-system"
	obj.SetLabels(labels)
	data, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	opts := metav1.PatchOptions{FieldManager: FluxManager, Force: new(true)}
	dry := opts
	dry.DryRun = []string{metav1.DryRunAll}
	live, err := client.Get(t.Context(), obj.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Patch(t.Context(), obj.GetName(), types.ApplyPatchType, data, dry); err != nil {
		if !force || !apierrors.IsInvalid(err) {
			t.Fatalf("dry run: %v", err)
		}
		if err := client.Delete(t.Context(), obj.GetName(), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		out, err := client.Patch(t.Context(), obj.GetName(), types.ApplyPatchType, data, opts)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var patch []map[string]any
	for _, k := range []string{"kubectl.kubernetes.io/last-applied-configuration"} {
		if _, ok := live.GetAnnotations()[k]; ok {
			patch = append(patch, map[string]any{"op": "remove", "path": "/metadata/annotations/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")})
		}
	}
	var entries []metav1.ManagedFieldsEntry
	var mine *metav1.ManagedFieldsEntry
	merged := &fieldpath.Set{}
	for _, e := range live.GetManagedFields() {
		taken := e.Manager == FluxManager && e.Operation == metav1.ManagedFieldsOperationApply
		for _, m := range takenOver {
			taken = taken || (e.Subresource == "" && e.Operation == m.operation && strings.HasPrefix(e.Manager, m.name))
		}
		if !taken {
			entries = append(entries, e)
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			t.Fatal(err)
		}
		merged = merged.Union(s)
		if mine == nil {
			e := e
			mine = &e
		}
	}
	if mine != nil {
		raw, err := merged.ToJSON()
		if err != nil {
			t.Fatal(err)
		}
		mine.Manager, mine.Operation, mine.FieldsV1 = FluxManager, metav1.ManagedFieldsOperationApply, &metav1.FieldsV1{Raw: raw}
		patch = append(patch, map[string]any{"op": "replace", "path": "/metadata/managedFields", "value": append(entries, *mine)})
	}
	if len(patch) > 0 {
		raw, err := json.Marshal(patch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Patch(t.Context(), obj.GetName(), types.JSONPatchType, raw, metav1.PatchOptions{FieldManager: FluxManager}); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
	}
	out, err := client.Patch(t.Context(), obj.GetName(), types.ApplyPatchType, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDiffFlux runs DiffFlux against a real kube-apiserver on ConfigMaps
// put there by kubectl (server-side and client-side apply), by
// kustomize-controller and by another manager, then applies each as
// kustomize-controller does and checks that the object became exactly
// what DiffFlux said it would.
func TestDiffFlux(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	cp := sim.StartForTest(t)
	cfg := cp.RESTConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cms := dyn.Resource(configMaps).Namespace("default")

	// kubectl apply --server-side: a field and a label the bundle no
	// longer has, and a field whose value differs.
	serverApply(t, dyn, configMap(t, "metadata: {name: by-kubectl, labels: {extra: x}}\ndata: {a: '1', b: '2', c: old}\n"), "kubectl")
	// kubectl apply (client-side): the last-applied annotation and an
	// update entry of kubectl-client-side-apply.
	csa := configMap(t, "metadata: {name: by-csa, annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}}\ndata: {a: '1', b: '2'}\n")
	if _, err := cms.Create(t.Context(), csa, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	// Another manager's fields stay.
	serverApply(t, dyn, configMap(t, "metadata: {name: by-someone}\ndata: {a: '1', mine: keep}\n"), "someone")
	// kustomize-controller already applied the bundle's object.
	same := configMap(t, "metadata: {name: by-flux, labels: {"+flux.OwnerNameLabel+": stage, "+flux.OwnerNamespaceLabel+": flux-system}}\ndata: {a: '1'}\n")
	serverApply(t, dyn, same, FluxManager)
	// Skipped by their marks, in the cluster or in the bundle.
	serverApply(t, dyn, configMap(t, "metadata: {name: disabled, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}\ndata: {a: '0'}\n"), "kubectl")
	serverApply(t, dyn, configMap(t, "metadata: {name: if-not-present}\ndata: {a: '0'}\n"), "kubectl")
	// Immutable: changing its data fails, unless forced.
	serverApply(t, dyn, configMap(t, "metadata: {name: immutable}\nimmutable: true\ndata: {a: '0'}\n"), "kubectl")
	serverApply(t, dyn, configMap(t, "metadata: {name: immutable-forced}\nimmutable: true\ndata: {a: '0'}\n"), "kubectl")

	// A Deployment whose container kubectl gave an environment variable
	// the bundle does not have: an item of a keyed list in a keyed list.
	serverApply(t, dyn, deployment(t, "deploy", "[{name: KEEP, value: '1'}, {name: EXTRA, value: '2'}]"), "kubectl")

	bundle := []FluxObject{
		{Object: deployment(t, "deploy", "[{name: KEEP, value: '1'}]")},
		{Object: configMap(t, "metadata: {name: by-kubectl}\ndata: {a: '1', c: new}\n")},
		{Object: configMap(t, "metadata: {name: by-csa}\ndata: {a: '1'}\n")},
		{Object: configMap(t, "metadata: {name: by-someone}\ndata: {a: '2'}\n")},
		{Object: configMap(t, "metadata: {name: by-flux}\ndata: {a: '1'}\n")},
		{Object: configMap(t, "metadata: {name: disabled}\ndata: {a: '1'}\n")},
		{Object: configMap(t, "metadata: {name: if-not-present, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}\ndata: {a: '1'}\n")},
		{Object: configMap(t, "metadata: {name: immutable}\nimmutable: true\ndata: {a: '1'}\n")},
		{Object: configMap(t, "metadata: {name: immutable-forced}\nimmutable: true\ndata: {a: '1'}\n"), Force: true},
		{Object: configMap(t, "metadata: {name: new, namespace: default}\ndata: {a: '1'}\n")},
	}
	for i := range bundle {
		bundle[i].Kustomization, bundle[i].Namespace = "stage", "flux-system"
	}
	diffs, err := DiffFlux(t.Context(), cfg, bundle)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ObjectDiff{}
	for _, d := range diffs {
		byName[d.Name] = d
	}

	// What DiffFlux says.
	for name, want := range map[string][]string{
		"by-kubectl":       {"-    extra: x\n", "+    kustomize.toolkit.fluxcd.io/name: stage\n", "-  b: \"2\"\n", "-  c: old\n+  c: new\n"},
		"by-csa":           {"-    kubectl.kubernetes.io/last-applied-configuration: '{}'\n", "-  b: \"2\"\n"},
		"by-someone":       {"-  a: \"1\"\n+  a: \"2\"\n"},
		"deploy":           {"-        - name: EXTRA\n-          value: \"2\"\n"},
		"new":              {"+++ bundle/configmap/default/new\n", "+  a: \"1\"\n"},
		"immutable-forced": {"+++ bundle/configmap/default/immutable-forced (deleted and created anew)\n", "-  a: \"0\"\n+  a: \"1\"\n"},
	} {
		d := byName[name]
		if d.Err != nil {
			t.Errorf("%s: %v", name, d.Err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(d.Diff, w) {
				t.Errorf("%s: the diff lacks %q:\n%s", name, w, d.Diff)
			}
		}
	}
	if d := byName["by-someone"]; !strings.Contains(d.Merged, "mine: keep") || strings.Contains(d.Diff, "-  mine") {
		t.Errorf("by-someone: another manager's field is shown changed:\n%s", d.Diff)
	}
	if d := byName["by-flux"]; d.Diff != "" || d.Err != nil {
		t.Errorf("by-flux: applied by kustomize-controller already, yet: %v\n%s", d.Err, d.Diff)
	}
	for _, name := range []string{"disabled", "if-not-present"} {
		if d := byName[name]; d.Skipped == "" || d.Diff != "" {
			t.Errorf("%s: not skipped: %+v", name, d)
		}
	}
	if d := byName["immutable"]; d.Err == nil || !apierrors.IsInvalid(d.Err) {
		t.Errorf("immutable without force: %+v, want the server's Invalid", d)
	}
	if !byName["immutable-forced"].Recreate || !byName["new"].Missing {
		t.Errorf("recreate or missing not said: %+v %+v", byName["immutable-forced"], byName["new"])
	}
	for _, name := range []string{"by-kubectl", "by-csa", "by-someone", "by-flux", "immutable-forced", "deploy"} {
		res := configMaps
		if name == "deploy" {
			res = deployments
		}
		if live, _ := dyn.Resource(res).Namespace("default").Get(t.Context(), name, metav1.GetOptions{}); live == nil {
			t.Fatalf("%s is gone: DiffFlux changed the cluster", name)
		}
	}

	// What kustomize-controller's apply then does: exactly that.
	for _, o := range bundle {
		name := o.Object.GetName()
		d := byName[name]
		if d.Err != nil || d.Skipped != "" || d.Missing {
			continue
		}
		got, err := CleanYAML(fluxApply(t, dyn, o.Object, o.Kustomization, o.Force))
		if err != nil {
			t.Fatal(err)
		}
		if got != d.Merged {
			t.Errorf("%s: kustomize-controller's apply made\n%s\nDiffFlux said\n%s", name, got, d.Merged)
		}
	}
	// Once applied, nothing differs.
	diffs, err = DiffFlux(t.Context(), cfg, bundle[:5])
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Diff != "" || d.Err != nil {
			t.Errorf("%s after the apply: %v\n%s", d.Name, d.Err, d.Diff)
		}
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    ObjectDiff
		want string
	}{
		{ObjectDiff{APIVersion: "v1", Kind: "Namespace", Name: "rook-ceph"}, "v1.Namespace..rook-ceph"},
		{ObjectDiff{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "cfg"}, "v1.ConfigMap.shop.cfg"},
		{ObjectDiff{APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "rook-ceph", Name: "rook-ceph"}, "ceph.rook.io.v1.CephCluster.rook-ceph.rook-ceph"},
		{ObjectDiff{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "stretch-verify"}, "rbac.authorization.k8s.io.v1.ClusterRole..stretch-verify"},
	} {
		if got := tt.d.FileName(); got != tt.want {
			t.Errorf("FileName(%s) = %q, want %q (kubectl diff's name)", tt.d, got, tt.want)
		}
	}
}
