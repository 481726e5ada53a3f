package lint

import (
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/input"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/report"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Report is the result of a lint run: the stretch.dev/v1alpha1
// LintReport, with its writers.
type Report struct {
	v1alpha1.LintReport
}

// fixedHint is how the table and JUnit reports say that a finding is
// FixedByRender.
const fixedHint = "fixed automatically by render, post-render and fn"

// Failed reports whether any finding has severity error.
func (r *Report) Failed() bool { return r.Summary.Errors > 0 }

// Files expands paths (files, or folders searched recursively for .yaml
// and .yml files) into a sorted list of files.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		found := len(out)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && topology.IsManifestFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		if len(out) == found {
			// A gate that passes on a misspelt or empty folder checks nothing.
			return nil, fmt.Errorf("lint: %s holds no .yaml or .yml files", p)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// Run lints the files as one set of objects (an HPA in one file targets a
// Deployment in another, a PDB may sit apart from its workload) under the
// policy: it reports the findings render, post-render and fn report, each
// as a problem of the files as written and whether they fix it. Bad YAML
// in a file is an error naming the file.
func Run(files []string, p spread.Policy) (*Report, error) {
	in := make([]spread.File, 0, len(files))
	for _, f := range files {
		data, err := input.ReadFile(f, input.ManifestLimit)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		in = append(in, spread.File{Name: f, Data: data})
	}
	objs, origin, err := spread.ReadFiles(in)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	fileOf := map[string]string{}
	for i, o := range objs {
		fileOf[identity(o.GetKind(), o.GetNamespace(), o.GetName())] = origin[i]
	}
	res, err := spread.Patch(objs, p)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", spread.InFiles(err, origin))
	}
	r := &Report{v1alpha1.LintReport{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindLintReport, Findings: []v1alpha1.LintFinding{}}}
	r.Summary.Files = len(files)
	r.Summary.Objects = len(objs)
	for _, f := range res.Findings {
		r.Findings = append(r.Findings, v1alpha1.LintFinding{
			ID: f.ID, Severity: f.Severity, File: fileOf[identity(f.Kind, f.Namespace, f.Name)], Line: f.Line,
			Kind: f.Kind, Namespace: f.Namespace, Name: f.Name, Problem: f.Problem, Fix: f.Fix,
			FixedByRender: f.Changed,
		})
		if f.Changed {
			r.Summary.FixedByRender++
		}
		switch f.Severity {
		case spread.SeverityError:
			r.Summary.Errors++
		case spread.SeverityWarning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
	// The namespaces the files name but none of them creates: lint takes
	// the files as one set, as a source's folder.
	refs := make([]namespaces.Ref, len(objs))
	for i, o := range objs {
		refs[i] = namespaces.Ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), File: origin[i]}
	}
	for _, g := range namespaces.Missing(refs) {
		f := g.Finding(g.Objects)
		r.Findings = append(r.Findings, v1alpha1.LintFinding{
			ID: f.ID, Severity: f.Severity, File: g.Objects[0].File,
			Kind: f.Kind, Name: f.Name, Problem: f.Problem, Fix: f.Fix,
		})
		r.Summary.Errors++
	}
	// The patcher sorts by namespace, kind, name, ID and message; put the
	// file first.
	slices.SortStableFunc(r.Findings, func(a, b v1alpha1.LintFinding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return r, nil
}

func identity(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// Formats lists the output formats, the first being the default.
var Formats = slices.Clone(report.Formats)

// Write writes the report in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	return report.Write(w, format, r)
}

// WriteTable writes one row per finding, with a FIXED BY RENDER column
// (as in lint --list), then a summary line.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tFILE\tOBJECT\tPROBLEM\tFIXED BY RENDER\tFIX")
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Severity, place(f), ref(f), f.Problem, yesNo(f.FixedByRender), f.Fix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := r.Summary
	fixed := ""
	if s.FixedByRender > 0 {
		fixed = fmt.Sprintf("; %d of them %s", s.FixedByRender, fixedHint)
	}
	_, err := fmt.Fprintf(w, "%d file(s), %d object(s): %d error(s), %d warning(s), %d info%s\n",
		s.Files, s.Objects, s.Errors, s.Warnings, s.Infos, fixed)
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// place is the file and line of the finding's object: FILE:LINE.
func place(f v1alpha1.LintFinding) string {
	if f.Line == 0 {
		return f.File
	}
	return f.File + ":" + strconv.Itoa(f.Line)
}

func ref(f v1alpha1.LintFinding) string {
	if f.Namespace == "" {
		return f.Kind + "/" + f.Name
	}
	return f.Kind + "/" + f.Namespace + "/" + f.Name
}

// JUnit returns one test case per finding; errors and warnings fail. A
// finding that render fixes says so after its problem (info) or its fix.
func (r *Report) JUnit() report.Suite {
	s := report.Suite{Name: "kubectl-stretch lint"}
	for _, f := range r.Findings {
		c := report.Case{Name: f.ID + " " + ref(f), Classname: place(f)}
		if f.Severity == spread.SeverityInfo {
			c.SystemOut = f.Problem
			if f.FixedByRender {
				c.SystemOut += " (" + fixedHint + ")"
			}
		} else {
			text := "fix: " + f.Fix
			if f.FixedByRender {
				text += "\n" + fixedHint
			}
			c.Failure = &report.Problem{Message: f.Problem, Type: string(f.Severity), Text: text}
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}
