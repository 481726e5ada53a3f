package v1alpha1

// Severity says how much a lint finding matters for surviving the loss of
// a data region if it is left as it is.
type Severity string

// The severities of the spread rules, from least to most serious.
const (
	// SeverityInfo is worth knowing; fail-over is not at risk.
	SeverityInfo Severity = "info"
	// SeverityWarning weakens fail-over: an outage, a slow recovery or a
	// blocked drain.
	SeverityWarning Severity = "warning"
	// SeverityError breaks fail-over: pods that are never rescheduled.
	SeverityError Severity = "error"
)

// LintReport is the result of a lint run (kubectl stretch lint -o json or
// yaml). Every field is always written.
type LintReport struct {
	// APIVersion is stretch.dev/v1alpha1 (APIVersion).
	APIVersion string `json:"apiVersion"`
	// Kind is LintReport (KindLintReport).
	Kind string `json:"kind"`
	// Summary counts the files, objects and findings.
	Summary LintSummary `json:"summary"`
	// Findings are sorted by file, namespace, kind, name and rule ID;
	// empty (not null) when there are none.
	Findings []LintFinding `json:"findings"`
}

// LintSummary counts the files, objects and findings of a lint run; every
// count is 0 when there is nothing to count.
type LintSummary struct {
	// Files is the number of files read.
	Files int `json:"files"`
	// Objects is the number of objects in them.
	Objects int `json:"objects"`
	// Errors, Warnings and Infos count the findings by severity.
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
	// FixedByRender counts the findings, of any severity, that render,
	// post-render and fn fix automatically.
	FixedByRender int `json:"fixedByRender"`
}

// LintFinding is one finding of a rule for one object in one file.
type LintFinding struct {
	// ID is the rule's ID, such as SPREAD010.
	ID string `json:"id"`
	// Severity is the rule's severity.
	Severity Severity `json:"severity"`
	// File is the file the object was read from.
	File string `json:"file"`
	// Line is the object's line in File (omitted when unknown).
	Line int `json:"line,omitempty"`
	// Kind, Namespace and Name identify the object; Namespace is omitted
	// for a cluster-scoped object or one without a namespace.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Problem says what is wrong in the manifest as written.
	Problem string `json:"problem"`
	// Fix says how to fix the manifest by hand.
	Fix string `json:"fix"`
	// FixedByRender is true when render, post-render and fn fix the
	// problem automatically (the spread patcher changes the object or adds
	// one for it), so that a manifest that is only deployed through them
	// needs no change.
	FixedByRender bool `json:"fixedByRender"`
}
