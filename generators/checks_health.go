package generators

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// checkStorageHealth checks that the Kustomization applying the Rook
// cluster waits for the CephCluster and its pools with CEL health checks:
// kstatus, which wait: true uses alone, does not read Rook's status, and
// the workloads stage would start before Ceph can make a volume.
func checkStorageHealth(m *topology.Model, objs []object) []string {
	var errs []string
	for _, k := range typedOf[*flux.Kustomization](objs) {
		dir, _ := filepath.Rel(path.Clean(m.GitOps.Path), path.Clean(k.Spec.Path))
		if filepath.ToSlash(dir) != layout.DirStorage {
			continue
		}
		where := pathOf(objs, k)
		if !k.Spec.Wait {
			errs = append(errs, fmt.Sprintf("%s: Kustomization %s needs wait: true; Flux evaluates healthCheckExprs only when it waits", where, k.Name))
		}
		for _, kind := range []string{"CephCluster", "CephBlockPool"} {
			found := false
			for _, h := range k.Spec.HealthExprs {
				if h.APIVersion == rook.APIVersion && h.Kind == kind && h.Current != "" {
					found = true
				}
			}
			if !found {
				errs = append(errs, fmt.Sprintf("%s: Kustomization %s needs a healthCheckExprs entry for %s %s: without it Flux calls the stage ready before Ceph is, and the workloads stage starts with volumes that cannot bind", where, k.Name, rook.APIVersion, kind))
			}
		}
	}
	return errs
}
