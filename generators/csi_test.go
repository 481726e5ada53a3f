package generators

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// renderWithMixin renders the example with one mixin (Jsonnet source).
func renderWithMixin(t *testing.T, mixin string) error {
	t.Helper()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mixin.jsonnet")
	if err := os.WriteFile(p, []byte(mixin), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Render(context.Background(), f.Topology, Options{BaseDir: "../testdata", Mixins: []string{p}})
	return err
}

func TestCSIDriversRelease(t *testing.T) {
	t.Parallel()
	got := fileData(t, Options{}, "storage/rook/operator/helmrelease-ceph-csi-drivers.yaml")
	for _, want := range []string{
		"  chart:\n    spec:\n      chart: ceph-csi-drivers\n",
		"      version: " + topology.CSIDriversChartVersion + "\n",
		"  dependsOn:\n  - name: rook-ceph\n",
		"      name: rook-ceph.rbd.csi.ceph.com\n",
		"    operatorConfig:\n      driverSpecDefaults:\n        controllerPlugin:\n          priorityClassName: system-cluster-critical\n        imageSet:\n          name: rook-csi-operator-image-set-configmap\n",
		"      namespace: rook-ceph\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("helmrelease-ceph-csi-drivers.yaml lacks %q:\n%s", want, got)
		}
	}
	// Only the RBD driver runs: the bundle has no CephFS, NFS or NVMe-oF
	// StorageClass.
	for _, d := range []string{"cephfs", "nfs", "nvmeof"} {
		want := "      " + d + ":\n        enabled: false\n        name: rook-ceph." + d + ".csi.ceph.com\n"
		if !strings.Contains(got, want) {
			t.Errorf("helmrelease-ceph-csi-drivers.yaml lacks %q:\n%s", want, got)
		}
	}
	repo := fileData(t, Options{}, "storage/rook/operator/helmrepository-ceph-csi-operator.yaml")
	if !strings.Contains(repo, "  url: https://ceph.github.io/ceph-csi-operator\n") {
		t.Errorf("helmrepository-ceph-csi-operator.yaml:\n%s", repo)
	}
}

