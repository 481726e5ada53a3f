// Package upstream holds the typed Go structs of other projects' objects
// that kubectl-stretch writes or reads and that have no Go module we can
// depend on lightly (Rook, Flux, Calico, Kubespray, the descheduler), one
// subpackage per project.
// The project's own kinds (group stretch.dev) are in internal/api/v1alpha1.
// Each subpackage covers only the fields the bundle uses or a user can
// reasonably set through a mixin; generated objects are strictly decoded
// into them, so a misspelt field fails the render instead of reaching the
// cluster.
package upstream
