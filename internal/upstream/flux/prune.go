package flux

// PruneAnnotation set to PruneDisabled on an object makes Flux's
// kustomize-controller leave it in the cluster when it disappears from the
// source (fluxcd/kustomize-controller, docs/spec/v1/kustomizations.md,
// "Prune").
const (
	PruneAnnotation = "kustomize.toolkit.fluxcd.io/prune"
	PruneDisabled   = "disabled"
)
