// Package source loads the user's workloads named in a topology's
// spec.workloads.sources: a folder of YAML, a kustomize folder built
// in-process with krusty, or a Helm chart rendered in-process with the
// Helm SDK (client-only, like helm template). Each source becomes one
// multi-document YAML stream for the spread patcher. Nothing here talks
// to a cluster or the network.
package source
