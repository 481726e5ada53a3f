package spread

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// statefulSet is a StatefulSet with the given replicas line ("" for none)
// and annotations block ("" for none).
func statefulSet(replicas, annotations string) string {
	s := "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: shop\n"
	if annotations != "" {
		s += "  annotations:\n" + annotations
	}
	s += "spec:\n"
	if replicas != "" {
		s += "  replicas: " + replicas + "\n"
	}
	return s + "  serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n" +
		"    metadata:\n      labels: {app: db}\n    spec:\n      containers: [{name: postgres, image: postgres:16}]\n"
}

// hpaFor is an autoscaler of the StatefulSet db with the given minReplicas.
func hpaFor(kind string, min int) string {
	return "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: db\n  namespace: shop\n" +
		"spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: " + kind + ", name: db}\n" +
		"  minReplicas: " + strconv.Itoa(min) + "\n  maxReplicas: 5\n"
}

// findingOf returns the findings of rule id.
func findingsOf(fs []Finding, id string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// TestStatefulSetReplicasHeld checks that a StatefulSet without the
// stretch.dev/min-replicas opt-in keeps its replicas (and its autoscaler
// its minReplicas), with one SPREAD022 error saying what a region loss does
// and how to opt in, and no SPREAD005, SPREAD006 or SPREAD010 besides.
func TestStatefulSetReplicasHeld(t *testing.T) {
	cases := []struct {
		name, in, keep string
		min            int
		problem        string
	}{
		{"one replica", statefulSet("1", ""), "replicas: 1\n", 2, "replicas 1 is below the minimum 2"},
		{"replicas unset", statefulSet("", ""), "  serviceName: db\n", 2, "replicas is unset (1), below the minimum 2"},
		{"two of three", statefulSet("2", ""), "replicas: 2\n", 3, "replicas 2 is below the minimum 3"},
		{"autoscaled", statefulSet("", "") + "---\n" + hpaFor("StatefulSet", 1), "minReplicas: 1\n", 2,
			"the HorizontalPodAutoscaler's minReplicas 1 is below the minimum 2"},
		{"skip annotation false", statefulSet("1", "    stretch.dev/skip: \"false\"\n"), "replicas: 1\n", 2, "replicas 1 is below"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testPolicy()
			p.MinReplicas = c.min
			out, res, err := PatchStream([]byte(c.in), p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), c.keep) || strings.Contains(string(out), "replicas: "+strconv.Itoa(c.min)) {
				t.Errorf("the replicas changed:\n%s", out)
			}
			checkFindings(t, res.Findings)
			for _, id := range []string{"SPREAD005", "SPREAD006", "SPREAD010"} {
				if fs := findingsOf(res.Findings, id); len(fs) > 0 {
					t.Errorf("%s reported: %+v", id, fs)
				}
			}
			fs := findingsOf(res.Findings, "SPREAD022")
			if len(fs) != 1 {
				t.Fatalf("%d SPREAD022 findings, want 1: %+v", len(fs), res.Findings)
			}
			f := fs[0]
			if f.Severity != SeverityError || f.Changed || f.Kind != "StatefulSet" || f.Name != "db" || f.Line != 1 {
				t.Errorf("SPREAD022 finding %+v, want an unchanged error on StatefulSet db at line 1", f)
			}
			for _, s := range []string{c.problem, "hang", "Terminating", "node.kubernetes.io/out-of-service",
				"surviving region", "RBD volume", `stretch.dev/min-replicas: "` + strconv.Itoa(c.min) + `"`} {
				if !strings.Contains(f.Message, s) {
					t.Errorf("message %q does not say %q", f.Message, s)
				}
			}
			if f.Problem != f.Message {
				t.Errorf("a risk's problem %q differs from its message %q", f.Problem, f.Message)
			}
		})
	}
}

