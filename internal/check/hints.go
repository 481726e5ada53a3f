package check

import (
	"fmt"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
)

// The hints of the checks name the bundle's folders and Flux stages as
// the layer table (internal/layout) does, so that a fix points at what
// render wrote.
// rookProvider installs Rook's custom resource definitions. (storage.go's
// storageStageHint, a constant, is stageHint of the storage stage, as
// TestHintsFollowTheLayerTable checks.)
const rookProvider = "the Rook operator (the bundle's " + layout.StageStorageOperator + " stage)"

// stageHint names a stage's bundle folder and its Flux Kustomization:
// "the bundle's storage/rook/cluster (Flux stage stretch-storage)".
func stageHint(stage string) string {
	st, _ := layout.StageNamed(stage)
	return fmt.Sprintf("the bundle's %s (Flux stage %s)", st.Dir, st.Object())
}

// stageFile tells to apply a file of a stage's folder:
// "apply network/calico/felixconfiguration.yaml from the bundle (Flux
// stage stretch-network)".
func stageFile(stage, name string) string {
	st, _ := layout.StageNamed(stage)
	return fmt.Sprintf("apply %s/%s from the bundle (Flux stage %s)", st.Dir, name, st.Object())
}
