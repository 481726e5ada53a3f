package generators

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// Every bundle marks the objects whose loss destroys data or security so
// that Flux never prunes them, and each kind of them is present.
func TestNeverPrunedObjectsAreMarked(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := topology.Load(tc.topology)
			if err != nil {
				t.Fatal(err)
			}
			objs, _, err := renderObjects(t.Context(), f.Topology, Options{BaseDir: filepath.Dir(tc.topology)})
			if err != nil {
				t.Fatal(err)
			}
			m := topology.NewModel(f.Topology)
			found := map[string]int{}
			pools := 0
			for _, o := range objs {
				var tm struct{ Kind string }
				if o.Raw != nil && json.Unmarshal(o.Raw, &tm) == nil && tm.Kind == "CephBlockPool" {
					pools++
				}
				for _, k := range neverPruned {
					if !k.match(m, o.Typed) {
						continue
					}
					found[k.kind]++
					if got := o.Typed.(metav1.Object).GetAnnotations()[flux.PruneAnnotation]; got != flux.PruneDisabled {
						t.Errorf("%s: %s has %s %q", o.Path, k.kind, flux.PruneAnnotation, got)
					}
				}
			}
			for _, k := range neverPruned {
				if found[k.kind] == 0 {
					t.Errorf("no %s in the bundle", k.kind)
				}
			}
			// Every pool, the .mgr pool included: one per topology pool, plus .mgr.
			if want := len(m.Storage.Pools) + 1; found["CephBlockPool"] != want || pools != want {
				t.Errorf("%d marked pools of %d; want %d", found["CephBlockPool"], pools, want)
			}
		})
	}
}

// A pool a mixin adds without the annotation is refused.
func TestNeverPrunedCheckRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, mixin, want string }{
		{"new pool", `{ rook+: { 'storage/rook/cluster/pool-extra.yaml': {
			apiVersion: 'ceph.rook.io/v1', kind: 'CephBlockPool', metadata: { name: 'extra', namespace: 'rook-ceph' },
			spec: { failureDomain: 'zone', replicated: { size: 4, replicasPerFailureDomain: 2, subFailureDomain: 'host' } } } } }`,
			"[flux-never-prune] storage/rook/cluster/pool-extra.yaml: CephBlockPool extra needs the annotation kustomize.toolkit.fluxcd.io/prune: disabled"},
		{"felix", `{ calico+: { 'network/calico/felixconfiguration.yaml'+: { metadata+: { annotations:: null } } } }`,
			"[flux-never-prune] network/calico/felixconfiguration.yaml: FelixConfiguration default needs the annotation kustomize.toolkit.fluxcd.io/prune: disabled, or Flux deletes it when it leaves the bundle: deleting FelixConfiguration default turns WireGuard off"},
		{"cluster", `{ rook+: { 'storage/rook/cluster/cephcluster.yaml'+: { metadata+: { annotations+: { 'kustomize.toolkit.fluxcd.io/prune': 'enabled' } } } } }`,
			"[flux-never-prune] storage/rook/cluster/cephcluster.yaml: CephCluster rook-ceph needs the annotation"},
		{"namespace", `{ rook+: { 'storage/rook/operator/namespace.yaml'+: { metadata+: { annotations:: null } } } }`,
			"[flux-never-prune] storage/rook/operator/namespace.yaml: Namespace rook-ceph needs the annotation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := renderWithMixin(t, tc.mixin)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error lacks %q:\n%v", tc.want, err)
			}
		})
	}
}
