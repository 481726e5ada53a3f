// Package generators turns a topology into a bundle: one generator per
// layer (kubespray, calico, rook, workloads, access, flux, and later
// firewall and dns) behind one interface, registered in an ordered slice.
//
// The pipeline is: decoded, defaulted and validated topology -> model ->
// Jsonnet blueprint per layer (with the user's mixins merged over it) ->
// objects strictly decoded into typed Go structs -> bundle checks -> YAML
// with sorted keys -> a kustomization.yaml in every KRM folder -> a sorted
// bundle. Nothing is written here; internal/bundle writes the result.
package generators
