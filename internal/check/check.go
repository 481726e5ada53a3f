package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Status is the outcome of a check, or of one of its findings: the
// VerifyReport's (internal/api/v1alpha1). The aliases in this package keep
// the checks' code as it reads.
type Status = v1alpha1.Status

// The statuses (see v1alpha1). Only pass, warn and skip let verify exit 0.
const (
	StatusPass  = v1alpha1.StatusPass
	StatusFail  = v1alpha1.StatusFail
	StatusWarn  = v1alpha1.StatusWarn
	StatusError = v1alpha1.StatusError
	StatusSkip  = v1alpha1.StatusSkip
)

// Statuses lists the statuses from the least to the most serious, the order
// a check's overall status is taken in.
var Statuses = []Status{StatusPass, StatusSkip, StatusWarn, StatusError, StatusFail}

func rank(s Status) int { return slices.Index(Statuses, s) }

// Severity says what breaking a rule means: a failure or a warning.
type Severity string

// The severities.
const (
	// SeverityError: breaking the rule puts surviving a region loss at
	// risk; its findings have status fail.
	SeverityError Severity = "error"
	// SeverityWarning: breaking the rule weakens fail-over or hides a
	// risk; its findings have status warn.
	SeverityWarning Severity = "warning"
)

// Layer groups the checks by the part of the cluster they look at (the
// VerifyReport's VerifyLayer).
type Layer = v1alpha1.VerifyLayer

// The layers, in the order the registry lists them. Their names are the
// layer table's (internal/layout), which maps the bundle's layers to them.
const (
	LayerNodes        Layer = layout.VerifyNodes
	LayerControlPlane Layer = layout.VerifyControlPlane
	LayerNetwork      Layer = layout.VerifyNetwork
	LayerStorage      Layer = layout.VerifyStorage
	LayerWorkloads    Layer = layout.VerifyWorkloads
	LayerCapacity     Layer = layout.VerifyCapacity
)

// Layers lists the layers in registry order.
var Layers = []Layer{LayerNodes, LayerControlPlane, LayerNetwork, LayerStorage, LayerWorkloads, LayerCapacity}

// Check is one rule of the registry.
type Check struct {
	// ID is stable and never reused: NODE001, CP001, NET001, STOR001,
	// WORK001, CAP001, ...
	ID string `json:"id"`
	// Layer is the part of the stack the rule is about.
	Layer Layer `json:"layer"`
	// Severity is what breaking the rule means.
	Severity Severity `json:"severity"`
	// Title is a one-line statement of the rule, true when it passes.
	Title string `json:"title"`
	// Doc explains why the rule matters and what the check reads.
	Doc string `json:"doc"`
	// Needs lists the kinds the check reads. If any of them could not be
	// listed, the check is not run and reports StatusError.
	Needs []Kind `json:"needs"`
	// Applies, when set, says whether the rule applies to a topology; when
	// it does not, the check reports StatusSkip with the reason, whether or
	// not its kinds could be listed.
	Applies func(*topology.Model) (ok bool, reason string) `json:"-"`
	// Run evaluates the rule. It returns one pass (or skip) result when the
	// rule holds, or one fail result per finding; Run turns fail into warn
	// for checks of SeverityWarning. It never calls the API server.
	Run func(*Snapshot, *topology.Model) []Result `json:"-"`
}

// Result is one finding of a check, or its pass (the VerifyReport's
// VerifyResult).
type Result = v1alpha1.VerifyResult

// pass is a passing result.
func pass(format string, args ...any) Result {
	return Result{Status: StatusPass, Message: fmt.Sprintf(format, args...)}
}

// fail is a finding about object; Run makes it a warning for checks of
// SeverityWarning.
func fail(object, format string, args ...any) Result {
	return Result{Status: StatusFail, Object: object, Message: fmt.Sprintf(format, args...)}
}

// warn is a finding that is a warning whatever the check's severity.
func warn(object, format string, args ...any) Result {
	return Result{Status: StatusWarn, Object: object, Message: fmt.Sprintf(format, args...)}
}

// skip says that the rule does not apply.
func skip(format string, args ...any) Result {
	return Result{Status: StatusSkip, Message: fmt.Sprintf(format, args...)}
}

// ref names an object in a result: Kind/name or Kind/namespace/name.
func ref(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

func nodeRef(name string) string { return ref("Node", "", name) }

// evaluate runs one check over the snapshot and returns its results with
// ID and Layer set: an error result when a kind it needs is missing, the
// findings when there are any, else its pass or skip.
func evaluate(c Check, snap *Snapshot, m *topology.Model) []Result {
	if c.Applies != nil {
		if ok, reason := c.Applies(m); !ok {
			return []Result{{ID: c.ID, Layer: c.Layer, Status: StatusSkip, Message: reason}}
		}
	}
	if missing := snap.missing(c.Needs); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, k := range missing {
			names[i] = k.String()
		}
		// The cause is in the report's unavailable list, once per kind.
		return []Result{{ID: c.ID, Layer: c.Layer, Status: StatusError, Message: notRunMessage(names)}}
	}
	results := c.Run(snap, m)
	findings := slices.DeleteFunc(slices.Clone(results), func(r Result) bool {
		return r.Status == StatusPass || r.Status == StatusSkip
	})
	if len(findings) > 0 {
		results = findings
	}
	if len(results) == 0 {
		results = []Result{pass("%s", c.Title)}
	}
	out := make([]Result, len(results))
	for i, r := range results {
		r.ID, r.Layer = c.ID, c.Layer
		if r.Status == StatusFail && c.Severity == SeverityWarning {
			r.Status = StatusWarn
		}
		out[i] = r
	}
	return out
}

// The message of a check that could not run names the kinds it lacks.
const (
	notRunPrefix = "not run: "
	notRunSuffix = " unavailable (see above)"
)

// notRunMessage is the message of a check that could not run because the
// kinds named could not be listed.
func notRunMessage(kinds []string) string {
	return notRunPrefix + strings.Join(kinds, ", ") + notRunSuffix
}

// notRunKinds returns the kinds a notRunMessage names, or nil for another
// message.
func notRunKinds(msg string) []string {
	rest, ok := strings.CutPrefix(msg, notRunPrefix)
	if !ok {
		return nil
	}
	rest, ok = strings.CutSuffix(rest, notRunSuffix)
	if !ok {
		return nil
	}
	return strings.Split(rest, ", ")
}

// overall is the status of a check from its results: the most serious one.
func overall(results []Result) Status {
	s := StatusPass
	for _, r := range results {
		if rank(r.Status) > rank(s) {
			s = r.Status
		}
	}
	return s
}
