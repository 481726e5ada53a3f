package app

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated sections of the docs and the expected output of the bad-input corpus")

// spreadDocs is the spread patcher's reference; the part between
// rulesBegin and rulesEnd is generated from the lint rules (lintRules).
const (
	spreadDocs = "../../../docs/SPREAD.md"
	rulesBegin = "<!-- rules:begin -->"
	rulesEnd   = "<!-- rules:end -->"
)

// TestSpreadDocs regenerates the rules reference of docs/SPREAD.md from the
// registry and compares it with the file; -update rewrites the file.
func TestSpreadDocs(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(spreadDocs)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	before, rest, ok := strings.Cut(doc, rulesBegin+"\n")
	_, after, ok2 := strings.Cut(rest, rulesEnd)
	if !ok || !ok2 {
		t.Fatalf("%s has no %s line followed by %s", spreadDocs, rulesBegin, rulesEnd)
	}
	want := before + rulesBegin + "\n" + rulesMarkdown(lintRules()) + rulesEnd + after
	if *updateDocs {
		if want != doc {
			if err := os.WriteFile(spreadDocs, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if doc != want {
		diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(doc), B: difflib.SplitLines(want),
			FromFile: spreadDocs, ToFile: "generated", Context: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("the rules in %s are out of date (run go test ./cmd/kubectl-stretch/app -run TestSpreadDocs -update):\n%s",
			spreadDocs, diff)
	}
}

// rulesMarkdown writes the table of the rules, then one section per rule
// with its Doc and Fix.
func rulesMarkdown(rules []spread.Rule) string {
	var b strings.Builder
	b.WriteString("<!-- Generated from spread.Rules() by " +
		"`go test ./cmd/kubectl-stretch/app -run TestSpreadDocs -update`; do not edit. -->\n\n")
	b.WriteString("| ID | name | severity | fixed automatically | title |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | `%s` | %s | %s | %s |\n",
			r.ID, ruleAnchor(r), r.Name, r.Severity, fixedAutomatically(r), markdownText(r.Title))
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n### %s\n\n", ruleHeading(r))
		fmt.Fprintf(&b, "**%s.** Severity: %s. Fixed automatically: %s.\n\n",
			markdownText(r.Title), r.Severity, fixedAutomatically(r))
		fmt.Fprintf(&b, "%s\n\n", markdownText(r.Doc))
		fmt.Fprintf(&b, "Fix: %s.\n", markdownText(r.Fix))
	}
	return b.String()
}

// ruleHeading is a rule's section heading, such as "SPREAD001: zone-spread".
func ruleHeading(r spread.Rule) string { return r.ID + ": " + r.Name }

// ruleAnchor is the anchor GitHub gives ruleHeading: lower case, the colon
// dropped, the space a hyphen.
func ruleAnchor(r spread.Rule) string { return strings.ToLower(r.ID) + "-" + r.Name }

func fixedAutomatically(r spread.Rule) string {
	if r.Fixable {
		return "yes"
	}
	return "no"
}

// markdownText escapes the characters of plain text that Markdown would
// read as markup (a <workload> would be an HTML tag) or, in a table, as a
// cell border.
var markdownText = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `<`, `\<`, `|`, `\|`,
).Replace
