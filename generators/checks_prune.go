package generators

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// neverPruned lists the objects whose deletion destroys data or security,
// and why. Flux prunes what leaves the source, so renaming a file, a stage
// or a pool would delete them unless they carry
// kustomize.toolkit.fluxcd.io/prune: disabled.
var neverPruned = []struct {
	kind string
	// match reports whether obj is one of them.
	match func(m *topology.Model, obj any) bool
	why   string
}{
	{"Namespace", func(m *topology.Model, obj any) bool {
		ns, ok := obj.(*corev1.Namespace)
		return ok && ns.Name == m.Storage.Namespace
	}, "deleting the Rook namespace deletes the CephCluster and every Ceph daemon"},
	{"CephCluster", func(_ *topology.Model, obj any) bool {
		_, ok := obj.(*rook.CephCluster)
		return ok
	}, "deleting the CephCluster tears down Ceph and its data"},
	{"CephBlockPool", func(_ *topology.Model, obj any) bool {
		_, ok := obj.(*rook.CephBlockPool)
		return ok
	}, "deleting a CephBlockPool deletes its volumes' data"},
	{"FelixConfiguration", func(_ *topology.Model, obj any) bool {
		f, ok := obj.(*calico.FelixConfiguration)
		return ok && f.Name == "default"
	}, "deleting FelixConfiguration default turns WireGuard off between the regions, silently"},
}

func checkNeverPruned(m *topology.Model, objs []object) []string {
	var errs []string
	for _, o := range objs {
		meta, ok := o.Typed.(metav1.Object)
		if !ok {
			continue
		}
		for _, k := range neverPruned {
			if k.match(m, o.Typed) && meta.GetAnnotations()[flux.PruneAnnotation] != flux.PruneDisabled {
				errs = append(errs, fmt.Sprintf("%s: %s %s needs the annotation %s: %s, or Flux deletes it when it leaves the bundle: %s",
					o.Path, k.kind, meta.GetName(), flux.PruneAnnotation, flux.PruneDisabled, k.why))
			}
		}
	}
	return errs
}
