package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// DefaultNamespace is where a namespaced object without a namespace is
// dry-run, as kubectl does without a context namespace.
const DefaultNamespace = "default"

// workers bounds the number of dry-run requests in flight.
const workers = 8

// Result is the outcome of one object's dry run.
type Result struct {
	// APIVersion, Kind, Namespace and Name identify the object. Namespace is
	// empty for cluster-scoped objects and DefaultNamespace for namespaced
	// objects that named none.
	APIVersion, Kind, Namespace, Name string
	// Applied is true when the object was really applied, not dry-run: only
	// a Namespace from the list that did not exist yet (see DryRun).
	Applied bool
	// Err is the server's (or the mapper's) error when the object was
	// rejected, and nil when it was accepted.
	Err error
}

// String identifies the object as "apiVersion kind namespace/name", or
// "apiVersion kind name" for cluster-scoped objects.
func (r Result) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s %s %s", r.APIVersion, r.Kind, r.Name)
	}
	return fmt.Sprintf("%s %s %s/%s", r.APIVersion, r.Kind, r.Namespace, r.Name)
}

// RejectedError lists every object the server rejected.
type RejectedError struct {
	// Rejected holds the results with a non-nil Err, in input order.
	Rejected []Result
}

// Error lists every rejected object and the server's message, one a line.
func (e *RejectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d object(s) rejected:", len(e.Rejected))
	for _, r := range e.Rejected {
		fmt.Fprintf(&b, "\n  %s: %v", r, r.Err)
	}
	return b.String()
}

// Unwrap returns the individual errors, so errors.Is and errors.As see them.
func (e *RejectedError) Unwrap() []error {
	errs := make([]error, len(e.Rejected))
	for i, r := range e.Rejected {
		errs[i] = r.Err
	}
	return errs
}

// DryRun server-side applies every object with DryRun=All and reports, for
// each object in input order, whether the API server accepted it. Field
// validation is Strict, so an unknown or duplicate field is a rejection, not
// a warning. Conflicts with other field managers are forced, because the
// question is whether the server accepts the object, not who owns which
// field.
//
// Namespaces: the API server refuses even a dry-run create in a namespace
// that does not exist. So that a bundle that creates its own namespaces can
// be checked as a whole, DryRun first really applies (not dry-run) every
// Namespace in objs that does not exist yet, and marks its Result Applied.
// Namespaces that exist are dry-run like every other object. An object in a
// namespace that neither exists nor is in objs is rejected with the server's
// NotFound. Run DryRun against a scratch cluster, such as internal/sim, when
// creating namespaces matters.
//
// Kinds are mapped to resources through discovery. When a kind is unknown,
// discovery is read again once, since CRDs may have just been installed.
//
// The returned error is a *RejectedError naming every rejected object when
// at least one was rejected, or another error when the server could not be
// asked at all (then the results are nil).
func DryRun(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured, fieldManager string) ([]Result, error) {
	a, err := newApplier(ctx, cfg, fieldManager)
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}

	results := make([]Result, len(objs))
	for i, obj := range objs {
		results[i] = Result{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName()}
	}
	// Namespaces first and one by one: the rest depends on them.
	var others []int
	for i, obj := range objs {
		if obj.GroupVersionKind().GroupKind() == (schema.GroupKind{Kind: "Namespace"}) {
			a.namespace(ctx, obj, &results[i])
			continue
		}
		others = append(others, i)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The rest in parallel, each worker writing only its own slot.
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(others)) {
		wg.Go(func() {
			for i := range jobs {
				a.dryRun(ctx, objs[i], &results[i])
			}
		})
	}
	for _, i := range others {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var rejected []Result
	for _, r := range results {
		if r.Err != nil {
			rejected = append(rejected, r)
		}
	}
	if len(rejected) > 0 {
		return results, &RejectedError{Rejected: rejected}
	}
	return results, nil
}

