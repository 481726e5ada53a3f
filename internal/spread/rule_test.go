package spread

import (
	"fmt"
	"testing"
)

// TestRules checks the registry: IDs in order without gaps, every field
// set, and Rules returning a copy.
func TestRules(t *testing.T) {
	rules := Rules()
	if len(rules) != int(ruleCount) {
		t.Fatalf("%d rules, want %d", len(rules), ruleCount)
	}
	names := map[string]bool{}
	for i, r := range rules {
		if want := fmt.Sprintf("SPREAD%03d", i+1); r.ID != want {
			t.Errorf("rule %d has ID %s, want %s", i, r.ID, want)
		}
		if r.Name == "" || r.Title == "" || r.Doc == "" || r.Fix == "" {
			t.Errorf("rule %s has an empty name, title, doc or fix: %+v", r.ID, r)
		}
		switch r.Severity {
		case SeverityInfo, SeverityWarning, SeverityError:
		default:
			t.Errorf("rule %s has severity %q", r.ID, r.Severity)
		}
		if names[r.Name] {
			t.Errorf("rule name %s is used twice", r.Name)
		}
		names[r.Name] = true
	}
	rules[0].ID = "changed"
	if Rules()[0].ID != "SPREAD001" {
		t.Error("Rules returns the registry itself, not a copy")
	}
}
