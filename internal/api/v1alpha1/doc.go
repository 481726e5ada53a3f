// Package v1alpha1 is the project's own API, group stretch.dev, version
// v1alpha1: the Go types of every kind kubectl-stretch reads or writes
// under that group, their kind names and their typed enums (node and
// region roles, network encryption modes, reclaim policies, lint
// severities, verify statuses and layers, drill verdicts).
//
// The kinds are the Topology (the one file that describes a cluster), the
// SpreadPolicy (the KRM transformer's functionConfig), the LintReport
// (what lint writes with -o json or yaml), the VerifyReport (what
// verify writes with -o json or yaml) and the DrillReport (what drill
// writes with -o json or yaml). The SimulatedCluster, the state
// file a detached simulated cluster leaves in its state folder, has its
// kind name here and its type in internal/sim, as it records the
// topology's Model.
//
// APIVersion and the kind names are written once, in groupversion.go;
// TestWrittenOnce keeps every other Go file from spelling them out.
//
// This package holds types only: no decoding, defaulting or validation.
// internal/topology decodes a Topology strictly with positions, fills in
// its defaults and validates it; the commands that write a report build
// it. The JSON names and the order of the fields are part of the API:
// reports are compared byte for byte and topology errors name fields by
// their JSON path, so neither may change within v1alpha1.
//
// Other projects' types (Rook, Flux, Calico, Kubespray) live in
// internal/upstream.
package v1alpha1
