package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// ledger is a one-replica StatefulSet; annotations go under its metadata.
func ledger(annotations string) string {
	s := "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ledger\n  namespace: shop\n"
	if annotations != "" {
		s += "  annotations:\n" + annotations
	}
	return s + "spec:\n  replicas: 1\n  serviceName: ledger\n  selector:\n    matchLabels: {app: ledger}\n" +
		"  template:\n    metadata:\n      labels: {app: ledger}\n    spec:\n" +
		"      containers:\n      - {name: ledger, image: registry.example/ledger:1}\n"
}

// door is what one of render, post-render, fn and lint said about the
// StatefulSet shop/ledger.
type door struct {
	name string
	code int
	// risks are the findings left unfixed, "ID severity", sorted.
	risks []string
	// replicaRule is the ID and severity of the finding about its replicas
	// that the door names, fixed or not; empty when it names none.
	replicaRule string
	// replicas are the StatefulSet's replicas in the door's output; -1 for
	// lint, which writes no manifest.
	replicas int
}

// riskLine is a risk as render and post-render print it.
var riskLine = regexp.MustCompile(`(?m)^  (\S+) (\S+) +StatefulSet/shop/ledger `)

// replicaRules are the rules that speak of a StatefulSet's replicas.
var replicaRules = []string{"SPREAD005", "SPREAD006", "SPREAD010", "SPREAD022"}

// TestStatefulSetReplicasAgree runs one single-replica StatefulSet through
// render, post-render (standard input), fn (a ResourceList) and lint,
// without and with the stretch.dev/min-replicas opt-in: all four report
// the same rule and severity about its replicas and leave it at the same
// replicas, one without the opt-in (SPREAD022, an error that fails lint
// only, as SPREAD021 does) and two with it (SPREAD005, fixed).
func TestStatefulSetReplicasAgree(t *testing.T) {
	t.Setenv(TopologyEnv, "")
	for _, tc := range []struct {
		name, annotations string
		risks             []string
		replicaRule       string
		replicas          int
		lintCode          int
	}{
		{"without opt-in", "", []string{"SPREAD022 error"}, "SPREAD022 error", 1, ExitFailed},
		{"opted in", "    stretch.dev/min-replicas: \"2\"\n", nil, "SPREAD005 warning", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest := ledger(tc.annotations)
			topo := exampleCopy(t, "", map[string]string{"apps/ledger.yaml": manifest})
			doors := []door{
				renderDoor(t, topo),
				postRenderDoor(t, topo, manifest),
				fnDoor(t, manifest),
				lintDoor(t, topo),
			}
			for _, d := range doors {
				wantCode, wantReplicas := 0, tc.replicas
				if d.name == "lint" {
					wantCode, wantReplicas = tc.lintCode, -1
				}
				if d.code != wantCode || !slices.Equal(d.risks, tc.risks) || d.replicas != wantReplicas {
					t.Errorf("%s: exit %d, risks %q, replicas %d; want exit %d, risks %q, replicas %d",
						d.name, d.code, d.risks, d.replicas, wantCode, tc.risks, wantReplicas)
				}
				// render and post-render print risks only, not changes.
				if d.replicaRule != tc.replicaRule && !(d.replicaRule == "" && len(tc.risks) == 0 &&
					(d.name == "render" || d.name == "post-render")) {
					t.Errorf("%s names %q about the replicas, want %q", d.name, d.replicaRule, tc.replicaRule)
				}
			}
		})
	}
}

// printedRisks reads the risks of shop/ledger that render or post-render
// printed, and the one about its replicas.
func printedRisks(name string, code int, stderr string, replicas int) door {
	d := door{name: name, code: code, replicas: replicas}
	for _, m := range riskLine.FindAllStringSubmatch(stderr, -1) {
		d.risks = append(d.risks, m[1]+" "+m[2])
		if slices.Contains(replicaRules, m[1]) {
			d.replicaRule = m[1] + " " + m[2]
		}
	}
	slices.Sort(d.risks)
	return d
}

func renderDoor(t *testing.T, topo string) door {
	t.Helper()
	out := filepath.Join(filepath.Dir(topo), "out")
	code, _, stderr := run(t, "render", "-f", topo, "-o", out)
	data, err := os.ReadFile(filepath.Join(out, "workloads", "apps", "statefulset_shop_ledger.yaml"))
	if err != nil {
		t.Fatalf("render (exit %d) wrote no StatefulSet: %v\n%s", code, err, stderr)
	}
	return printedRisks("render", code, stderr, replicasOf(t, data))
}

