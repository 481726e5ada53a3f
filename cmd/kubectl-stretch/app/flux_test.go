//go:build unix

package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Flux's kinds that the loop test reads.
var (
	fluxKustomizations = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	fluxHelmReleases   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	fluxGitRepos       = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	fluxHelmRepos      = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmrepositories"}
	fluxHelmCharts     = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmcharts"}
	fluxKinds          = []schema.GroupVersionResource{fluxGitRepos, fluxHelmRepos, fluxHelmCharts, fluxKustomizations, fluxHelmReleases}
)

// fluxWait bounds every wait for Flux in the loop test.
const fluxWait = 6 * time.Minute

// fluxWork is a liveWork whose cluster runs Flux, with a clone of the
// served repository in repo/.
type fluxWork struct {
	*liveWork
	dyn   dynamic.Interface
	disco discovery.DiscoveryInterface
	repo  string
	url   string
}

// requireFlux fails (skips with -short) unless make testbin built Flux's
// controllers.
func requireFlux(t *testing.T, binDir string) {
	t.Helper()
	for _, name := range sim.FluxControllers {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			msg := fmt.Sprintf("%s not found: run make testbin", filepath.Join(binDir, name))
			if testing.Short() {
				t.Skip(msg)
			}
			t.Fatal(msg)
		}
	}
}

// newFluxWork starts `sim up --operators --flux` in a new work folder and
// clones the served repository into repo/.
func newFluxWork(t *testing.T) *fluxWork {
	l := newLiveWork(t)
	requireFlux(t, requireTestbin(t))
	testenv.Tool(t, "git", "the Debian package git")
	l.env = append(l.env, "GIT_AUTHOR_NAME=Flux loop", "GIT_AUTHOR_EMAIL=loop@example.com",
		"GIT_COMMITTER_NAME=Flux loop", "GIT_COMMITTER_EMAIL=loop@example.com")
	out := l.must(l.exe, "sim", "up", "-f", "topology.yaml", "--operators", "--flux", "--mirrored-topology", "mirrored.yaml")
	f := fluxOf(t, l)
	d, err := sim.Open(filepath.Join(l.work, sim.DefaultStateDir))
	if err != nil {
		t.Fatal(err)
	}
	if url := f.gitURL(); !strings.Contains(out, "git clone "+url) || !strings.Contains(out, "kubectl stretch render -f mirrored.yaml -o repo --commit") {
		t.Fatalf("sim up --flux does not print the clone URL %q and the render of mirrored.yaml:\n%s", url, out)
	}
	l.must("git", "clone", "--quiet", f.gitURL(), "repo")
	// The mirrored topology names the simulation's chart repository as
	// the mirror of both HelmRepositories; the tests render it as
	// topology.yaml.
	mirrored, err := topology.Load(filepath.Join(l.work, "mirrored.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []v1alpha1.ChartMirror{{Name: topology.RookRepositoryName, URL: d.ChartsURL()}, {Name: topology.CSIRepositoryName, URL: d.ChartsURL()}}
	if got := mirrored.Topology.Spec.GitOps.ChartMirrors; !slices.Equal(got, want) {
		t.Fatalf("mirrored.yaml: chartMirrors %v, want %v", got, want)
	}
	if err := os.Rename(filepath.Join(l.work, "mirrored.yaml"), filepath.Join(l.work, "topology.yaml")); err != nil {
		t.Fatal(err)
	}
	return f
}

// fluxOf reaches the Flux objects of the cluster that sim up --flux
// started in l's work folder. A failing test prints every Flux object's
// conditions.
func fluxOf(t *testing.T, l *liveWork) *fluxWork {
	t.Helper()
	d, err := sim.Open(filepath.Join(l.work, sim.DefaultStateDir))
	if err != nil {
		t.Fatal(err)
	}
	if d.GitURL() == "" {
		t.Fatal("sim up --flux recorded no Git URL")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", d.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	f := &fluxWork{liveWork: l, dyn: dynamic.NewForConfigOrDie(cfg), disco: discovery.NewDiscoveryClientForConfigOrDie(cfg),
		repo: filepath.Join(l.work, "repo"), url: d.GitURL()}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("Flux objects at the failure:\n" + f.conditions())
		}
	})
	return f
}

// gitURL is the clone URL of the served repository.
func (f *fluxWork) gitURL() string { return f.url }

