// Package apply decodes Kubernetes manifests and asks an API server whether
// it accepts them, with a server-side apply dry run.
//
// The dry run is how kubectl-stretch proves that a rendered bundle is valid
// against the real schemas, CEL rules and admission of a cluster (or of the
// simulated cluster in internal/sim): every object is sent with DryRun=All,
// and every rejection is reported, not only the first.
//
// It is not a deployment tool: apart from the Namespaces described in
// DryRun, nothing is persisted.
package apply
