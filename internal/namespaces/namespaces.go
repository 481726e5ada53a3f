// Package namespaces finds objects placed in a namespace that no object of
// the same set creates. Flux applies a stage's objects as one server-side
// apply; an object in a namespace that does not exist fails it, and the
// whole stage with it. Helm fails a release the same way. render and lint
// check the workload sources and files, post-render Helm's output (with
// the release namespace taken as created) and fn its items.
package namespaces

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

// Rule is the rule of the findings Missing returns. It is not one of the
// spread patcher's rules (spread.Rules) but is listed and reported with
// them, by render, lint, post-render and fn.
var Rule = spread.Rule{
	ID: "NAMESPACE001", Name: "namespace-not-created", Severity: spread.SeverityError,
	Title: "Objects in a namespace that nothing creates",
	Doc: "An object whose metadata.namespace names a namespace that no Namespace object of the " +
		"workload sources creates (and that is not one the cluster always has: default, " +
		"kube-system, kube-public, kube-node-lease) cannot be applied: Flux's workloads stage " +
		"fails as a whole, and no workload of any source is updated until the namespace exists. " +
		"A Helm source's release namespace is created by render, as helm install " +
		"--create-namespace would. post-render checks Helm's output the same way, taking the " +
		"release namespace (-n, else HELM_NAMESPACE, else the kubeconfig context's, as Helm " +
		"chooses it) as created: an object in another namespace that the chart does not create " +
		"fails the install or upgrade. fn checks its items, and lint the files it is given.",
	Fix: "add a Namespace object for the namespace to a workload source, or move the objects to a namespace one creates",
}

// Builtin lists the namespaces every Kubernetes cluster has.
var Builtin = []string{"default", "kube-node-lease", "kube-public", "kube-system"}

// clusterScoped lists common kinds that have no namespace: one that sets
// metadata.namespace anyway is applied without it.
var clusterScoped = []string{
	"APIService", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CustomResourceDefinition",
	"IngressClass", "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PriorityClass",
	"RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
	"ValidatingWebhookConfiguration", "VolumeSnapshotClass",
}

// Ref identifies one object and where it was read.
type Ref struct {
	Kind, Namespace, Name string
	// Source is the workload source, or empty.
	Source string
	// File is the file the object was read from; empty for built output.
	File string
	// Line is the object's line in File or its stream; 0 when unknown.
	Line int
}

// String is KIND/NAMESPACE/NAME.
func (r Ref) String() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// Group is a namespace nothing creates and the objects in it.
type Group struct {
	Namespace string
	// Objects are sorted by source, file, kind and name.
	Objects []Ref
}

// Missing returns the namespaces that objects of refs name and that neither
// a Namespace object of refs, created, nor Builtin provides, sorted, each
// with its objects.
func Missing(refs []Ref, created ...string) []Group {
	have := map[string]bool{}
	for _, ns := range slices.Concat(Builtin, created) {
		have[ns] = true
	}
	for _, r := range refs {
		if r.Kind == "Namespace" {
			have[r.Name] = true
		}
	}
	by := map[string][]Ref{}
	for _, r := range refs {
		if r.Namespace == "" || have[r.Namespace] || slices.Contains(clusterScoped, r.Kind) {
			continue
		}
		by[r.Namespace] = append(by[r.Namespace], r)
	}
	out := make([]Group, 0, len(by))
	for ns, objs := range by {
		slices.SortFunc(objs, func(a, b Ref) int {
			return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.File, b.File),
				cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
		})
		out = append(out, Group{Namespace: ns, Objects: objs})
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.Namespace, b.Namespace) })
	return out
}

// maxListed is how many objects a finding names before "and N more".
const maxListed = 5

// What an object in a namespace nothing creates breaks, said by the
// finding after the objects.
const (
	// EffectFlux is what happens to a bundle's workloads stage.
	EffectFlux = "Flux's workloads stage cannot apply them and fails as a whole"
	// EffectHelm is what happens to a Helm release (post-render).
	EffectHelm = "Helm cannot create them and the install or upgrade fails"
	// EffectApply is what happens to a KRM function's output (fn).
	EffectApply = "applying them fails until the namespace exists"
)

// Finding is the group's finding for objs (all of the group's objects, or
// those of one source), for the bundle: FindingFor with EffectFlux.
func (g Group) Finding(objs []Ref) spread.Finding {
	return g.FindingFor(objs, EffectFlux)
}

// FindingFor is the group's finding for objs: a Namespace named after the
// group, whose Problem and Message name the objects and what that breaks
// (effect), at the first object's Line.
func (g Group) FindingFor(objs []Ref, effect string) spread.Finding {
	names := make([]string, 0, maxListed+1)
	for i, r := range objs {
		if i == maxListed {
			names = append(names, fmt.Sprintf("and %d more", len(objs)-maxListed))
			break
		}
		names = append(names, printable(r.Kind+"/"+r.Name))
	}
	what := "object is"
	if len(objs) != 1 {
		what = "objects are"
	}
	problem := fmt.Sprintf("namespace %s is created by no Namespace object, yet %d %s in it (%s): %s",
		printable(g.Namespace), len(objs), what, strings.Join(names, ", "), effect)
	line := 0
	if len(objs) > 0 {
		line = objs[0].Line
	}
	return spread.Finding{
		ID: Rule.ID, Severity: Rule.Severity, Kind: "Namespace", Name: g.Namespace,
		Problem: problem, Message: problem, Fix: Rule.Fix, Line: line,
	}
}

// printable quotes s when it holds a space or a character that is not
// printable ASCII, so that no name from a manifest writes control
// characters to a terminal.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// Check returns a finding per namespace that the objects of a patched
// stream (spread.Result.Namespaced) name and that neither a Namespace
// among them, created nor the cluster (Builtin) provides, saying what
// that breaks (effect).
func Check(objs []spread.ObjectRef, effect string, created ...string) []spread.Finding {
	refs := make([]Ref, len(objs))
	for i, o := range objs {
		refs[i] = Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Line: o.Line}
	}
	var out []spread.Finding
	for _, g := range Missing(refs, created...) {
		out = append(out, g.FindingFor(g.Objects, effect))
	}
	return out
}