// conditions describes every Flux object: kind, name, conditions.
func (f *fluxWork) conditions() string {
	var b strings.Builder
	for _, gvr := range fluxKinds {
		list, err := f.dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", gvr.Resource, err)
			continue
		}
		for _, o := range list.Items {
			fmt.Fprintf(&b, "%s %s/%s (generation %d):\n", o.GetKind(), o.GetNamespace(), o.GetName(), o.GetGeneration())
			conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				fmt.Fprintf(&b, "  %v=%v %v (%v): %v\n", m["type"], m["status"], m["reason"], m["lastTransitionTime"], m["message"])
			}
		}
	}
	return b.String()
}

// push commits what is staged or changed in repo/ (render --commit has
// committed already when nothing is) and pushes it; it returns the pushed
// commit.
func (f *fluxWork) push(message string) string {
	f.t.Helper()
	if strings.TrimSpace(f.must("git", "-C", "repo", "status", "--porcelain")) != "" {
		f.must("git", "-C", "repo", "add", "-A")
		f.must("git", "-C", "repo", "commit", "--quiet", "-m", message)
	}
	f.must("git", "-C", "repo", "push", "--quiet", "origin", "HEAD:main")
	return strings.TrimSpace(f.must("git", "-C", "repo", "rev-parse", "HEAD"))
}

// readyAt returns when obj last turned Ready, or false when it is not Ready
// for its current generation (and, when revision is set, at it).
func readyAt(obj *unstructured.Unstructured, revision string) (time.Time, bool) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	if observed != obj.GetGeneration() {
		return time.Time{}, false
	}
	if revision != "" && obj.GetKind() == "Kustomization" {
		applied, _, _ := unstructured.NestedString(obj.Object, "status", "lastAppliedRevision")
		if !strings.HasSuffix(applied, revision) {
			return time.Time{}, false
		}
	}
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" && m["status"] == "True" {
			at, err := time.Parse(time.RFC3339, fmt.Sprint(m["lastTransitionTime"]))
			return at, err == nil
		}
	}
	return time.Time{}, false
}

// waitFluxReady waits until every Kustomization and HelmRelease is Ready,
// the Kustomizations at revision, and the names of wantKs are all there. It
// returns the Kustomizations.
func (f *fluxWork) waitFluxReady(what, revision string, wantKs []string) map[string]*unstructured.Unstructured {
	f.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(fluxWait)
	for {
		ks := map[string]*unstructured.Unstructured{}
		var pending []string
		for _, gvr := range []schema.GroupVersionResource{fluxKustomizations, fluxHelmReleases} {
			list, err := f.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
			if err != nil {
				f.t.Fatalf("%s: list %s: %v", what, gvr.Resource, err)
			}
			for i := range list.Items {
				o := &list.Items[i]
				if gvr == fluxKustomizations {
					ks[o.GetName()] = o
				}
				if _, ok := readyAt(o, revision); !ok {
					pending = append(pending, o.GetKind()+" "+o.GetName())
				}
			}
		}
		for _, name := range wantKs {
			if ks[name] == nil {
				pending = append(pending, "Kustomization "+name+" (missing)")
			}
		}
		if len(pending) == 0 {
			return ks
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: not Ready after %s: %s", what, fluxWait, strings.Join(pending, ", "))
		}
		time.Sleep(2 * time.Second)
	}
}

// inventory lists the IDs (namespace_name_group_kind) of what Flux applied
// for a Kustomization, sorted.
func inventory(obj *unstructured.Unstructured) []string {
	entries, _, _ := unstructured.NestedSlice(obj.Object, "status", "inventory", "entries")
	var ids []string
	for _, e := range entries {
		m, _ := e.(map[string]any)
		ids = append(ids, fmt.Sprint(m["id"]))
	}
	sort.Strings(ids)
	return ids
}

