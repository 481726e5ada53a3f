package check

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/report"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Report is the result of a verify run: the stretch.dev/v1alpha1
// VerifyReport, with its writers.
type Report struct {
	v1alpha1.VerifyReport
}

// Run applies checks to the snapshot and returns the report.
func Run(snap *Snapshot, m *topology.Model, checks []Check) *Report {
	r := &Report{v1alpha1.VerifyReport{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindVerifyReport, Topology: m.Name, Results: []Result{}}}
	for _, c := range checks {
		results := evaluate(c, snap, m)
		r.Results = append(r.Results, results...)
		r.Summary.Checks++
		switch overall(results) {
		case StatusPass:
			r.Summary.Passed++
		case StatusFail:
			r.Summary.Failed++
		case StatusWarn:
			r.Summary.Warnings++
		case StatusError:
			r.Summary.Errors++
		case StatusSkip:
			r.Summary.Skipped++
		}
	}
	r.Summary.Partial = r.Summary.Errors > 0
	r.Summary.APIRequests = snap.Requests
	r.Unavailable = snap.Unavailable()
	return r
}

// Formats lists the output formats, the first being the default.
var Formats = slices.Clone(report.Formats)

// Write writes the report in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	return report.Write(w, format, r)
}

// SummaryLine is the report's summary in one line; a partial report says
// so.
func (r *Report) SummaryLine() string {
	s := r.Summary
	line := fmt.Sprintf("%d checks: %d passed, %d failed, %d warnings, %d errors, %d skipped (%d API requests)",
		s.Checks, s.Passed, s.Failed, s.Warnings, s.Errors, s.Skipped, s.APIRequests)
	if s.Partial {
		line += fmt.Sprintf("; PARTIAL REPORT: %d of %d checks could not run", s.Errors, s.Checks)
	}
	return line
}

// WriteTable writes why kinds could not be listed, one line each, then
// one row per result, then the summary line.
func (r *Report) WriteTable(w io.Writer) error {
	for _, u := range r.Unavailable {
		if _, err := fmt.Fprintf(w, "unavailable: %s\n", u.Message); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLAYER\tSTATUS\tOBJECT\tMESSAGE")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.ID, res.Layer, res.Status, res.Object, res.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.SummaryLine())
	return err
}

// JUnit returns one test case per check (class name: the layer). A
// failed check is a failure, a check that could not run an error, a
// skipped check skipped; warnings pass with their messages in system-out,
// as they do not fail verify.
func (r *Report) JUnit() report.Suite {
	suite := report.Suite{Name: "kubectl-stretch verify " + r.Topology}
	for start := 0; start < len(r.Results); {
		end := start + 1
		for end < len(r.Results) && r.Results[end].ID == r.Results[start].ID {
			end++
		}
		results := r.Results[start:end]
		start = end
		var lines []string
		for _, res := range results {
			line := res.Message
			if res.Object != "" {
				line = res.Object + ": " + line
			}
			lines = append(lines, string(res.Status)+": "+line)
		}
		text := strings.Join(lines, "\n")
		c := report.Case{Name: results[0].ID, Classname: string(results[0].Layer)}
		first := results[0].Message
		switch overall(results) {
		case StatusFail:
			c.Failure = &report.Problem{Message: first, Type: string(StatusFail), Text: text}
		case StatusError:
			// A JUnit case is read alone: it carries its causes.
			var lacks []string
			for _, res := range results {
				lacks = append(lacks, notRunKinds(res.Message)...)
			}
			for _, u := range r.Unavailable {
				if slices.ContainsFunc(u.Kinds, func(k string) bool { return slices.Contains(lacks, k) }) {
					text += "\nunavailable: " + u.Message
				}
			}
			c.Error = &report.Problem{Message: first, Type: string(StatusError), Text: text}
		case StatusSkip:
			c.Skipped = &report.Skip{Message: first}
		default:
			c.SystemOut = text
		}
		suite.Cases = append(suite.Cases, c)
	}
	return suite
}
