package lint

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

// APIVersion and Kind of a lint report.
const (
	APIVersion = "stretch.dev/v1alpha1"
	Kind       = "LintReport"
)

// Report is the result of a lint run.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Summary    Summary   `json:"summary"`
	Findings   []Finding `json:"findings"`
}

// Summary counts the files, objects and findings.
type Summary struct {
	Files    int `json:"files"`
	Objects  int `json:"objects"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Finding is one finding of a rule for one object in one file.
type Finding struct {
	ID        string          `json:"id"`
	Severity  spread.Severity `json:"severity"`
	File      string          `json:"file"`
	Kind      string          `json:"kind"`
	Namespace string          `json:"namespace,omitempty"`
	Name      string          `json:"name"`
	Message   string          `json:"message"`
	Fix       string          `json:"fix"`
}

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
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(path))
			if !d.IsDir() && (ext == ".yaml" || ext == ".yml") && d.Name() != "kustomization.yaml" {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// Run lints the files as one set of objects (an HPA in one file targets a
// Deployment in another, a PDB may sit apart from its workload) under the
// policy. Bad YAML in a file is an error naming the file.
func Run(files []string, p spread.Policy) (*Report, error) {
	var objs []*kyaml.RNode
	var origin []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("lint %s: %w", f, err)
		}
		for range nodes {
			origin = append(origin, f)
		}
		objs = append(objs, nodes...)
	}
	fileOf := map[string]string{}
	for i, o := range objs {
		fileOf[identity(o.GetKind(), o.GetNamespace(), o.GetName())] = origin[i]
	}
	res, err := spread.Patch(objs, p)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	r := &Report{APIVersion: APIVersion, Kind: Kind, Findings: []Finding{}}
	r.Summary.Files = len(files)
	r.Summary.Objects = len(objs)
	for _, f := range res.Findings {
		r.Findings = append(r.Findings, Finding{
			ID: f.ID, Severity: f.Severity, File: fileOf[identity(f.Kind, f.Namespace, f.Name)],
			Kind: f.Kind, Namespace: f.Namespace, Name: f.Name, Message: f.Message, Fix: f.Fix,
		})
		switch f.Severity {
		case spread.SeverityError:
			r.Summary.Errors++
		case spread.SeverityWarning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		return fmt.Sprint(a.File, "\x00", a.Namespace, "\x00", a.Kind, "\x00", a.Name, "\x00", a.ID) <
			fmt.Sprint(b.File, "\x00", b.Namespace, "\x00", b.Kind, "\x00", b.Name, "\x00", b.ID)
	})
	return r, nil
}

func identity(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// Formats lists the output formats, the first being the default.
var Formats = []string{"table", "json", "yaml", "junit"}

// Write writes the report in a format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return r.writeTable(w)
	case "json":
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(data, '\n'))
		return err
	case "yaml":
		data, err := yaml.Marshal(r)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	case "junit":
		return r.writeJUnit(w)
	}
	return fmt.Errorf("unknown output format %q (one of %s)", format, strings.Join(Formats, ", "))
}

func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tFILE\tOBJECT\tMESSAGE\tFIX")
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Severity, f.File, ref(f), f.Message, f.Fix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d file(s), %d object(s): %d error(s), %d warning(s), %d info\n",
		r.Summary.Files, r.Summary.Objects, r.Summary.Errors, r.Summary.Warnings, r.Summary.Infos)
	return err
}

func ref(f Finding) string {
	if f.Namespace == "" {
		return f.Kind + "/" + f.Name
	}
	return f.Kind + "/" + f.Namespace + "/" + f.Name
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test case per finding; errors and warnings fail.
func (r *Report) writeJUnit(w io.Writer) error {
	s := junitSuite{Name: "kubectl-stretch lint"}
	for _, f := range r.Findings {
		c := junitCase{Name: f.ID + " " + ref(f), Classname: f.File}
		if f.Severity == spread.SeverityInfo {
			c.SystemOut = f.Message
		} else {
			c.Failure = &junitFailure{Message: f.Message, Type: string(f.Severity), Text: "fix: " + f.Fix}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
