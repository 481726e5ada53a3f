package check

import (
	"slices"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
)

// TestHintsFollowTheLayerTable checks that verify's hints name the bundle's
// folders and Flux Kustomizations as the layer table does, in the words
// they have always used.
func TestHintsFollowTheLayerTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{storageStageHint, stageHint(layout.StageStorage)},
		{storageStageHint, "the bundle's storage/rook/cluster (Flux stage stretch-storage)"},
		{stageHint(layout.StageStorageOperator), "the bundle's storage/rook/operator (Flux stage stretch-storage-operator)"},
		{felixFix, "apply network/calico/felixconfiguration.yaml from the bundle (Flux stage stretch-network)"},
		{rookProvider, "the Rook operator (the bundle's storage-operator stage)"},
	} {
		if tc.got != tc.want {
			t.Errorf("hint %q, want %q", tc.got, tc.want)
		}
	}
}

// TestVerifyLayersOfTheTable checks the mapping from the bundle's layers to
// verify's: every verify layer a row names is one of verify's, and every
// verify layer but capacity (the topology's sizing, which no layer
// renders) checks some row.
func TestVerifyLayersOfTheTable(t *testing.T) {
	t.Parallel()
	covered := map[Layer]bool{}
	for _, row := range layout.Layers() {
		for _, v := range row.Verify {
			if !slices.Contains(Layers, Layer(v)) {
				t.Errorf("layer %s: verify layer %q is not one of %v", row.Name, v, Layers)
			}
			covered[Layer(v)] = true
		}
	}
	for _, l := range Layers {
		if !covered[l] && l != LayerCapacity {
			t.Errorf("verify layer %s checks no layer of the table", l)
		}
	}
}
