package lint

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	goldenfile "github.com/stretch-dev/kubectl-stretch/internal/golden"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

var update = flag.Bool("update", false, "rewrite the golden reports under testdata")

// manifests holds the fixture files; testdata/report.* are the reports of
// linting all of them.
const manifests = "testdata/manifests"

// testPolicy is the policy of the example topology: data regions sto1 and
// sto2, at least two replicas.
func testPolicy() spread.Policy {
	return spread.Policy{
		ZoneKey:         "topology.kubernetes.io/zone",
		DataZones:       []string{"sto1", "sto2"},
		ArbiterTaintKey: "stretch.dev/arbiter",
		MinReplicas:     2,
		SkipAnnotation:  spread.AnnotationSkip,
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got, *update, "./internal/lint")
}

// TestFiles expands files and folders: .yaml and .yml files only, no
// kustomization.yaml, sorted and without duplicates.
func TestFiles(t *testing.T) {
	t.Parallel()
	got, err := Files([]string{manifests, filepath.Join(manifests, "apps.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(manifests, "apps.yaml"),
		filepath.Join(manifests, "autoscaled.yml"),
		filepath.Join(manifests, "clean", "good.yaml"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	if _, err := Files([]string{filepath.Join(manifests, "missing.yaml")}); err == nil {
		t.Error("Files of a missing path: no error")
	}
	empty := t.TempDir()
	_, err = Files([]string{manifests, empty})
	if want := "lint: " + empty + " holds no .yaml or .yml files"; err == nil || err.Error() != want {
		t.Errorf("Files of a folder without manifests: %v, want %s", err, want)
	}
}

// TestReportGolden lints the fixture files and compares the report in
// every format with testdata/report.*.
func TestReportGolden(t *testing.T) {
	t.Parallel()
	files, err := Files([]string{manifests})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(files, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() {
		t.Error("the report has errors but does not fail")
	}
	ext := map[string]string{"table": "txt", "json": "json", "yaml": "yaml", "junit": "xml"}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.Write(&b, format); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "report."+ext[format]), b.Bytes())
		})
	}
	if err := r.Write(&bytes.Buffer{}, "xml"); err == nil || !strings.Contains(err.Error(), "one of table, json, yaml, junit") {
		t.Errorf("Write -o xml: %v", err)
	}
}

// TestRunReplicas checks what lint says about replicas: the findings
// render reports, each as a problem of the manifest as written and whether
// render fixes it. A StatefulSet below two replicas is an error
// (SPREAD022) unless it opts in with stretch.dev/min-replicas, which lets
// render raise it (SPREAD005, SPREAD006); a Deployment is raised anyway.
func TestRunReplicas(t *testing.T) {
	t.Parallel()
	const head = `apiVersion: apps/v1
kind: %s
metadata:
  name: app
  namespace: shop%s
spec:
%s  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: topology.kubernetes.io/zone, operator: In, values: [sto1, sto2]}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: app}}}
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: app}}}
      containers:
      - {name: app, image: registry.example/app:1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: app, namespace: shop}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: app}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	const optOut = "\n  annotations: {stretch.dev/skip: \"true\"}"
	const optIn = "\n  annotations: {stretch.dev/min-replicas: \"2\"}"
	const hpa = `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: app}
  minReplicas: 1
  maxReplicas: 3
