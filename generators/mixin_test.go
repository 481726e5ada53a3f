package generators

import (
	"context"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

func fileData(t *testing.T, opts Options, path string) string {
	t.Helper()
	b := renderFile(t, "../testdata/topology.yaml", opts)
	for _, f := range b.Files {
		if f.Path == path {
			return string(f.Data)
		}
	}
	t.Fatalf("%s not rendered", path)
	return ""
}

func TestMixinMerges(t *testing.T) {
	t.Parallel()
	got := fileData(t, Options{Mixins: []string{"../testdata/mixins/mgr-three.jsonnet"}}, "storage/rook/cluster/cephcluster.yaml")
	for _, want := range []string{"  mgr:\n    count: 3\n", "  dashboard:\n    enabled: true\n    ssl: false\n", "    count: 5\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("cephcluster.yaml lacks %q:\n%s", want, got)
		}
	}
}

func TestBlueprintsOverlay(t *testing.T) {
	t.Parallel()
	got := fileData(t, Options{BlueprintsDir: "../testdata/blueprints"}, "network/calico/felixconfiguration.yaml")
	want := header + `apiVersion: crd.projectcalico.org/v1
kind: FelixConfiguration
metadata:
  annotations:
    kustomize.toolkit.fluxcd.io/prune: disabled
  name: default
spec:
  wireguardEnabled: true
  wireguardKeepAlive: 25s
  wireguardMTU: 1440
  wireguardThreadingEnabled: true
`
	if got != want {
		t.Errorf("felixconfiguration.yaml:\n%s\nwant:\n%s", got, want)
	}
}

func TestRefusedMixins(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mixin string
		want  []string
	}{
		{"pool-size-3.jsonnet", []string{
			"the rendered bundle breaks 1 rule(s) of the topology:",
			"[rook-pools] storage/rook/cluster/pool-replicapool.yaml: CephBlockPool replicapool has replicated.size 3; pools in a stretch cluster must have size 4 (2 copies per data region)",
		}},
		{"typo-field.jsonnet", []string{"render calico (with mixin ../testdata/mixins/typo-field.jsonnet): network/calico/felixconfiguration.yaml: spec.wireguardEnable: unknown field"}},
		{"unknown-layer.jsonnet", []string{`"rok" is not a layer a mixin can change (layers: kubespray, calico, rook, access, dns, flux)`}},
		{"workloads-layer.jsonnet", []string{`"workloads" is not a layer a mixin can change (layers: kubespray, calico, rook, access, dns, flux)`}},
		{"syntax-error.jsonnet", []string{"syntax-error.jsonnet:2:15-16 Unexpected: \"}\" while parsing terminal"}},
		{"runtime-error.jsonnet", []string{"render rook: jsonnet: RUNTIME ERROR: Field does not exist: nope (at ", "runtime-error.jsonnet:4:73-81)"}},
	} {
		t.Run(tc.mixin, func(t *testing.T) {
			t.Parallel()
			_, err := Render(context.Background(), f.Topology, Options{BaseDir: "../testdata", Mixins: []string{"../testdata/mixins/" + tc.mixin}})
			if err == nil {
				t.Fatal("render accepted the mixin")
			}
			if strings.Contains(err.Error(), "\t") {
				t.Errorf("the error carries a Jsonnet stack trace:\n%v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
