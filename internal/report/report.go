// Package report writes the reports of lint and verify in their output
// formats: a table (the command's own), JSON, YAML and JUnit XML. Both
// commands go through Write, so their formats, flags and encodings cannot
// drift apart.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Formats lists the output formats, the first being the default.
var Formats = []string{"table", "json", "yaml", "junit"}

// Report is what a command reports: a document for JSON and YAML (its
// apiVersion and kind set), a table for people and a JUnit suite for CI.
type Report interface {
	WriteTable(w io.Writer) error
	JUnit() Suite
}

// Write writes r in format, one of Formats.
func Write(w io.Writer, format string, r Report) error {
	switch format {
	case "table":
		return r.WriteTable(w)
	case "json":
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		_, err = w.Write(append(data, '\n'))
		return err
	case "yaml":
		data, err := yaml.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		_, err = w.Write(data)
		return err
	case "junit":
		return writeJUnit(w, r.JUnit())
	}
	return fmt.Errorf("unknown output format %q (one of %s)", format, strings.Join(Formats, ", "))
}

// Suite is a JUnit test suite. Write counts its tests, failures, errors
// and skipped cases.
type Suite struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Cases    []Case `xml:"testcase"`
}

// Case is a JUnit test case: it passes unless it has a Failure, an Error
// or is Skipped.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Failure   *Problem `xml:"failure,omitempty"`
	Error     *Problem `xml:"error,omitempty"`
	Skipped   *Skip    `xml:"skipped,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Problem is a JUnit failure or error.
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Skip is a skipped JUnit case.
type Skip struct {
	Message string `xml:"message,attr"`
}

type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []Suite  `xml:"testsuite"`
}

// writeJUnit writes s as the one suite of a JUnit document.
func writeJUnit(w io.Writer, s Suite) error {
	s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []Suite{s}}); err != nil {
		return fmt.Errorf("encode JUnit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
