package app

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/postrender"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/source"
)

// buildBinary builds kubectl-stretch into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubectl-stretch")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestHelmPostRender runs the binary as a post-renderer through the Helm
// SDK's exec post-render hook, as helm install --post-renderer does.
func TestHelmPostRender(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	post, err := postrender.NewExec(bin, "post-render", "-f", abs(t, example))
	if err != nil {
		t.Fatal(err)
	}
	src := v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "workloads/charts/web", Release: "shop", Namespace: "web"}}
	files, err := source.Load(t.Context(), "../../../testdata", src, source.Options{PostRenderer: post})
	if err != nil || len(files) != 1 {
		t.Fatalf("helm render with the post-renderer: %d streams, %v", len(files), err)
	}
	s := string(files[0].Data)
	for _, want := range []string{
		"kind: Deployment", "nodeTaintsPolicy: Honor", "topologyKey: topology.kubernetes.io/zone",
		"kind: HorizontalPodAutoscaler", "minReplicas: 2",
		"kind: PodDisruptionBudget", "name: shop-stretch",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("post-rendered chart lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "minReplicas: 1") {
		t.Errorf("the HPA's minReplicas was not raised:\n%s", s)
	}

	// Bad input: a non-zero exit and a message naming the document.
	cmd := exec.Command(bin, "post-render", "-f", abs(t, example))
	cmd.Stdin = strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n- just\n- a list\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailed || stdout.Len() != 0 || !strings.Contains(stderr.String(), "document 2") {
		t.Errorf("bad input: %v\nstdout %q\nstderr %q", err, stdout.String(), stderr.String())
	}
}

