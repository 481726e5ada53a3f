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
