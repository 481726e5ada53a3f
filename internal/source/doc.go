// Package source loads the user's workloads named in a topology's
// spec.workloads.sources: a folder of YAML, a kustomize folder built
// in-process with krusty, or a Helm chart rendered in-process with the
// Helm SDK (client-only, like helm template). Each source becomes one
// multi-document YAML stream for the spread patcher. Nothing here talks
// to a cluster, and nothing to the network unless Options.AllowRemoteBases
// lets kustomize fetch remote bases. Check refuses, before anything is
// read, what cannot be read from the repository alone: absolute paths,
// chart URLs, symbolic links out of a source, kustomize bases outside it.
package source
