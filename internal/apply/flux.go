package apply

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// FluxManager is the field manager Flux's kustomize-controller applies as.
const FluxManager = flux.ControllerName

// The rules of kustomize-controller, as DiffFlux follows them.
var (
	// fluxExclusions skip an object, desired or live, that carries one of
	// them as a label or an annotation (values compared
	// case-insensitively).
	fluxExclusions = map[string]string{flux.ReconcileKey: flux.ReconcileDisabled, flux.SSAKey: flux.SSAIgnore}
	// fluxIfNotPresent skips a desired object that carries it once the
	// object exists.
	fluxIfNotPresent = map[string]string{flux.SSAKey: flux.SSAIfNotPresent}
	// fluxForce recreates an object whose immutable fields change.
	fluxForce = map[string]string{flux.ForceKey: flux.ForceEnabled}
	// fluxCleanupExclusion keeps an object's metadata from cleanup.
	fluxCleanupExclusion = map[string]string{flux.SSAKey: flux.SSAMerge}
)

// takenOver reports whether kustomize-controller takes over the fields of
// e before applying: e's manager starts with one of
// flux.CleanupFieldManagers' names, with its operation, on the main
// resource, as the ssa library matches them (so kubectl-stretch,
// kubectl-client-side-apply and kubectl-edit are taken over too).
func takenOver(e metav1.ManagedFieldsEntry) bool {
	for _, m := range flux.CleanupFieldManagers {
		if e.Operation == m.Operation && e.Subresource == "" && strings.HasPrefix(e.Manager, m.Name) {
			return true
		}
	}
	return false
}

// FluxObject is one object of a bundle and the Flux Kustomization that
// applies it.
type FluxObject struct {
	Object *unstructured.Unstructured
	// Kustomization and Namespace name the Flux Kustomization whose path
	// holds the object; they become the object's owner labels.
	Kustomization, Namespace string
	// Force is the Kustomization's spec.force: recreate the object when
	// an immutable field changes.
	Force bool
}

// DiffFlux compares each object with what Flux's kustomize-controller
// would make of it in the cluster, without changing anything. It follows
// the controller's rules:
//
//   - the object gets the owner labels kustomize.toolkit.fluxcd.io/name
//     and /namespace of its Kustomization;
//   - an object marked kustomize.toolkit.fluxcd.io/reconcile: disabled or
//     kustomize.toolkit.fluxcd.io/ssa: Ignore (in the bundle or the
//     cluster), or ssa: IfNotPresent and present, is skipped (Skipped);
//   - it is server-side applied as kustomize-controller with conflicts
//     forced, as a dry run;
//   - an immutable field change recreates the object with spec.force or
//     kustomize.toolkit.fluxcd.io/force: enabled (Recreate), and is an
//     error otherwise, as the controller's apply fails;
//   - unless marked ssa: Merge, the live object's kubectl annotation
//     (last-applied-configuration), Flux's deprecated annotations and
//     labels are removed, and the fields owned by kubectl (any manager
//     whose name starts with kubectl, applied or updated),
//     before-first-apply and kustomize-controller's own updates become
//     kustomize-controller's, so that those the bundle no longer sets and
//     no other manager owns are removed. DiffFlux removes them from the
//     dry run's result and has the server dry-run the update, so that
//     its defaults apply.
//
// Results, errors and ErrStopped are as Diff's.
func DiffFlux(ctx context.Context, cfg *rest.Config, objs []FluxObject) ([]ObjectDiff, error) {
	a, err := newApplier(ctx, cfg, FluxManager)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return diffEach(ctx, objs, func(o FluxObject) *unstructured.Unstructured { return o.Object }, a.diffFlux)
}