func postRenderDoor(t *testing.T, topo, manifest string) door {
	t.Helper()
	code, stdout, stderr := runStdin(manifest, "post-render", "-f", topo)
	first, _, _ := strings.Cut(stdout, "\n---\n")
	return printedRisks("post-render", code, stderr, replicasOf(t, []byte(first)))
}

func fnDoor(t *testing.T, manifest string) door {
	t.Helper()
	code, stdout, stderr := runStdin(spreadPolicyList(manifest), "fn")
	var rl struct {
		Items   []json.RawMessage
		Results []struct {
			Severity    string
			Tags        map[string]string
			ResourceRef struct{ Kind, Name, Namespace string }
		}
	}
	if err := sigsyaml.Unmarshal([]byte(stdout), &rl); err != nil || len(rl.Items) == 0 {
		t.Fatalf("fn (exit %d): %v\n%s%s", code, err, stdout, stderr)
	}
	d := door{name: "fn", code: code, replicas: replicasOf(t, rl.Items[0])}
	for _, r := range rl.Results {
		if r.ResourceRef.Kind != "StatefulSet" || r.ResourceRef.Name != "ledger" {
			continue
		}
		rule := r.Tags["id"] + " " + r.Tags["severity"]
		if r.Severity != "info" { // the function's severity: a risk left unfixed
			d.risks = append(d.risks, rule)
		}
		if slices.Contains(replicaRules, r.Tags["id"]) {
			d.replicaRule = rule
		}
	}
	slices.Sort(d.risks)
	return d
}

func lintDoor(t *testing.T, topo string) door {
	t.Helper()
	code, out, stderr := run(t, "lint", "-f", topo, "-o", "json", filepath.Join(filepath.Dir(topo), "apps"))
	var report struct {
		Findings []struct {
			ID, Severity, Kind, Namespace, Name string
			FixedByRender                       bool
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("lint (exit %d): %v\n%s%s", code, err, out, stderr)
	}
	d := door{name: "lint", code: code, replicas: -1}
	for _, f := range report.Findings {
		if f.Kind != "StatefulSet" || f.Namespace != "shop" || f.Name != "ledger" {
			continue
		}
		if !f.FixedByRender && f.Severity != "info" {
			d.risks = append(d.risks, f.ID+" "+f.Severity)
		}
		if slices.Contains(replicaRules, f.ID) {
			d.replicaRule = f.ID + " " + f.Severity
		}
	}
	slices.Sort(d.risks)
	return d
}

// replicasOf returns spec.replicas of a StatefulSet in YAML or JSON.
func replicasOf(t *testing.T, data []byte) int {
	t.Helper()
	var obj struct {
		Kind string
		Spec struct{ Replicas *int }
	}
	if err := sigsyaml.Unmarshal(data, &obj); err != nil || obj.Kind != "StatefulSet" || obj.Spec.Replicas == nil {
		t.Fatalf("not a StatefulSet with replicas (%v):\n%s", err, data)
	}
	return *obj.Spec.Replicas
}

// TestLintListFixedByRender checks lint --list against the registry: one
// row per rule, in order, whose FIXED BY RENDER column is the rule's
// Fixable (which TestFixableTellsTheTruth in internal/spread holds to what
// the patcher does). SPREAD022 and SPREAD010 are not fixed by render: a
// StatefulSet is raised only when it opts in, and then SPREAD005 fixes it.
func TestLintListFixedByRender(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "lint", "--list")
	if code != 0 {
		t.Fatalf("lint --list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "FIXED BY RENDER") {
		t.Fatalf("no header:\n%s", out)
	}
	rules := lintRules()
	if len(lines)-1 != len(rules) {
		t.Fatalf("%d rows, want one per rule (%d):\n%s", len(lines)-1, len(rules), out)
	}
	fixed := map[string]string{}
	for i, r := range rules {
		fields := strings.Fields(lines[i+1])
		want := "no"
		if r.Fixable {
			want = "yes"
		}
		if len(fields) < 3 || fields[0] != r.ID || fields[1] != string(r.Severity) || fields[2] != want {
			t.Errorf("row %q, want %s %s %s", lines[i+1], r.ID, r.Severity, want)
		}
		if len(fields) >= 3 {
			fixed[fields[0]] = fields[2]
		}
	}
	for id, want := range map[string]string{"SPREAD005": "yes", "SPREAD006": "yes", "SPREAD010": "no", "SPREAD022": "no"} {
		if fixed[id] != want {
			t.Errorf("lint --list says render fixes %s: %q, want %q", id, fixed[id], want)
		}
	}
}
