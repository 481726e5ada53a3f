package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// ObjectDiff is how one object of the bundle differs from the cluster.
type ObjectDiff struct {
	APIVersion, Kind, Namespace, Name string
	// Missing is true when the object does not exist in the cluster.
	Missing bool
	// Diff is a unified diff from the live object to what applying the
	// bundle would make of it; empty when they are the same.
	Diff string
	// Live and Merged are the two sides of Diff: the live object and what
	// applying the bundle would make of it, as YAML without status and
	// server-set metadata; "" for an object that does not exist.
	Live, Merged string
	// Skipped says why the object was not compared (DiffFlux: Flux would
	// not apply it); "" when it was.
	Skipped string
	// Recreate is true when applying deletes the object and creates it
	// anew, as Flux does on an immutable field change with force.
	Recreate bool
	// Err is why the object could not be compared.
	Err error
}

// FileName names the object's file as kubectl diff names it in the
// folders it hands KUBECTL_EXTERNAL_DIFF: group.version.kind.namespace.name
// (no "group." for the core group, an empty namespace for a cluster-scoped
// object).
func (d ObjectDiff) FileName() string {
	group, version, ok := strings.Cut(d.APIVersion, "/")
	if !ok {
		group, version = "", d.APIVersion
	}
	name := version + "." + d.Kind + "." + d.Namespace + "." + d.Name
	if group != "" {
		name = group + "." + name
	}
	return name
}

// String names the object.
func (d ObjectDiff) String() string {
	if d.Namespace == "" {
		return d.APIVersion + " " + d.Kind + " " + d.Name
	}
	return d.APIVersion + " " + d.Kind + " " + d.Namespace + "/" + d.Name
}

// Diff compares each object with the cluster without changing anything:
// it reads the live object and server-side applies the object with
// DryRun=All (as fieldManager, conflicts forced, strict validation), so
// that defaults, admission and merges are the server's, then diffs the two
// with managed fields, status and server-set metadata left out. An object
// in a namespace that does not exist yet is diffed against nothing, as it
// is. Results are in input order. The error is non-nil only when the
// cluster cannot be reached; per-object failures are in ObjectDiff.Err.
// Once the server stops answering (see ErrStopped), the objects left are
// not compared and have ErrStopped.
func Diff(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured, fieldManager string) ([]ObjectDiff, error) {
	a, err := newApplier(ctx, cfg, fieldManager)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return diffEach(ctx, objs, func(o *unstructured.Unstructured) *unstructured.Unstructured { return o }, a.diff)
}

// diffEach diffs each item in order with diff, the object of an item
// being obj(item), and stops asking the server once it has stopped
// answering: the items left get ErrStopped.
func diffEach[T any](ctx context.Context, items []T, obj func(T) *unstructured.Unstructured, diff func(context.Context, T) ObjectDiff) ([]ObjectDiff, error) {
	out := make([]ObjectDiff, len(items))
	var stop error
	for i, item := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if stop != nil {
			o := obj(item)
			out[i] = ObjectDiff{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Err: stop}
			continue
		}
		out[i] = diff(ctx, item)
		if unanswered(out[i].Err) {
			stop = ErrStopped
		}
	}
	return out, nil
}

// ErrStopped is the error of the objects Diff did not compare because the
// API server had stopped answering: one request timed out, failed in the
// network or was still refused with 429 Too Many Requests after
// client-go's retries. Diff stops there rather than wait the request
// timeout once per object.
var ErrStopped = errors.New("not compared: the API server stopped answering")

// unanswered says whether err means that the API server did not answer:
// a network error or timeout, or 429 after client-go's retries.
func unanswered(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err)
}

func (a *applier) diff(ctx context.Context, obj *unstructured.Unstructured) ObjectDiff {
	d := ObjectDiff{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName()}
	client, ns, err := a.resource(ctx, obj)
	d.Namespace = ns
	if err != nil {
		d.Err = err
		return d
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
	merged, err := a.apply(ctx, client, obj, true)
	if err != nil {
		// Its namespace does not exist yet: the object would be created
		// as it is.
		if !(d.Missing && apierrors.IsNotFound(err)) {
			d.Err = err
			return d
		}
		merged = obj.DeepCopy()
	}
	d.setDiff(live, merged, true)
	return d
}

// setDiff fills in Live, Merged and Diff, or Err. hideLastApplied leaves
// kubectl's last-applied-configuration annotation out of both sides.
func (d *ObjectDiff) setDiff(live, merged *unstructured.Unstructured, hideLastApplied bool) {
	var err error
	if d.Live, err = cleanYAML(live, hideLastApplied); err != nil {
		d.Err = err
		return
	}
	if d.Merged, err = cleanYAML(merged, hideLastApplied); err != nil {
		d.Err = err
		return
	}
	if d.Live == d.Merged && !d.Recreate {
		return
	}
	name := strings.ToLower(d.Kind) + "/" + d.Name
	if d.Namespace != "" {
		name = strings.ToLower(d.Kind) + "/" + d.Namespace + "/" + d.Name
	}
	to := "bundle/" + name
	if d.Recreate {
		to += " (deleted and created anew)"
	}
	d.Diff, d.Err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(d.Live), B: difflib.SplitLines(d.Merged),
		FromFile: "live/" + name, ToFile: to, Context: 3,
	})
}

// serverFields are the metadata fields the server sets; they are never a
// difference worth showing.
var serverFields = []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"}

// cleanYAML renders an object without status and server-set metadata,
// and with hideLastApplied without kubectl's last-applied-configuration
// annotation.
func cleanYAML(obj *unstructured.Unstructured, hideLastApplied bool) (string, error) {
	if obj == nil {
		return "", nil
	}
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "status")
	for _, f := range serverFields {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	if anns := c.GetAnnotations(); anns != nil && hideLastApplied {
		delete(anns, "kubectl.kubernetes.io/last-applied-configuration")
		if len(anns) == 0 {
			unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
		} else {
			c.SetAnnotations(anns)
		}
	}
	data, err := yaml.Marshal(c.Object)
	if err != nil {
		return "", fmt.Errorf("encode %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return string(data), nil
}

// Apply server-side applies every object for real (as fieldManager,
// conflicts forced, strict validation), Namespaces first, and returns an
// error naming every object the server refused.
func Apply(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured, fieldManager string) error {
	a, err := newApplier(ctx, cfg, fieldManager)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	ordered := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			ordered = append(ordered, o)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			ordered = append(ordered, o)
		}
	}
	var rejected []Result
	for _, obj := range ordered {
		r := Result{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName()}
		client, ns, err := a.resource(ctx, obj)
		r.Namespace = ns
		if err == nil {
			_, err = a.apply(ctx, client, obj, false)
		}
		if r.Err = err; err != nil {
			rejected = append(rejected, r)
		}
	}
	if len(rejected) > 0 {
		return &RejectedError{Rejected: rejected}
	}
	return nil
}
