package v1alpha1

// Status is the outcome of a verify check, or of one of its findings.
type Status string

// The statuses. Only pass, warn and skip let verify exit 0.
const (
	// StatusPass means the cluster meets the rule.
	StatusPass Status = "pass"
	// StatusFail means the cluster breaks a rule of severity error.
	StatusFail Status = "fail"
	// StatusWarn means the cluster breaks a rule of severity warning, or
	// a rule holds with a caveat the user should know about.
	StatusWarn Status = "warn"
	// StatusError means the check could not run: a kind it needs could not
	// be listed (RBAC, a missing CRD, a timeout). It is never a pass.
	StatusError Status = "error"
	// StatusSkip means the rule does not apply to this topology or cluster
	// (WireGuard checks with encryption none, for example).
	StatusSkip Status = "skip"
)

// VerifyLayer groups the verify checks by the part of the cluster they
// look at. Its values are the verify layers of the layer table
// (internal/layout): nodes, control-plane, network, storage, workloads,
// capacity.
type VerifyLayer string

// VerifyReport is the result of a verify run (kubectl stretch verify -o
// json or yaml).
type VerifyReport struct {
	// APIVersion is stretch.dev/v1alpha1 (APIVersion).
	APIVersion string `json:"apiVersion"`
	// Kind is VerifyReport (KindVerifyReport).
	Kind string `json:"kind"`
	// Topology is the name of the topology the cluster was checked against.
	Topology string `json:"topology"`
	// Summary counts the checks by their overall status.
	Summary VerifySummary `json:"summary"`
	// Unavailable says, once each, why kinds could not be listed; the
	// checks that read them have status error ("not run") and point here.
	// Omitted when every kind was listed.
	Unavailable []VerifyUnavailable `json:"unavailable,omitempty"`
	// Results holds every check's results, in registry order; empty (not
	// null) when no check ran.
	Results []VerifyResult `json:"results"`
}

// VerifySummary counts the checks by their overall status (the most
// serious of their results), and the API requests of the snapshot. Every
// count is 0 when there is nothing to count.
type VerifySummary struct {
	// Checks is the number of checks run.
	Checks int `json:"checks"`
	// Passed, Failed, Warnings, Errors and Skipped count the checks by
	// their overall status.
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
	Skipped  int `json:"skipped"`
	// Partial is true when at least one check could not run (Errors > 0):
	// the report then says nothing about what those checks cover.
	Partial bool `json:"partial"`
	// APIRequests is the number of HTTP requests the snapshot took.
	APIRequests int64 `json:"apiRequests"`
}

// VerifyUnavailable is a cause that kept kinds from being listed, said
// once however many checks read them.
type VerifyUnavailable struct {
	// Kinds are the kinds it concerns, as kubectl names them.
	Kinds []string `json:"kinds"`
	// Message says why they could not be listed and what to do.
	Message string `json:"message"`
}

// VerifyResult is one finding of a check, or its pass.
type VerifyResult struct {
	// ID is the check's ID, such as STOR001.
	ID string `json:"id"`
	// Layer is the check's verify layer.
	Layer VerifyLayer `json:"layer"`
	// Status is the finding's outcome.
	Status Status `json:"status"`
	// Object names the object the finding is about, as Kind/name or
	// Kind/namespace/name; omitted for a finding about the whole cluster.
	Object string `json:"object,omitempty"`
	// Message says what was found and, for fail, warn and error, what to
	// do about it.
	Message string `json:"message"`
	// Rule is the rule book's rule a fail breaks (internal/rules), for
	// tests; reports do not show it.
	Rule string `json:"-"`
}