// TestStatefulSetOptIn checks that stretch.dev/min-replicas lets the
// patcher raise a StatefulSet (or its autoscaler) to the larger of its
// value and the policy minimum, and that a Deployment is raised without it.
func TestStatefulSetOptIn(t *testing.T) {
	cases := []struct {
		name, in, want, id string
	}{
		{"opt-in 2", statefulSet("1", "    stretch.dev/min-replicas: \"2\"\n"), "replicas: 2\n", "SPREAD005"},
		{"opt-in 3", statefulSet("1", "    stretch.dev/min-replicas: \"3\"\n"), "replicas: 3\n", "SPREAD005"},
		{"opt-in unset replicas", statefulSet("", "    stretch.dev/min-replicas: \"2\"\n"), "  replicas: 2\n", "SPREAD005"},
		{"autoscaled", statefulSet("", "    stretch.dev/min-replicas: \"3\"\n") + "---\n" + hpaFor("StatefulSet", 1),
			"minReplicas: 3\n", "SPREAD006"},
		{"deployment", strings.Replace(statefulSet("1", ""), "kind: StatefulSet", "kind: Deployment", 1),
			"replicas: 2\n", "SPREAD005"},
		{"deployment opted in to 3", strings.Replace(statefulSet("1", "    stretch.dev/min-replicas: \"3\"\n"), "kind: StatefulSet", "kind: Deployment", 1),
			"replicas: 3\n", "SPREAD005"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, res, err := PatchStream([]byte(c.in), testPolicy())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("output has no %q:\n%s", c.want, out)
			}
			checkFindings(t, res.Findings)
			if fs := findingsOf(res.Findings, c.id); len(fs) != 1 || !fs[0].Changed {
				t.Errorf("%s findings %+v, want one change", c.id, fs)
			}
			for _, id := range []string{"SPREAD010", "SPREAD011", "SPREAD022"} {
				if fs := findingsOf(res.Findings, id); len(fs) > 0 {
					t.Errorf("%s reported: %+v", id, fs)
				}
			}
			again, res2, err := PatchStream(out, testPolicy())
			if err != nil || string(again) != string(out) || res2.Changed() {
				t.Errorf("patching the output again changed it (err %v):\n%s", err, again)
			}
		})
	}
}

// TestMinReplicasAnnotationRefused checks that a bad stretch.dev/min-replicas
// value is refused at its line and column, naming the field, and that
// nothing is patched.
func TestMinReplicasAnnotationRefused(t *testing.T) {
	for _, v := range []string{`"two"`, `"1"`, `"0"`, `"-2"`, `""`, `" 2"`, `"2.0"`, `"0x2"`, `"02"`, `"2147483648"`, `"+2"`} {
		t.Run(v, func(t *testing.T) {
			in := statefulSet("1", "    stretch.dev/min-replicas: "+v+"\n")
			_, _, err := PatchStream([]byte(in), testPolicy())
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("PatchStream: %v, want a DocumentError", err)
			}
			if de.Path != "metadata.annotations.stretch.dev/min-replicas" || de.Line != 7 || de.Column != 31 ||
				!strings.Contains(de.Msg, "from 2 to 2147483647") {
				t.Errorf("error %+v (%v), want metadata.annotations.stretch.dev/min-replicas at 7:31", de, err)
			}
		})
	}
	// Only a Deployment, StatefulSet or ReplicaSet reads it.
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {stretch.dev/min-replicas: two}\n"
	if _, _, err := PatchStream([]byte(other), testPolicy()); err != nil {
		t.Errorf("a ConfigMap's annotation refused: %v", err)
	}
	for _, v := range []string{`"2"`, `"17"`, `"2147483647"`} {
		if _, _, err := PatchStream([]byte(statefulSet("1", "    stretch.dev/min-replicas: "+v+"\n")), testPolicy()); err != nil {
			t.Errorf("%s refused: %v", v, err)
		}
	}
}

// TestFixableTellsTheTruth checks the registry's Fixable (what lint --list
// prints as FIXED BY RENDER) against what the patcher does over every
// golden case: a finding is a change only for a Fixable rule, and every
// Fixable rule has a change in some case.
func TestFixableTellsTheTruth(t *testing.T) {
	changed := map[string]bool{}
	for _, dir := range caseDirs(t) {
		p, in := loadCase(t, dir)
		_, res, err := PatchStream(in, p)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, f := range res.Findings {
			if f.Changed {
				changed[f.ID] = true
				if r := ruleByID(t, f.ID); !r.Fixable {
					t.Errorf("%s: %s is a change, but Rules says render does not fix %s", dir, f.Message, f.ID)
				}
			}
		}
	}
	for _, r := range Rules() {
		if r.Fixable && !changed[r.ID] {
			t.Errorf("%s is Fixable, but no case of %s is fixed", r.ID, casesDir)
		}
	}
}
