package spread

import (
	"fmt"
	"maps"
	"os"
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

// TestPlainSecretLine checks that SPREAD021 names the line of each plain
// Secret in its file, and no other object.
func TestPlainSecretLine(t *testing.T) {
	data, err := os.ReadFile("../../testdata/spread/plain-secret/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Patch(objs, Policy{ZoneKey: "topology.kubernetes.io/zone", MinReplicas: 2, DataZones: []string{"sto1", "sto2"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range res.Findings {
		if f.ID == "SPREAD021" {
			if f.Severity != SeverityError || f.Changed {
				t.Errorf("%s %s: severity %s, changed %v; want an unchanged error", f.Kind, f.Name, f.Severity, f.Changed)
			}
			got[f.Kind+" "+f.Namespace+"/"+f.Name] = f.Line
		}
	}
	want := map[string]int{"Secret shop/db": 3, "Secret /tls": 30}
	if !maps.Equal(got, want) {
		t.Errorf("SPREAD021 findings at %v, want %v", got, want)
	}
}
