package check

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// listWidth is the width --list wraps the documentation at.
const listWidth = 100

// WriteList writes the registry as `verify --list` prints it: one line per
// check (ID, layer, severity, title) followed by its documentation,
// indented and wrapped.
func WriteList(w io.Writer, checks []Check) error {
	for i, c := range checks {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "%s  %s  %s  %s\n", c.ID, c.Layer, c.Severity, c.Title); err != nil {
			return err
		}
		for _, line := range wrap(c.Doc+" Reads: "+needsText(c.Needs)+".", listWidth-4) {
			if _, err := fmt.Fprintf(w, "    %s\n", line); err != nil {
				return err
			}
		}
	}
	return nil
}

// Markdown returns the registry as the Markdown of docs/VERIFY.md: the
// kinds verify lists with the checks that read them, a table of every
// check, then a section per check with its documentation.
func Markdown(checks []Check) string {
	var b strings.Builder
	b.WriteString("## What verify reads\n\n| Kind | API | Read by |\n| --- | --- | --- |\n")
	for _, k := range Kinds() {
		var ids []string
		for _, c := range checks {
			if slices.Contains(c.Needs, k) {
				ids = append(ids, c.ID)
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", k, k.Info().path(), strings.Join(ids, ", "))
	}
	b.WriteString("\n## Checks\n\n| ID | Layer | Severity | Check |\n| --- | --- | --- | --- |\n")
	for _, c := range checks {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", c.ID, strings.ToLower(c.ID), c.Layer, c.Severity, c.Title)
	}
	for _, c := range checks {
		fmt.Fprintf(&b, "\n### %s\n\n**%s** (layer %s, severity %s; reads %s)\n\n%s\n",
			c.ID, c.Title, c.Layer, c.Severity, needsText(c.Needs), c.Doc)
	}
	return b.String()
}

func needsText(needs []Kind) string {
	if len(needs) == 0 {
		return "no kind: the kubeconfig and the API server's certificate"
	}
	names := make([]string, len(needs))
	for i, k := range needs {
		names[i] = k.String()
	}
	return strings.Join(names, ", ")
}

// wrap splits text into lines of at most width characters at spaces (a
// longer word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