`
	const held = ", and a StatefulSet is raised only when annotated stretch.dev/min-replicas: on region loss its pod"
	tests := []struct {
		name   string
		input  string
		failed bool
		want   []string // ID severity fixedByRender: the problem's start
	}{{
		name:   "statefulset-replicas-unset",
		input:  fmt.Sprintf(head, "StatefulSet", "", ""),
		failed: true,
		want:   []string{"SPREAD022 error false: replicas is unset (1), below the minimum 2" + held},
	}, {
		name:   "statefulset-one-replica",
		input:  fmt.Sprintf(head, "StatefulSet", "", "  replicas: 1\n"),
		failed: true,
		want:   []string{"SPREAD022 error false: replicas 1 is below the minimum 2" + held},
	}, {
		name:  "statefulset-opted-in",
		input: fmt.Sprintf(head, "StatefulSet", optIn, "  replicas: 1\n"),
		want:  []string{"SPREAD005 warning true: replicas 1 is below the minimum 2"},
	}, {
		name:  "statefulset-two-replicas",
		input: fmt.Sprintf(head, "StatefulSet", "", "  replicas: 2\n"),
	}, {
		name:   "statefulset-opted-out",
		input:  fmt.Sprintf(head, "StatefulSet", optOut, "  replicas: 1\n"),
		failed: true,
		want: []string{
			`SPREAD008 info false: annotated stretch.dev/skip: "true": opted out of spread patching`,
			"SPREAD010 error false: runs one replica (opted out, so not raised): its pod is not recreated while its region is lost",
		},
	}, {
		name:   "statefulset-autoscaled-from-one",
		input:  fmt.Sprintf(head, "StatefulSet", "", "  replicas: 3\n") + hpa,
		failed: true,
		want:   []string{"SPREAD022 error false: the HorizontalPodAutoscaler's minReplicas 1 is below the minimum 2" + held},
	}, {
		name:  "statefulset-autoscaled-opted-in",
		input: fmt.Sprintf(head, "StatefulSet", optIn, "  replicas: 3\n") + hpa,
		want:  []string{"SPREAD006 warning true: minReplicas 1 is below the minimum 2"},
	}, {
		name:  "deployment-one-replica",
		input: fmt.Sprintf(head, "Deployment", "", "  replicas: 1\n"),
		want:  []string{"SPREAD005 warning true: replicas 1 is below the minimum 2"},
	}, {
		name:  "deployment-scaled-to-zero",
		input: fmt.Sprintf(head, "Deployment", "", "  replicas: 0\n"),
		want:  []string{"SPREAD009 info false: has replicas: 0 (switched off)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "app.yaml")
			if err := os.WriteFile(file, []byte(tt.input), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Run([]string{file}, testPolicy())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, fmt.Sprintf("%s %s %t: %s", f.ID, f.Severity, f.FixedByRender, f.Problem))
			}
			if !slices.EqualFunc(got, tt.want, strings.HasPrefix) {
				t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if r.Failed() != tt.failed {
				t.Errorf("Failed() = %t, want %t", r.Failed(), tt.failed)
			}
		})
	}
}

// TestRunBadInput names the file and line of bad YAML, and the file, line
// and field of a field of the wrong type, however many files come before.
func TestRunBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
	badField := "# web\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n" +
		"  selector: {matchLabels: {app: web}}\n  replicas: two\n  template: {spec: {containers: []}}\n"
	for _, tt := range []struct {
		name, data, want string
	}{
		{"bad.yaml", "kind: ConfigMap\n---\nkind: [\n", "lint: %s/bad.yaml:3: yaml: did not find expected node content"},
		{"field.yaml", "---\n" + badField, `lint: %s/field.yaml:8:13: Deployment shop/web: spec.replicas: expected an integer, got the string "two"`},
	} {
		a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, tt.name)
		for f, data := range map[string]string{a: good, b: tt.data} {
			if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Run([]string{a, b}, testPolicy())
		if want := fmt.Sprintf(tt.want, dir); err == nil || err.Error() != want {
			t.Errorf("Run on %s: %v\nwant %s", tt.name, err, want)
		}
	}
}

// TestRunUncreatedNamespace: objects in a namespace that no file creates
// are one error finding naming them, at the first one's file; a Namespace
// in any of the files, or a namespace the cluster has, is not reported.
func TestRunUncreatedNamespace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	objs := write("billing.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rates, namespace: billing}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sys, namespace: kube-system}\n")
	ns := write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: billing}\n")

	r, err := Run([]string{objs}, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.LintFinding{ID: "NAMESPACE001", Severity: spread.SeverityError, File: objs, Kind: "Namespace", Name: "billing",
		Problem: "namespace billing is created by no Namespace object, yet 1 object is in it (ConfigMap/rates): " +
			"Flux's workloads stage cannot apply them and fails as a whole",
		Fix: "add a Namespace object for the namespace to a workload source, or move the objects to a namespace one creates"}
	if len(r.Findings) != 1 || r.Findings[0] != want || r.Summary.Errors != 1 || !r.Failed() {
		t.Errorf("Run without the Namespace: %+v\nwant only %+v", r, want)
	}

	r, err = Run([]string{objs, ns}, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || r.Failed() {
		t.Errorf("Run with the Namespace: %+v, want no finding", r.Findings)
	}
}