func (a *applier) diffFlux(ctx context.Context, o FluxObject) ObjectDiff {
	obj := o.Object.DeepCopy()
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[flux.OwnerNameLabel], labels[flux.OwnerNamespaceLabel] = o.Kustomization, o.Namespace
	obj.SetLabels(labels)

	d := ObjectDiff{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName()}
	client, ns, err := a.resource(ctx, obj)
	d.Namespace = ns
	if err != nil {
		d.Err = err
		return d
	}
	if ns != "" {
		obj.SetNamespace(ns)
	}
	live, err := client.Get(ctx, obj.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.Missing = true
		live = nil
	case err != nil:
		d.Err = err
		return d
	}
	if reason := fluxSkip(obj, live); reason != "" {
		d.Skipped = reason
		return d
	}
	merged, err := a.apply(ctx, client, obj, true)
	switch {
	case err != nil && d.Missing && apierrors.IsNotFound(err):
		// Its namespace does not exist yet: the object would be created
		// as it is.
		merged = obj
	case err != nil && live != nil && immutable(err) && (o.Force || anyInMetadata(obj, fluxForce) || anyInMetadata(live, fluxForce)):
		// Deleted and applied anew.
		d.Recreate = true
		merged = obj
	case err != nil:
		d.Err = err
		return d
	case live != nil && !anyInMetadata(obj, fluxCleanupExclusion) && !anyInMetadata(live, fluxCleanupExclusion):
		if merged, err = a.fluxCleanup(ctx, client, live, merged); err != nil {
			d.Err = err
			return d
		}
	}
	d.setDiff(live, merged, false)
	return d
}

// fluxSkip says why kustomize-controller would skip obj, or "".
func fluxSkip(obj, live *unstructured.Unstructured) string {
	for _, o := range []*unstructured.Unstructured{obj, live} {
		if o != nil && anyInMetadata(o, fluxExclusions) {
			return "marked " + flux.ReconcileKey + ": " + flux.ReconcileDisabled + " or " + flux.SSAKey + ": " + flux.SSAIgnore
		}
	}
	if live != nil && anyInMetadata(obj, fluxIfNotPresent) {
		return "marked " + flux.SSAKey + ": " + flux.SSAIfNotPresent + " and present"
	}
	return ""
}

// anyInMetadata reports whether obj has one of the labels or annotations,
// its value compared case-insensitively, as Flux compares them.
func anyInMetadata(obj *unstructured.Unstructured, kv map[string]string) bool {
	labels, anns := obj.GetLabels(), obj.GetAnnotations()
	for k, v := range kv {
		if (labels[k] != "" && strings.EqualFold(labels[k], v)) || (anns[k] != "" && strings.EqualFold(anns[k], v)) {
			return true
		}
	}
	return false
}

// immutableMessages are the messages of immutable-field errors that are
// neither Conflict nor Invalid (webhooks, CEL), as Flux matches them.
var immutableMessages = []*regexp.Regexp{
	regexp.MustCompile(`.*is\simmutable.*`),
	regexp.MustCompile(`.*immutable\sfield.*`),
}

// immutable reports whether err is an immutable-field error as Flux (and
// kubectl) tells one: a Conflict, an Invalid, or a message that says so.
func immutable(err error) bool {
	if apierrors.IsConflict(err) || apierrors.IsInvalid(err) {
		return true
	}
	for _, re := range immutableMessages {
		if re.MatchString(err.Error()) {
			return true
		}
	}
	return false
}

// fluxCleanup applies to merged, the dry run's result, what
// kustomize-controller's metadata cleanup of live changes: the cleaned-up
// annotations and labels go, and the fields of the managers it takes over
// that the apply does not set and no other manager owns are removed. When
// fields are removed, the server dry-runs the update, so that its defaults
// and admission apply to the result.
func (a *applier) fluxCleanup(ctx context.Context, client dynamic.ResourceInterface, live, merged *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := merged.DeepCopy()
	changed := false
	if anns := out.GetAnnotations(); anns != nil {
		for _, k := range flux.CleanupAnnotations {
			if _, ok := anns[k]; ok {
				delete(anns, k)
				changed = true
			}
		}
		out.SetAnnotations(anns)
	}
	if labels := out.GetLabels(); labels != nil {
		for _, k := range flux.CleanupLabels {
			if _, ok := labels[k]; ok {
				delete(labels, k)
				changed = true
			}
		}
		out.SetLabels(labels)
	}
	removed, err := takenOverFields(live, merged)
	if err != nil {
		return nil, fmt.Errorf("managed fields of %s %s: %w", live.GetKind(), live.GetName(), err)
	}
	removed.Iterate(func(p fieldpath.Path) {
		if removePath(out.Object, p) {
			changed = true
		}
	})
	if !changed {
		return merged, nil
	}
	unstructured.RemoveNestedField(out.Object, "metadata", "managedFields")
	return client.Update(ctx, out, metav1.UpdateOptions{
		DryRun:       []string{metav1.DryRunAll},
		FieldManager: FluxManager,
	})
}

