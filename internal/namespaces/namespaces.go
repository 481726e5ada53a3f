// Package namespaces finds objects placed in a namespace that no object of
// the same set creates. Flux applies a stage's objects as one server-side
// apply; an object in a namespace that does not exist fails it, and the
// whole stage with it.
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
// them, by lint and render.
var Rule = spread.Rule{
	ID: "NAMESPACE001", Name: "namespace-not-created", Severity: spread.SeverityError,
	Title: "Objects in a namespace that nothing creates",
	Doc: "An object whose metadata.namespace names a namespace that no Namespace object of the " +
		"workload sources creates (and that is not one the cluster always has: default, " +
		"kube-system, kube-public, kube-node-lease) cannot be applied: Flux's workloads stage " +
		"fails as a whole, and no workload of any source is updated until the namespace exists. " +
		"A Helm source's release namespace is created by render, as helm install " +
		"--create-namespace would.",
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

// Finding is the group's finding for objs (all of the group's objects, or
// those of one source): a Namespace named after the group, whose Problem
// and Message name the objects.
func (g Group) Finding(objs []Ref) spread.Finding {
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
	problem := fmt.Sprintf("namespace %s is created by no Namespace object, yet %d %s in it (%s): "+
		"Flux's workloads stage cannot apply them and fails as a whole",
		printable(g.Namespace), len(objs), what, strings.Join(names, ", "))
	return spread.Finding{
		ID: Rule.ID, Severity: Rule.Severity, Kind: "Namespace", Name: g.Namespace,
		Problem: problem, Message: problem, Fix: Rule.Fix,
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
