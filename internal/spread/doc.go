// Package spread is the spread patcher: it makes the workloads of a
// manifest stream survive the loss of one data region of a stretched
// cluster.
//
// For every Deployment, StatefulSet and ReplicaSet it adds a zone topology
// spread constraint that does not block fail-over (nodeTaintsPolicy: Honor)
// and a soft hostname spread, keeps the pods in the data regions with a
// required node affinity, raises replicas (or the HorizontalPodAutoscaler's
// minReplicas) to the policy minimum and adds a PodDisruptionBudget where
// none selects the pods. A StatefulSet's replicas are raised only when it
// opts in with stretch.dev/min-replicas; without it a StatefulSet below the
// minimum is reported (SPREAD022). Constraints the user wrote are kept and never
// duplicated, and a workload annotated stretch.dev/skip: "true" is left
// alone. Every change, and every risk the patcher cannot fix (a StatefulSet
// with one replica, a workload pinned to one region, node-local or
// zone-bound storage), is reported as a Finding whose ID is listed in
// Rules. A Finding's Message says what the patcher found and did, for
// render, post-render and fn; its Problem says what is wrong in the input
// as written, for lint. Every door gets the same findings.
//
// Patch works on decoded kyaml nodes in place, and PatchStream on
// multi-document YAML bytes; both decode once, patch in one pass and keep
// comments and key order. Patching is idempotent and deterministic:
// patching the output again gives the same bytes and no change findings.
//
// The package is pure: it does no I/O and knows nothing about the command
// line, Helm, kustomize or the KRM function framework, which all call it.
package spread
