// Package check verifies a live cluster against its topology: the checks
// behind `kubectl stretch verify`.
//
// A Check is one small rule with a stable ID (NODE001, NET004, ...), a
// layer, a severity and documentation. Checks() is the registry, an ordered
// slice wired in one place; docs/VERIFY.md is generated from it.
//
// Checks never call the API server. Take reads the cluster once into a
// Snapshot: one paginated LIST per kind (Kinds), never a GET per object,
// through a Client that counts its requests. A kind that cannot be listed
// (RBAC forbids it, its CRD is not installed, the API server times out) is
// kept in the snapshot with its error, and every check that needs that kind
// reports status error with the cause; it is never counted as a pass.
//
// Run applies the checks to a snapshot and a topology model and returns a
// Report (apiVersion stretch.dev/v1alpha1, kind VerifyReport), written as a
// table, JSON, YAML or JUnit. Results come in registry order; nothing
// depends on map iteration order.
//
// This package does not change the cluster and does not render the bundle.
package check