func TestPostRenderEnvAndIdempotence(t *testing.T) {
	t.Setenv(TopologyEnv, example)
	in, err := os.ReadFile("../../../testdata/apps/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	once := postRender(t, in)
	twice := postRender(t, []byte(once))
	if once != twice {
		t.Errorf("post-render is not idempotent:\n%s\n---- second pass ----\n%s", once, twice)
	}
}

func postRender(t *testing.T, in []byte) string {
	t.Helper()
	streams, stdin, out, errOut := genericTestStreams()
	stdin.Write(in)
	if code := Run(t.Context(), streams, []string{"post-render"}); code != 0 {
		t.Fatalf("post-render: exit %d: %s", code, errOut.String())
	}
	return out.String()
}

// kustomizeBinary returns bin/testbin/kustomize, built by make testbin.
func kustomizeBinary(t *testing.T) string {
	t.Helper()
	dir, err := sim.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	k := filepath.Join(dir, "kustomize")
	if _, err := os.Stat(k); err != nil {
		if testing.Short() {
			t.Skip("kustomize not built (-short)")
		}
		t.Fatalf("%s not found: run make testbin", k)
	}
	return k
}

// TestKustomizeFn runs the function through a real kustomize build, as a
// transformer and as a generator.
func TestKustomizeFn(t *testing.T) {
	t.Parallel()
	kustomize := kustomizeBinary(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	shop, err := os.ReadFile("../../../testdata/apps/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	fnAnnotation := "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: " + bin + "\n        args: [fn]\n"
	files := map[string]string{
		"transform/kustomization.yaml": "resources: [shop.yaml]\ntransformers: [spread.yaml]\n",
		"transform/shop.yaml":          string(shop),
		"transform/spread.yaml": "apiVersion: stretch.dev/v1alpha1\nkind: SpreadPolicy\nmetadata:\n  name: spread\n" + fnAnnotation +
			"spec:\n  dataZones: [sto1, sto2]\n  minReplicas: 3\n",
		"generate/kustomization.yaml": "generators: [topology.yaml]\n",
		"generate/topology.yaml":      strings.Replace(string(topo), "metadata:\n  name: demo-eu\n", "metadata:\n  name: demo-eu\n"+fnAnnotation, 1),
		"generate/apps/shop.yaml":     string(shop),
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func(sub string) string {
		t.Helper()
		cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(dir, sub))
		cmd.Dir = filepath.Join(dir, sub)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kustomize build %s: %v\n%s", sub, err, out)
		}
		return string(out)
	}
	out := build("transform")
	for _, want := range []string{"replicas: 3", "nodeTaintsPolicy: Honor", "kind: PodDisruptionBudget\nmetadata:\n  name: storefront-stretch"} {
		if !strings.Contains(out, want) {
			t.Errorf("transformer output lacks %q:\n%s", want, out)
		}
	}
	out = build("generate")
	for _, want := range []string{"kind: CephCluster", "kind: FelixConfiguration", "kind: StorageClass", "name: orders-db-stretch"} {
		if !strings.Contains(out, want) {
			t.Errorf("generator output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"kind: Kustomization", "ansible_host"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("generator output holds %q, which is not a cluster object", unwanted)
		}
	}
}

func TestLintCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "lint", "-f", example, "-o", "json", "../../../testdata/lint")
	if code != ExitFailed {
		t.Fatalf("lint over risky manifests: exit %d\n%s%s", code, out, errOut)
	}
	var report struct {
		APIVersion, Kind string
		Summary          struct{ Files, Objects, Errors, Warnings int }
		Findings         []struct{ ID, Severity, File, Kind, Namespace, Name, Message, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if report.Kind != "LintReport" || report.APIVersion != "stretch.dev/v1alpha1" || report.Summary.Files != 2 || report.Summary.Objects != 6 || report.Summary.Errors != 2 {
		t.Errorf("report: %+v", report)
	}
	errorsByObject := map[string]string{}
	for _, f := range report.Findings {
		if f.Severity == "error" {
			errorsByObject[f.Name] = f.ID
		}
		if f.Namespace == "fine" {
			t.Errorf("a finding on the clean workload: %+v", f)
		}
		if f.Fix == "" || !strings.HasSuffix(f.File, "risky.yaml") {
			t.Errorf("finding without fix or file: %+v", f)
		}
	}
	if errorsByObject["pinned"] != "SPREAD012" || errorsByObject["naive-spread"] != "SPREAD003" {
		t.Errorf("errors: %v", errorsByObject)
	}

	code, out, _ = run(t, "lint", "-f", example, "-o", "junit", "../../../testdata/lint/risky.yaml")
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != ExitFailed || len(suites.Suites) != 1 || suites.Suites[0].Failures != 5 {
		t.Errorf("junit: exit %d, %v, %+v\n%s", code, err, suites, out)
	}

	code, out, _ = run(t, "lint", "-f", example, "../../../testdata/lint/clean.yaml")
	if code != 0 || !strings.HasSuffix(out, "1 file(s), 3 object(s): 0 error(s), 0 warning(s), 0 info\n") {
		t.Errorf("clean: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "lint", "--list")
	if code != 0 || !strings.Contains(out, "SPREAD010") || !strings.Contains(out, "statefulset-single-replica") ||
		!strings.Contains(out, "NAMESPACE001  error     no               namespace-not-created") {
		t.Errorf("--list: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "lint", "-f", example, "-o", "xml", "x"); code != ExitError || !strings.Contains(errOut, "one of table, json, yaml, junit") {
		t.Errorf("bad -o: %d %s", code, errOut)
	}
}

// TestHelm4Plugin installs plugins/helm/stretch into a real Helm 4 (built
// by make testbin) and renders a chart with --post-renderer stretch, the
// topology given once through STRETCH_TOPOLOGY and once through
// --post-renderer-args.
func TestHelm4Plugin(t *testing.T) {
	t.Parallel()
	dir, err := sim.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	helm := filepath.Join(dir, "helm")
	if _, err := os.Stat(helm); err != nil {
		if testing.Short() {
			t.Skip("helm not built (-short)")
		}
		t.Fatalf("%s not found: run make testbin", helm)
	}
	bin := buildBinary(t)
	home := t.TempDir()
	env := append(os.Environ(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"HELM_PLUGINS="+filepath.Join(home, "data", "plugins"),
	)
	h := func(extraEnv []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(helm, args...)
		cmd.Env = append(env, extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	h(nil, "plugin", "install", abs(t, "../../../plugins/helm/stretch"))
	if out := h(nil, "plugin", "list"); !strings.Contains(out, "postrenderer/v1") {
		t.Fatalf("helm plugin list:\n%s", out)
	}
	chart := abs(t, "../../../testdata/workloads/charts/web")
	for name, run := range map[string]func() string{
		"env": func() string {
			return h([]string{TopologyEnv + "=" + abs(t, example)}, "template", "shop", chart, "--post-renderer", "stretch")
		},
		"args": func() string {
			return h(nil, "template", "shop", chart, "--post-renderer", "stretch", "--post-renderer-args=-f", "--post-renderer-args="+abs(t, example))
		},
	} {
		out := run()
		for _, want := range []string{"nodeTaintsPolicy: Honor", "kind: PodDisruptionBudget", "minReplicas: 2"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: helm template output lacks %q:\n%s", name, want, out)
			}
		}
	}
}
