//go:build unix

package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
)

// annotationPrune is Flux's per-object prune switch.
const annotationPrune = "kustomize.toolkit.fluxcd.io/prune"

// breakCase is one thing broken in the example's bundle.
type breakCase struct {
	name string
	// mixin is merged over the layers by render --mixin.
	mixin string
	// refused is the rule render refuses the mixin with ("" when render
	// lets it through, and the bundle it writes is applied).
	refused string
	// overlay, when render refuses the mixin, is the same change made
	// after render, by a kustomize overlay over one stage (a patch in the
	// GitOps repository, say): stage and the overlay's kustomization.yaml.
	stage, overlay string
	// fails are the verify checks that must fail.
	fails []string
}

var breakCases = []breakCase{
	{
		name:    "no CSI drivers release",
		mixin:   `{ rook+: { 'storage/rook/operator/helmrelease-ceph-csi-drivers.yaml':: null } }`,
		refused: "[rook-csi-drivers]",
		stage:   "storage/rook/operator",
		overlay: `resources: [../../out/storage/rook/operator]
patches:
- patch: |-
    $patch: delete
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: ceph-csi-drivers, namespace: rook-ceph}
`,
		fails: []string{"STOR011"},
	},
	{
		name: "mons confined to one region",
		mixin: `local sto1 = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
  { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['sto1'] }] },
] } } };
{ rook+: { 'storage/rook/cluster/cephcluster.yaml'+: { spec+: { placement+: { mon+: sto1, arbiter+: sto1 } } } } }`,
		fails: []string{"STOR002", "STOR008"},
	},
	{
		name:    "WireGuard off",
		mixin:   `{ calico+: { 'network/calico/felixconfiguration.yaml'+: { spec+: { wireguardEnabled: false } } } }`,
		refused: "[calico-wireguard]",
		stage:   "network/calico",
		overlay: `resources: [../../out/network/calico]
patches:
- patch: |-
    apiVersion: crd.projectcalico.org/v1
    kind: FelixConfiguration
    metadata: {name: default}
    spec: {wireguardEnabled: false}
`,
		fails: []string{"NET001", "NET004", "NET006"},
	},
}

// TestBreakOneThing applies the example's bundle to one simulated cluster
// with the simulated operators, checks that verify passes, and then, one at
// a time, breaks one thing in the bundle, applies it as Flux would (pruning
// what the stage no longer holds), checks that verify fails the right
// checks, and applies the unbroken bundle again until verify passes:
//
//   - the CSI drivers HelmRelease removed: no RBD CSIDriver (STOR011);
//   - the mons' and the arbiter's placement confined to sto1: the other
//     zones' mons cannot be scheduled (STOR002) and the mons lose quorum
//     (STOR008);
//   - WireGuard off in FelixConfiguration default (NET001), so that the
//     nodes lose their WireGuard keys and tunnel addresses (NET004,
//     NET006).
//
// A mixin that render refuses (its rules catch the first and the last) is
// made after render instead, by a kustomize overlay over the stage.
func TestBreakOneThing(t *testing.T) {
	l := newLiveWork(t)
	l.must(l.exe, "sim", "up", "-f", "topology.yaml", "--operators")
	l.must(l.exe, "render", "-f", "topology.yaml", "-o", "out")
	l.must(l.kubectl, "create", "namespace", "flux-system")
	applied := map[string][]string{} // stage folder -> the objects last applied from it
	for _, dir := range bundleStages {
		l.applyStage(applied, dir, filepath.Join("out", dir))
	}
	l.eventually("the unbroken bundle")

	for i, bc := range breakCases {
		ok := t.Run(bc.name, func(t *testing.T) {
			l.t = t
			mixin := filepath.Join(l.work, "mixin.jsonnet")
			if err := os.WriteFile(mixin, []byte(bc.mixin+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			broken := "broken-" + string(rune('a'+i))
			code, out, errOut := l.sh(l.exe, "render", "-f", "topology.yaml", "-o", broken, "--mixin", mixin)
			switch {
			case bc.refused != "":
				if code == 0 || !strings.Contains(errOut, bc.refused) {
					t.Fatalf("render with the mixin: exit %d, want it refused by %s\n%s%s", code, bc.refused, out, errOut)
				}
				overlay := filepath.Join(l.work, "overlays", filepath.Base(bc.stage))
				if err := os.MkdirAll(overlay, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(bc.overlay), 0o644); err != nil {
					t.Fatal(err)
				}
				rel, err := filepath.Rel(l.work, overlay)
				if err != nil {
					t.Fatal(err)
				}
				l.applyStage(applied, bc.stage, rel)
			case code != 0:
				t.Fatalf("render with the mixin: exit %d\n%s%s", code, out, errOut)
			default:
				for _, dir := range bundleStages {
					l.applyStage(applied, dir, filepath.Join(broken, dir))
				}
			}
			_, bad := l.verifyUntil("after breaking it", func(code int, bad map[string][]string) bool {
				return code == ExitFailed && !slices.ContainsFunc(bc.fails, func(id string) bool { return !slices.Contains(bad["fail"], id) })
			})
			t.Logf("verify fails %v (warns %v)", bad["fail"], bad["warn"])
			if len(bad["error"]) > 0 {
				t.Errorf("checks that could not run: %v", bad["error"])
			}

			// Repair it: the unbroken bundle again.
			for _, dir := range bundleStages {
				l.applyStage(applied, dir, filepath.Join("out", dir))
			}
			l.eventually("after the unbroken bundle is applied again")
		})
		l.t = t
		if !ok {
			return
		}
	}
	l.must(l.exe, "sim", "down")
}

// applyStage applies the kustomization in dir as the Flux Kustomization of
// stage would: the objects the stage applied last time and no longer holds
// are deleted (unless annotated kustomize.toolkit.fluxcd.io/prune:
// disabled), then the rest is applied server-side.
func (l *liveWork) applyStage(applied map[string][]string, stage, dir string) {
	l.t.Helper()
	objs, err := apply.Decode([]byte(l.must(l.kubectl, "kustomize", dir)))
	if err != nil {
		l.t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	var now []string
	for _, o := range objs {
		if o.GetAnnotations()[annotationPrune] == "disabled" {
			continue
		}
		now = append(now, strings.Join([]string{strings.ToLower(o.GetKind()) + "." + o.GroupVersionKind().Group, o.GetNamespace(), o.GetName()}, "/"))
	}
	for _, key := range applied[stage] {
		if slices.Contains(now, key) {
			continue
		}
		parts := strings.SplitN(key, "/", 3)
		args := []string{"delete", strings.TrimSuffix(parts[0], "."), parts[2], "--wait=false"}
		if parts[1] != "" {
			args = append(args, "-n", parts[1])
		}
		l.must(l.kubectl, args...)
	}
	applied[stage] = now
	l.must(l.kubectl, "apply", "--server-side", "--force-conflicts", "-k", dir)
}
