package sim

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestCSIDriversOf reads the drivers a ceph-csi-drivers release enables
// from its values, and none from a release of another chart.
func TestCSIDriversOf(t *testing.T) {
	t.Parallel()
	release := func(doc string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"rbd only", `
spec:
  chart: {spec: {chart: ceph-csi-drivers}}
  values:
    drivers:
      cephfs: {enabled: false, name: rook-ceph.cephfs.csi.ceph.com}
      rbd: {enabled: true, name: rook-ceph.rbd.csi.ceph.com}
`, []string{"rook-ceph.rbd.csi.ceph.com"}},
		{"two drivers", `
spec:
  chart: {spec: {chart: ceph-csi-drivers}}
  values:
    drivers:
      rbd: {enabled: true, name: storage.rbd.csi.ceph.com}
      cephfs: {enabled: true, name: storage.cephfs.csi.ceph.com}
`, []string{"storage.cephfs.csi.ceph.com", "storage.rbd.csi.ceph.com"}},
		{"rbd disabled", `
spec:
  chart: {spec: {chart: ceph-csi-drivers}}
  values: {drivers: {rbd: {enabled: false, name: rook-ceph.rbd.csi.ceph.com}}}
`, nil},
		{"enabled as a string", `
spec:
  chart: {spec: {chart: ceph-csi-drivers}}
  values: {drivers: {rbd: {enabled: "true", name: rook-ceph.rbd.csi.ceph.com}}}
`, nil},
		{"no values", `spec: {chart: {spec: {chart: ceph-csi-drivers}}}`, nil},
		{"another chart", `
spec:
  chart: {spec: {chart: rook-ceph}}
  values: {drivers: {rbd: {enabled: true, name: rook-ceph.rbd.csi.ceph.com}}}
`, nil},
	} {
		if got := CSIDriversOf(release(tc.doc)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: CSIDriversOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCSIDriverObjectFor: the CSIDriver the simulation registers for a
// release carries Helm's ownership metadata for the release helm-controller
// would install (so that Helm adopts it), and none without a release.
func TestCSIDriverObjectFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		wantName  string
		wantNS    string
	}{
		{"plain", "metadata: {name: ceph-csi-drivers, namespace: rook-ceph}", "ceph-csi-drivers", "rook-ceph"},
		{"releaseName", "metadata: {name: drivers, namespace: flux-system}\nspec: {releaseName: csi}", "csi", "flux-system"},
		{"targetNamespace", "metadata: {name: drivers, namespace: flux-system}\nspec: {targetNamespace: rook-ceph}", "rook-ceph-drivers", "rook-ceph"},
		{"both", "metadata: {name: drivers, namespace: flux-system}\nspec: {targetNamespace: rook-ceph, releaseName: csi}", "csi", "rook-ceph"},
	} {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(tc.doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		d := CSIDriverObjectFor("rook-ceph.rbd.csi.ceph.com", u)
		if d.Annotations["meta.helm.sh/release-name"] != tc.wantName || d.Annotations["meta.helm.sh/release-namespace"] != tc.wantNS ||
			d.Labels["app.kubernetes.io/managed-by"] != "Helm" || d.Labels[LabelSimulated] != "true" {
			t.Errorf("%s: labels %v, annotations %v; want release %s/%s", tc.name, d.Labels, d.Annotations, tc.wantNS, tc.wantName)
		}
	}
	if d := CSIDriverObjectFor("x", nil); len(d.Annotations) != 0 || d.Labels["app.kubernetes.io/managed-by"] != "" {
		t.Errorf("without a release: labels %v, annotations %v", d.Labels, d.Annotations)
	}
}
