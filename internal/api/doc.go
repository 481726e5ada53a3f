// Package api holds the typed Go structs of every object kubectl-stretch
// writes or reads that has no Go module we can depend on (Rook, Flux,
// Calico, Kubespray). Each subpackage covers one project and only the
// fields the bundle uses or a user can reasonably set through a mixin;
// generated objects are strictly decoded into them, so a misspelt field
// fails the render instead of reaching the cluster.
package api
