package topology

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	t.Parallel()
	f, err := loadExampleWith(t, "interRegionRTTms: 12", "interRegionRTTms: 10")
	if err != nil {
		t.Fatal(err)
	}
	if w := f.Warnings(); len(w) != 0 {
		t.Errorf("10 ms warns: %v", w)
	}
	f, err = loadExampleWith(t, "interRegionRTTms: 12", "interRegionRTTms: 25")
	if err != nil {
		t.Fatal(err)
	}
	w := f.Warnings()
	if len(w) != 1 {
		t.Fatalf("%d warnings, want 1: %v", len(w), w)
	}
	got := w[0].Error()
	for _, want := range []string{
		"topology.yaml:16:23: spec.network.interRegionRTTms: 25 ms is above the 10 ms",
		"every volume write (each database commit) waits at least 25 ms more",
		"election timeout grows to",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warning lacks %q:\n%s", want, got)
		}
	}
	var nilFile *File
	if nilFile.Warnings() != nil {
		t.Error("a nil File warns")
	}
}

// A Rook version after the one the CSI drivers pin was chosen for warns;
// v1.20.x does not.
func TestWarningsRookVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version string
		warns   bool
	}{{"v1.20.6", false}, {"v1.20.9", false}, {"v1.19.3", false}, {"v1.21.0", true}, {"v2.0.0", true}} {
		f, err := loadExampleWith(t, "interRegionRTTms: 12", "interRegionRTTms: 10")
		if err != nil {
			t.Fatal(err)
		}
		f.Topology.Spec.Storage.Rook.Version = tc.version
		w := f.Warnings()
		if got := len(w) == 1 && strings.Contains(w[0].Error(), "spec.storage.rook.version: the bundle pins the ceph-csi-drivers chart at "+CSIDriversChartVersion); got != tc.warns || len(w) > 1 {
			t.Errorf("Rook %s: warnings %v, want a CSI drivers warning: %t", tc.version, w, tc.warns)
		}
	}
}