// takenOverFields returns the fields that the apply removes once
// kustomize-controller has taken over the managers (takenOver) in
// live: the fields they own there, less those kustomize-controller's apply
// sets (its entry in merged) and those another manager owns in merged.
func takenOverFields(live, merged *unstructured.Unstructured) (*fieldpath.Set, error) {
	taken := &fieldpath.Set{}
	for _, e := range live.GetManagedFields() {
		if takenOver(e) {
			s, err := fieldSet(e)
			if err != nil {
				return nil, err
			}
			taken = taken.Union(s)
		}
	}
	if taken.Empty() {
		return taken, nil
	}
	kept := &fieldpath.Set{}
	for _, e := range merged.GetManagedFields() {
		if takenOver(e) {
			continue // kustomize-controller's once taken over
		}
		s, err := fieldSet(e)
		if err != nil {
			return nil, err
		}
		// kustomize-controller's apply entry is what it sets; every other
		// entry, status included, keeps its fields.
		kept = kept.Union(s)
	}
	removed := &fieldpath.Set{}
	taken.Difference(kept).Iterate(func(p fieldpath.Path) {
		// A field that holds a kept field stays, as the server keeps a
		// struct's field that the applied configuration names.
		if !hasDescendant(kept, p) {
			removed.Insert(p)
		}
	})
	return removed, nil
}

// hasDescendant reports whether s holds a path below p.
func hasDescendant(s *fieldpath.Set, p fieldpath.Path) bool {
	for _, pe := range p {
		s = s.WithPrefix(pe)
	}
	return !s.Empty()
}

// fieldSet decodes a managed fields entry.
func fieldSet(e metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if e.FieldsV1 == nil {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
		return nil, fmt.Errorf("%s: %w", e.Manager, err)
	}
	return s, nil
}

// removePath removes the field or list item at p from obj and reports
// whether it was there.
func removePath(obj map[string]any, p fieldpath.Path) bool {
	_, removed := removeIn(obj, p)
	return removed
}

// removeIn removes p from node and returns the node as it then is.
func removeIn(node any, p fieldpath.Path) (any, bool) {
	if len(p) == 0 {
		return node, false
	}
	pe := p[0]
	if pe.FieldName != nil {
		m, ok := node.(map[string]any)
		if !ok {
			return node, false
		}
		child, ok := m[*pe.FieldName]
		if !ok {
			return node, false
		}
		if len(p) == 1 {
			delete(m, *pe.FieldName)
			return m, true
		}
		updated, removed := removeIn(child, p[1:])
		m[*pe.FieldName] = updated
		return m, removed
	}
	l, ok := node.([]any)
	if !ok {
		return node, false
	}
	i := listIndex(l, pe)
	if i < 0 {
		return node, false
	}
	if len(p) == 1 {
		return append(l[:i:i], l[i+1:]...), true
	}
	updated, removed := removeIn(l[i], p[1:])
	l[i] = updated
	return l, removed
}

// listIndex finds the list item pe names: by its key fields, its value or
// its index; -1 when there is none.
func listIndex(l []any, pe fieldpath.PathElement) int {
	switch {
	case pe.Index != nil:
		if *pe.Index < len(l) {
			return *pe.Index
		}
	case pe.Value != nil:
		for i, item := range l {
			if value.Equals(value.NewValueInterface(item), *pe.Value) {
				return i
			}
		}
	case pe.Key != nil:
	items:
		for i, item := range l {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			for _, f := range *pe.Key {
				v, ok := m[f.Name]
				if !ok || !value.Equals(value.NewValueInterface(v), f.Value) {
					continue items
				}
			}
			return i
		}
	}
	return -1
}