// newApplier connects to the API server, failing as a whole (not once per
// object) when it cannot be reached.
func newApplier(ctx context.Context, cfg *rest.Config, fieldManager string) (*applier, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	if _, err := disco.ServerVersionWithContext(ctx); err != nil {
		// No status: client-go gave up within the request timeout
		// (its rate limiter or retries after 429 in the way, or no
		// answer at all).
		var status apierrors.APIStatus
		if ctx.Err() == nil && !errors.As(err, &status) {
			return nil, fmt.Errorf("the API server did not answer GET /version within %s (%w): "+
				"retry later, or allow more time with --request-timeout", cfg.Timeout, err)
		}
		return nil, err
	}
	return &applier{
		dyn:          dyn,
		mapper:       restmapper.NewDeferredDiscoveryRESTMapperWithContext(memory.NewMemCacheClientWithContext(disco)),
		fieldManager: fieldManager,
	}, nil
}

// applier holds what every request needs.
type applier struct {
	dyn          dynamic.Interface
	fieldManager string

	mu     sync.Mutex // serialises mapper refreshes
	mapper *restmapper.DeferredDiscoveryRESTMapper
	reset  map[schema.GroupKind]bool // kinds a refresh was already spent on
}

// namespace really applies a Namespace that does not exist and dry-runs one
// that does.
func (a *applier) namespace(ctx context.Context, obj *unstructured.Unstructured, r *Result) {
	mapping, err := a.mapping(ctx, obj)
	if err != nil {
		r.Err = err
		return
	}
	client := a.dyn.Resource(mapping.Resource)
	_, err = client.Get(ctx, obj.GetName(), metav1.GetOptions{})
	switch {
	case err == nil:
		a.dryRun(ctx, obj, r)
	case apierrors.IsNotFound(err):
		_, r.Err = a.apply(ctx, client, obj, false)
		r.Applied = r.Err == nil
	default:
		r.Err = err
	}
}

// dryRun server-side applies obj with DryRun=All and records the outcome.
func (a *applier) dryRun(ctx context.Context, obj *unstructured.Unstructured, r *Result) {
	client, ns, err := a.resource(ctx, obj)
	r.Namespace = ns
	if err != nil {
		r.Err = err
		return
	}
	if obj.GetName() == "" {
		r.Err = errors.New("object has no metadata.name")
		return
	}
	_, r.Err = a.apply(ctx, client, obj, true)
}

// apply server-side applies obj with strict field validation and forced
// conflicts, as a dry run or for real, and returns the object the server
// answered with.
func (a *applier) apply(ctx context.Context, client dynamic.ResourceInterface, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	opts := metav1.PatchOptions{
		FieldManager:    a.fieldManager,
		Force:           new(true),
		FieldValidation: metav1.FieldValidationStrict,
	}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return client.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
}

// resource returns the client of obj's resource, scoped to its namespace
// (DefaultNamespace when it sets none) for a namespaced kind, and that
// namespace ("" for a cluster-scoped kind).
func (a *applier) resource(ctx context.Context, obj *unstructured.Unstructured) (dynamic.ResourceInterface, string, error) {
	mapping, err := a.mapping(ctx, obj)
	if err != nil {
		return nil, "", err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return a.dyn.Resource(mapping.Resource), "", nil
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = DefaultNamespace
	}
	return a.dyn.Resource(mapping.Resource).Namespace(ns), ns, nil
}

// mapping finds the REST resource of obj's kind, reading discovery again
// once per kind when the kind is not known.
func (a *applier) mapping(ctx context.Context, obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := obj.GroupVersionKind()
	a.mu.Lock()
	defer a.mu.Unlock()
	mapping, err := a.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if err == nil || !meta.IsNoMatchError(err) || a.reset[gvk.GroupKind()] {
		return mapping, err
	}
	if a.reset == nil {
		a.reset = map[schema.GroupKind]bool{}
	}
	a.reset[gvk.GroupKind()] = true
	a.mapper.ResetWithContext(ctx)
	return a.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
}
