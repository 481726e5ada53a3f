// Package generators turns a topology into a bundle: one generator per
// row of the layer table (internal/layout: kubespray, calico, rook,
// workloads, access, flux, and later firewall and dns) behind one
// interface, in the table's order.
//
// The pipeline is: decoded, defaulted and validated topology -> model ->
// Jsonnet blueprint per layer (with the user's mixins merged over it) ->
// objects strictly decoded into typed Go structs -> bundle checks -> YAML
// with sorted keys -> a kustomization.yaml in every KRM folder -> a sorted
// bundle. Nothing is written here; internal/bundle writes the result.
//
// generators is not a Go API for programs outside this module: Render
// takes a v1alpha1.Topology and returns a bundle.Bundle, both internal, so
// only the module's commands and KRM function can call it. Its exported
// names are exactly what they use (Render, Options, Output, Finding;
// TestExportedAPI keeps it so). The stable interfaces are the command
// line, the topology file, the bundle's layout, the KRM function and the
// Helm post-renderer.
package generators