// built lists the IDs of the objects that kustomize builds from dir, in
// the inventory's form, sorted.
func built(t *testing.T, dir string) []string {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var ids []string
	for _, r := range res.Resources() {
		gvk := r.GetGvk()
		ids = append(ids, strings.Join([]string{r.GetNamespace(), r.GetName(), gvk.Group, gvk.Kind}, "_"))
	}
	sort.Strings(ids)
	return ids
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// stagePath gives the folder of a stage Kustomization in the work folder.
func (f *fluxWork) stagePath(k *unstructured.Unstructured) string {
	p, _, _ := unstructured.NestedString(k.Object, "spec", "path")
	return filepath.Join(f.repo, filepath.FromSlash(p))
}

// TestFluxLoop is the GitOps loop for real: sim up --flux runs Flux's own
// controllers; render --commit into a clone of the served repository and a
// push make Flux apply the bundle, stage after stage in dependsOn order,
// helm-controller installing the charts; verify passes. A change of the
// topology is applied exactly, and removing a stage leaves what the bundle
// marks never to prune.
func TestFluxLoop(t *testing.T) {
	f := newFluxWork(t)

	// 1. Render and commit into the clone, push: Flux takes it from there.
	f.must(f.exe, "render", "-f", "topology.yaml", "-o", "repo", "--commit")
	pushed := time.Now()
	rev := f.push("bundle")
	ks := f.waitFluxReady("first push", rev, []string{"flux-system", "stretch-access", "stretch-network",
		"stretch-storage-operator", "stretch-storage", "stretch-workloads"})
	t.Logf("TIMING push to every Kustomization and HelmRelease Ready: %s", time.Since(pushed).Round(100*time.Millisecond))

	// 2. The stages turned Ready in their dependsOn order, and each applied
	// exactly what its folder builds.
	for name, k := range ks {
		at, _ := readyAt(k, "")
		deps, _, _ := unstructured.NestedSlice(k.Object, "spec", "dependsOn")
		for _, d := range deps {
			dep := fmt.Sprint(d.(map[string]any)["name"])
			if ks[dep] == nil {
				t.Fatalf("Kustomization %s depends on %s, which does not exist", name, dep)
			}
			if depAt, _ := readyAt(ks[dep], ""); depAt.After(at) {
				t.Errorf("Kustomization %s turned Ready at %s, before its dependency %s (%s)", name, at, dep, depAt)
			}
		}
		if want, got := built(t, f.stagePath(k)), inventory(k); !slices.Equal(got, want) {
			t.Errorf("Kustomization %s applied %d objects, its folder builds %d:\nonly applied: %v\nonly built: %v",
				name, len(got), len(want), minus(got, want), minus(want, got))
		}
	}
	// helm-controller installed the charts from the served repository:
	// the releases are Ready (above) and their Deployments run as pods.
	releases, err := f.dyn.Resource(fluxHelmReleases).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(releases.Items) < 2 {
		t.Fatalf("HelmReleases: %d, %v; want rook-ceph and ceph-csi-drivers", len(releases.Items), err)
	}
	for _, sel := range []string{"app=rook-ceph-operator", "control-plane=ceph-csi-op-controller-manager"} {
		phases := strings.Fields(f.must(f.kubectl, "get", "pods", "-n", "rook-ceph", "-l", sel, "-o", "jsonpath={.items[*].status.phase}"))
		if len(phases) == 0 || slices.ContainsFunc(phases, func(p string) bool { return p != "Running" }) {
			t.Errorf("pods %s of the charts helm-controller installed: %q, want Running", sel, phases)
		}
	}
	f.eventually("after Flux applied the bundle")
	if t.Failed() {
		return
	}
	// diff predicts what Flux's apply would change; once the real
	// kustomize-controller has applied the bundle, that is nothing.
	if code, out, errOut := f.sh(f.exe, "diff", "-f", "topology.yaml"); code != 0 {
		t.Errorf("diff after Flux applied the bundle: exit %d, want 0 (Flux has nothing left to change)\n%s%s", code, out, errOut)
	}

	// 3. A new pool and a new workload: Flux applies exactly the change.
	before := map[string][]string{}
	for name, k := range ks {
		before[name] = inventory(k)
	}
	topo, err := os.ReadFile(filepath.Join(f.work, "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const pools = "    blockPools:\n"
	if !strings.Contains(string(topo), pools) {
		t.Fatalf("the example topology has no %q", pools)
	}
	topo = []byte(strings.Replace(string(topo), pools, pools+"    - name: fastpool\n      storageClass: ceph-fast\n", 1))
	if err := os.WriteFile(filepath.Join(f.work, "topology.yaml"), topo, 0o644); err != nil {
		t.Fatal(err)
	}
	extra := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: ledger}
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers:
      - name: ledger
        image: registry.example.com/ledger:1.0
`
	if err := os.WriteFile(filepath.Join(f.work, "apps", "ledger.yaml"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	f.must(f.exe, "render", "-f", "topology.yaml", "-o", "repo", "--commit")
	pushed = time.Now()
	rev2 := f.push("a pool and a workload")
	if rev2 == rev {
		t.Fatal("render --commit committed nothing for a new pool and a new workload")
	}
	ks = f.waitFluxReady("after the change", rev2, nil)
	t.Logf("TIMING push of a change to every Kustomization Ready at it: %s", time.Since(pushed).Round(100*time.Millisecond))
	changed := map[string]bool{}
	for name, k := range ks {
		after := inventory(k)
		wantAdded, wantRemoved := minus(built(t, f.stagePath(k)), before[name]), minus(before[name], built(t, f.stagePath(k)))
		added, removed := minus(after, before[name]), minus(before[name], after)
		if !slices.Equal(added, wantAdded) || !slices.Equal(removed, wantRemoved) {
			t.Errorf("Kustomization %s: applied +%v -%v, the bundle's change is +%v -%v", name, added, removed, wantAdded, wantRemoved)
		}
		if len(added)+len(removed) > 0 {
			changed[name] = true
		}
	}
	for _, id := range []string{"rook-ceph_fastpool_ceph.rook.io_CephBlockPool", "_ceph-fast_storage.k8s.io_StorageClass"} {
		if !slices.Contains(inventory(ks["stretch-storage"]), id) {
			t.Errorf("stretch-storage's inventory lacks %s: %v", id, inventory(ks["stretch-storage"]))
		}
	}
	if !slices.Contains(inventory(ks["stretch-workloads"]), "shop_ledger_apps_Deployment") {
		t.Errorf("stretch-workloads' inventory lacks the new Deployment: %v", inventory(ks["stretch-workloads"]))
	}
	for _, name := range []string{"stretch-access", "stretch-network", "stretch-storage-operator"} {
		if changed[name] {
			t.Errorf("Kustomization %s changed its inventory, the change does not touch it", name)
		}
	}
	f.eventually("after the change")

	// 4. A commit that removes the storage stage: Flux deletes the stage's
	// Kustomization and prunes what it applied, except what the bundle
	// marks kustomize.toolkit.fluxcd.io/prune: disabled.
	storage := inventory(ks["stretch-storage"])
	kfile := filepath.Join(f.repo, "flux", "kustomization.yaml")
	data, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "- storage.yaml\n") {
		t.Fatalf("%s does not list storage.yaml:\n%s", kfile, data)
	}
	if err := os.WriteFile(kfile, []byte(strings.Replace(string(data), "- storage.yaml\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.repo, "flux", "storage.yaml")); err != nil {
		t.Fatal(err)
	}
	f.push("remove the storage stage")
	ctx := context.Background()
	deadline := time.Now().Add(fluxWait)
	for {
		_, err := f.dyn.Resource(fluxKustomizations).Namespace("flux-system").Get(ctx, "stretch-storage", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Kustomization stretch-storage still there %s after its removal was pushed (%v)", fluxWait, err)
		}
		time.Sleep(2 * time.Second)
	}
	var kept, pruned int
	for _, id := range storage {
		parts := strings.Split(id, "_")
		ns, name, group, kind := parts[0], parts[1], parts[2], parts[3]
		obj, err := f.getByKind(ctx, group, kind, ns, name)
		marked := obj != nil && obj.GetAnnotations()["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
		switch {
		case kind == "CephCluster" || kind == "CephBlockPool":
			if err != nil || obj.GetDeletionTimestamp() != nil || !marked {
				t.Errorf("%s %s/%s was pruned with its stage (err %v), the bundle marks it never to prune", kind, ns, name, err)
			}
			kept++
		case !marked:
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s %s/%s left its stage's inventory but was not pruned (err %v)", kind, ns, name, err)
			}
			pruned++
		}
	}
	t.Logf("removing the storage stage: %d objects kept (prune: disabled), %d pruned", kept, pruned)
	if kept == 0 || pruned == 0 {
		t.Errorf("the storage stage's inventory %v: %d kept, %d pruned; want some of each", storage, kept, pruned)
	}
}

// getByKind reads one object by its group and kind, found through
// discovery.
func (f *fluxWork) getByKind(ctx context.Context, group, kind, ns, name string) (*unstructured.Unstructured, error) {
	groups, err := restmapper.GetAPIGroupResources(f.disco)
	if err != nil {
		return nil, err
	}
	mapping, err := restmapper.NewDiscoveryRESTMapper(groups).RESTMapping(schema.GroupKind{Group: group, Kind: kind})
	if err != nil {
		return nil, err
	}
	if ns == "" {
		return f.dyn.Resource(mapping.Resource).Get(ctx, name, metav1.GetOptions{})
	}
	return f.dyn.Resource(mapping.Resource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
}