// Before Rook v1.20 the operator deploys the drivers itself: no release.
func TestNoCSIDriversReleaseBeforeRook120(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.Topology.Spec.Storage.Rook.Version = "v1.19.3"
	out, err := Render(context.Background(), f.Topology, Options{BaseDir: "../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range out.Bundle.Files {
		if strings.Contains(file.Path, "ceph-csi") {
			t.Errorf("Rook v1.19 renders %s", file.Path)
		}
	}
}

func TestCSIDriversCheckRefuses(t *testing.T) {
	t.Parallel()
	const rel = "'storage/rook/operator/helmrelease-ceph-csi-drivers.yaml'"
	for _, tc := range []struct {
		name, mixin string
		want        []string
	}{
		{"removed", "{ rook+: { " + rel + ":: null } }", []string{
			"[rook-csi-drivers] storage/rook: want one HelmRelease of the ceph-csi-drivers chart, found 0; since Rook v1.20",
		}},
		{"chart default driver name", "{ rook+: { " + rel + "+: { spec+: { values+: { drivers+: { rbd+: { name: 'rbd.csi.ceph.com' } } } } } } }", []string{
			`values.drivers.rbd.name is "rbd.csi.ceph.com"; Rook's provisioners are named rook-ceph.rbd.csi.ceph.com`,
			"registers no enabled driver named rook-ceph.rbd.csi.ceph.com, the StorageClasses' provisioner: their PVCs would stay Pending",
		}},
		{"rbd disabled", "{ rook+: { " + rel + "+: { spec+: { values+: { drivers+: { rbd+: { enabled: false } } } } } } }", []string{
			"values.drivers.rbd is disabled, but StorageClass ceph-block uses rook-ceph.rbd.csi.ceph.com",
		}},
		{"nfs enabled", "{ rook+: { " + rel + "+: { spec+: { values+: { drivers+: { nfs+: { enabled: true } } } } } } }", []string{
			"values.drivers.nfs is enabled, but no StorageClass of the bundle uses rook-ceph.nfs.csi.ceph.com; disable it",
		}},
		{"no dependsOn", "{ rook+: { " + rel + "+: { spec+: { dependsOn:: null } } } }", []string{
			"HelmRelease ceph-csi-drivers must depend on the rook-ceph HelmRelease",
		}},
		{"version range", "{ rook+: { " + rel + "+: { spec+: { chart+: { spec+: { version: '>=1.0.0' } } } } } }", []string{
			`spec.chart.spec.version ">=1.0.0" is not a pinned version`,
		}},
		{"wrong namespace in values", "{ rook+: { " + rel + "+: { spec+: { values+: { operatorConfig+: { namespace: 'ceph-csi' } } } } } }", []string{
			`values.operatorConfig.namespace is "ceph-csi"; it must be the operator namespace rook-ceph`,
		}},
		{"wrong repository", "{ rook+: { 'storage/rook/operator/helmrepository-ceph-csi-operator.yaml'+: { spec+: { url: 'https://charts.rook.io/release' } } } }", []string{
			`HelmRepository ceph-csi-operator has url "https://charts.rook.io/release"; the ceph-csi-drivers chart is published at https://ceph.github.io/ceph-csi-operator`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := renderWithMixin(t, tc.mixin)
			if err == nil {
				t.Fatal("render accepted the mixin")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The driver names follow the operator namespace, as the StorageClasses'
// provisioner does.
func TestCSIDriverNamesFollowTheNamespace(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.Topology.Spec.Storage.Rook.Namespace = "ceph-store"
	out, err := Render(context.Background(), f.Topology, Options{BaseDir: "../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	var rel, sc string
	for _, file := range out.Bundle.Files {
		switch file.Path {
		case "storage/rook/operator/helmrelease-ceph-csi-drivers.yaml":
			rel = string(file.Data)
		case "storage/rook/cluster/storageclass-ceph-block.yaml":
			sc = string(file.Data)
		}
	}
	for _, want := range []string{"  namespace: ceph-store\n", "        name: ceph-store.rbd.csi.ceph.com\n", "      namespace: ceph-store\n"} {
		if !strings.Contains(rel, want) {
			t.Errorf("the drivers release lacks %q:\n%s", want, rel)
		}
	}
	if !strings.Contains(sc, "provisioner: ceph-store.rbd.csi.ceph.com\n") {
		t.Errorf("the StorageClass:\n%s", sc)
	}
}

// TestCSIDriversCheckFollowsTheMirror: with spec.gitops.chartMirrors the
// bundle's HelmRepositories carry the mirrors, and the CSI check wants the
// mirror (and type oci for an oci:// one) instead of the upstream address.
func TestCSIDriversCheckFollowsTheMirror(t *testing.T) {
	t.Parallel()
	render := func(t *testing.T, mixin string) (map[string][]byte, error) {
		t.Helper()
		f, err := topology.Load("../testdata/topology.yaml")
		if err != nil {
			t.Fatal(err)
		}
		f.Topology.Spec.GitOps.ChartMirrors = []v1alpha1.ChartMirror{
			{Name: topology.RookRepositoryName, URL: "http://127.0.0.1:8879"},
			{Name: topology.CSIRepositoryName, URL: "oci://registry.example.internal/charts"},
		}
		opts := Options{BaseDir: "../testdata"}
		if mixin != "" {
			p := filepath.Join(t.TempDir(), "mixin.jsonnet")
			if err := os.WriteFile(p, []byte(mixin), 0o644); err != nil {
				t.Fatal(err)
			}
			opts.Mixins = []string{p}
		}
		b, err := Render(context.Background(), f.Topology, opts)
		if err != nil {
			return nil, err
		}
		out := map[string][]byte{}
		for _, file := range b.Bundle.Files {
			out[file.Path] = file.Data
		}
		return out, nil
	}
	files, err := render(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["storage/rook/operator/helmrepository.yaml"]); !strings.Contains(got, "  url: http://127.0.0.1:8879\n") || strings.Contains(got, "type:") {
		t.Errorf("rook-release with an http mirror:\n%s", got)
	}
	if got := string(files["storage/rook/operator/helmrepository-ceph-csi-operator.yaml"]); !strings.Contains(got, "  type: oci\n  url: oci://registry.example.internal/charts\n") {
		t.Errorf("ceph-csi-operator with an oci mirror:\n%s", got)
	}
	_, err = render(t, "{ rook+: { 'storage/rook/operator/helmrepository-ceph-csi-operator.yaml'+: { spec+: { url: 'https://ceph.github.io/ceph-csi-operator', type:: null } } } }")
	for _, w := range []string{
		`HelmRepository ceph-csi-operator has url "https://ceph.github.io/ceph-csi-operator"; spec.gitops.chartMirrors mirrors the ceph-csi-drivers chart at oci://registry.example.internal/charts`,
		`HelmRepository ceph-csi-operator has type ""; its url oci://registry.example.internal/charts needs type "oci"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
