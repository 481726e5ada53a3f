package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/stretch-dev/kubectl-stretch/internal/crds"
)

// FieldManager is the field manager of what the simulated cluster and its
// operators write themselves. It must not start with "kubectl": Flux's
// kustomize-controller takes over the fields of every manager whose name
// does (kubectl apply's), and would then remove, at each reconcile, what
// the simulated operators write, as it never would a real operator's.
const FieldManager = "stretch-sim"

// crdInstallTimeout bounds InstallCRDs when ctx has no deadline.
const crdInstallTimeout = 2 * time.Minute

// crdWorkers bounds the CRD applies in flight. The API server rebuilds its
// OpenAPI document after each one, so more parallelism buys little.
const crdWorkers = 4

var crdResource = schema.GroupVersionResource{
	Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
}

// InstallCRDs creates or updates (server-side apply, strict field
// validation, conflicts forced) every CustomResourceDefinition in docs, each
// a multi-document YAML stream such as crds.FelixConfiguration() or the
// content of Rook's crds.yaml. It returns
// when every CRD is Established and its served versions are listed by
// discovery, so that clients can use the new kinds at once.
func (c *ControlPlane) InstallCRDs(ctx context.Context, docs ...[]byte) error {
	var objs []*unstructured.Unstructured
	for i, doc := range docs {
		parsed, err := crds.Parse(doc)
		if err != nil {
			return fmt.Errorf("install CRDs: document stream %d: %w", i+1, err)
		}
		objs = append(objs, parsed...)
	}
	if len(objs) == 0 {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, crdInstallTimeout)
		defer cancel()
	}
	cfg := c.RESTConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	client := dyn.Resource(crdResource)
	start := time.Now()
	if err := applyCRDs(ctx, client, objs); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	applied := time.Now()
	if err := waitEstablished(ctx, client, objs); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	established := time.Now()
	if err := waitDiscovery(ctx, disco, objs); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	c.logf("%d CRDs applied in %s, Established %s later, in discovery %s later", len(objs),
		applied.Sub(start).Round(10*time.Millisecond), established.Sub(applied).Round(10*time.Millisecond), since(established))
	return nil
}

// applyCRDs server-side applies every CRD, a few at a time, and returns the
// errors of all that failed.
func applyCRDs(ctx context.Context, client dynamic.ResourceInterface, objs []*unstructured.Unstructured) error {
	errs := make([]error, len(objs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(crdWorkers, len(objs)) {
		wg.Go(func() {
			for i := range jobs {
				errs[i] = applyCRD(ctx, client, objs[i])
			}
		})
	}
	for i := range objs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// applyCRD server-side applies one CRD with strict field validation, so a
// typo in a CRD file is an error rather than a silently dropped field.
func applyCRD(ctx context.Context, client dynamic.ResourceInterface, obj *unstructured.Unstructured) error {
	data, err := obj.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode %s: %w", obj.GetName(), err)
	}
	_, err = client.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager:    FieldManager,
		Force:           new(true),
		FieldValidation: metav1.FieldValidationStrict,
	})
	if err != nil {
		return fmt.Errorf("apply %s: %w", obj.GetName(), err)
	}
	return nil
}

// waitEstablished polls until every CRD has the condition Established, and
// fails at once when the API server did not accept a CRD's names.
func waitEstablished(ctx context.Context, client dynamic.ResourceInterface, objs []*unstructured.Unstructured) error {
	pending := map[string]bool{}
	for _, obj := range objs {
		pending[obj.GetName()] = true
	}
	return poll(ctx, func(ctx context.Context) (bool, error) {
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, crd := range list.Items {
			if !pending[crd.GetName()] {
				continue
			}
			if status, msg := condition(&crd, "NamesAccepted"); status == "False" {
				return false, &fatalError{fmt.Errorf("CRD %s: names not accepted: %s", crd.GetName(), msg)}
			}
			if status, _ := condition(&crd, "Established"); status == "True" {
				delete(pending, crd.GetName())
			}
		}
		if len(pending) > 0 {
			return false, fmt.Errorf("not Established yet: %s", strings.Join(sortedKeys(pending), ", "))
		}
		return true, nil
	})
}

// waitDiscovery polls until discovery lists the resource of every served
// version of every CRD.
func waitDiscovery(ctx context.Context, disco *discovery.DiscoveryClient, objs []*unstructured.Unstructured) error {
	want := map[string][]string{} // group/version -> plurals
	for _, obj := range objs {
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
		for _, v := range versions {
			version, ok := v.(map[string]any)
			if !ok || version["served"] != true {
				continue
			}
			name, _ := version["name"].(string)
			gv := group + "/" + name
			want[gv] = append(want[gv], plural)
		}
	}
	return poll(ctx, func(ctx context.Context) (bool, error) {
		var missing []string
		for _, gv := range sortedKeys(want) {
			list, err := disco.ServerResourcesForGroupVersionWithContext(ctx, gv)
			if err != nil && !apierrors.IsNotFound(err) {
				return false, err
			}
			served := map[string]bool{}
			if list != nil {
				for _, r := range list.APIResources {
					served[r.Name] = true
				}
			}
			for _, plural := range want[gv] {
				if !served[plural] {
					missing = append(missing, gv+" "+plural)
				}
			}
		}
		if len(missing) > 0 {
			return false, fmt.Errorf("not in discovery yet: %s", strings.Join(missing, ", "))
		}
		return true, nil
	})
}

// poll calls check every 100 ms until it reports done, returns a
// *fatalError, or ctx ends. Other errors are taken as "not yet" and the last
// one is quoted when ctx ends.
func poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		done, err := check(ctx)
		if done {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", context.Cause(ctx), err)
		case <-ticker.C:
		}
	}
}

// fatalError stops poll at once.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// condition returns the status and message of the named status condition.
func condition(obj *unstructured.Unstructured, name string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cond, ok := c.(map[string]any)
		if !ok || cond["type"] != name {
			continue
		}
		status, _ = cond["status"].(string)
		message, _ = cond["message"].(string)
		return status, message
	}
	return "", ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// InstallBundleCRDs installs every CRD a rendered bundle uses: Rook's and
// Flux's from the binary folder's crds/ (fetched by make testbin) and the
// project's FelixConfiguration. Missing files are a *MissingBinaryError.
func (c *ControlPlane) InstallBundleCRDs(ctx context.Context) error {
	docs, err := bundleCRDs(c.opts.BinDir, true)
	if err != nil {
		return fmt.Errorf("install bundle CRDs: %w", err)
	}
	return c.InstallCRDs(ctx, docs...)
}
