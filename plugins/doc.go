// Package plugins holds kubectl-stretch's entry points for other tools:
// the KRM function for kustomize and kpt (package krm), the Helm 4
// post-renderer plugin manifest (helm/stretch/plugin.yaml) and the kubectl
// completion shim (kubectl/). The Helm 3 post-renderer is the
// `kubectl stretch post-render` command itself.
package plugins
