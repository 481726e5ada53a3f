package spread

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	goldenfile "github.com/stretch-dev/kubectl-stretch/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/spread")

// casesDir holds one folder per case: input.yaml, expected.yaml,
// findings.txt (the findings' messages), lint.txt (the findings' problems
// in lint mode) and an optional policy.yaml that overrides testPolicy.
const casesDir = "../../testdata/spread"

// testPolicy is the policy of the golden cases: the data regions sto1 and
// sto2 of testdata/topology.yaml, and one zone-bound StorageClass.
func testPolicy() Policy {
	return Policy{
		ZoneKey:                 "topology.kubernetes.io/zone",
		DataZones:               []string{"sto1", "sto2"},
		ArbiterTaintKey:         "stretch.dev/arbiter",
		MinReplicas:             2,
		SkipAnnotation:          AnnotationSkip,
		ZoneBoundStorageClasses: []string{"zonal-ssd"},
	}
}

// casePolicy is a case's policy.yaml: the fields it overrides.
type casePolicy struct {
	MinReplicas             *int     `yaml:"minReplicas"`
	DataZones               []string `yaml:"dataZones"`
	ZoneBoundStorageClasses []string `yaml:"zoneBoundStorageClasses"`
	EvictionSeconds         *int     `yaml:"evictionSeconds"`
}

// loadCase returns a case's policy and input.
func loadCase(t *testing.T, dir string) (Policy, []byte) {
	t.Helper()
	in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return loadPolicy(t, dir), in
}

// loadPolicy returns the test policy with a case's policy.yaml applied.
func loadPolicy(t *testing.T, dir string) Policy {
	t.Helper()
	p := testPolicy()
	data, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if os.IsNotExist(err) {
		return p
	}
	if err != nil {
		t.Fatal(err)
	}
	var cp casePolicy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cp); err != nil {
		t.Fatalf("%s/policy.yaml: %v", dir, err)
	}
	if cp.MinReplicas != nil {
		p.MinReplicas = *cp.MinReplicas
	}
	if cp.DataZones != nil {
		p.DataZones = cp.DataZones
	}
	if cp.ZoneBoundStorageClasses != nil {
		p.ZoneBoundStorageClasses = cp.ZoneBoundStorageClasses
	}
	if cp.EvictionSeconds != nil {
		p.EvictionSeconds = cp.EvictionSeconds
	}
	return p
}

// formatFindings writes one line per finding with its message, as
// findings.txt holds them.
func formatFindings(fs []Finding) string {
	return formatLines(fs, func(f Finding) string { return f.Message })
}

// formatProblems writes one line per finding with its problem, as lint.txt
// holds them.
func formatProblems(fs []Finding) string {
	return formatLines(fs, func(f Finding) string { return f.Problem })
}

func formatLines(fs []Finding, text func(Finding) string) string {
	var b strings.Builder
	for _, f := range fs {
		state := "found"
		if f.Changed {
			state = "changed"
		}
		name := f.Name
		if f.Namespace != "" {
			name = f.Namespace + "/" + f.Name
		}
		fmt.Fprintf(&b, "%s %s %s %s %s: %s\n", f.ID, f.Severity, state, f.Kind, name, text(f))
	}
	return b.String()
}

// checkFindings checks every finding against its rule: the rule's
// severity and fix, a problem and a message, and a change only for a
// Fixable rule.
func checkFindings(t *testing.T, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		r := ruleByID(t, f.ID)
		switch {
		case f.Severity != r.Severity || f.Fix != r.Fix:
			t.Errorf("finding %+v does not match its rule %+v", f, r)
		case f.Changed && !r.Fixable:
			t.Errorf("finding %+v is a change, but its rule %s is not fixable", f, r.ID)
		case f.Problem == "" || f.Message == "":
			t.Errorf("finding %+v has no problem or no message", f)
		}
	}
}

// unchanged returns the findings that are not changes.
func unchanged(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !f.Changed {
			out = append(out, f)
		}
	}
	return out
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got, *update, "./internal/spread")
}

func caseDirs(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(casesDir, e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no cases under " + casesDir)
	}
	return dirs
}

// TestPatchStreamGolden patches every case's input.yaml and compares the
// output and the findings with the golden files. It then patches the
// output again: the bytes must not change, no finding may be a change, and
// the risks must be the same.
func TestPatchStreamGolden(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p, in := loadCase(t, dir)
			out, res, err := PatchStream(in, p)
			if err != nil {
				t.Fatalf("PatchStream: %v", err)
			}
			golden(t, filepath.Join(dir, "expected.yaml"), out)
			golden(t, filepath.Join(dir, "findings.txt"), []byte(formatFindings(res.Findings)))
			checkFindings(t, res.Findings)

			again, res2, err := PatchStream(out, p)
			if err != nil {
				t.Fatalf("patching the output again: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("patching the output again changed it:\n%s", again)
			}
			if got, want := formatFindings(res2.Findings), formatFindings(unchanged(res.Findings)); got != want {
				t.Errorf("patching the output again found\n%s\nwant the risks of the first run only\n%s", got, want)
			}
			if len(res2.Added) != 0 {
				t.Errorf("patching the output again added %d objects", len(res2.Added))
			}
		})
	}
}

// TestLintGolden compares the findings' problems, what lint shows, with
// lint.txt; linting the patched output must report exactly the findings
// that were not fixed.
func TestLintGolden(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p, in := loadCase(t, dir)
			out, res, err := PatchStream(in, p)
			if err != nil {
				t.Fatalf("PatchStream: %v", err)
			}
			golden(t, filepath.Join(dir, "lint.txt"), []byte(formatProblems(res.Findings)))
			_, again, err := PatchStream(out, p)
			if err != nil {
				t.Fatalf("linting the patched output: %v", err)
			}
			if got, want := formatProblems(again.Findings), formatProblems(unchanged(res.Findings)); got != want {
				t.Errorf("linting the patched output found\n%s\nwant the unfixed findings of the input\n%s", got, want)
			}
		})
	}
}

// TestPatchRNodes runs every case through Patch on nodes read by kyaml's
// kio.ByteReader, as the KRM function does, and by Read, as render and
// lint do, and expects the findings and the objects of PatchStream.
func TestPatchRNodes(t *testing.T) {
	readers := []struct {
		name string
		read func([]byte) ([]*kyaml.RNode, error)
	}{
		{"kio", func(in []byte) ([]*kyaml.RNode, error) {
			return (&kio.ByteReader{Reader: bytes.NewReader(in), OmitReaderAnnotations: true}).Read()
		}},
		{"Read", Read},
	}
	for _, dir := range caseDirs(t) {
		for _, reader := range readers {
			t.Run(filepath.Base(dir)+"/"+reader.name, func(t *testing.T) {
				t.Parallel()
				patchRNodes(t, dir, reader.read)
			})
		}
	}
}

// patchRNodes is one case of TestPatchRNodes.
func patchRNodes(t *testing.T, dir string, read func([]byte) ([]*kyaml.RNode, error)) {
	p, in := loadCase(t, dir)
	_, want, err := PatchStream(in, p)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := read(in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Patch(nodes, p)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if got, want := formatFindings(res.Findings), formatFindings(want.Findings); got != want {
		t.Errorf("Patch found\n%s\nPatchStream found\n%s", got, want)
	}
	var got []byte
	for _, n := range append(nodes, res.Added...) {
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		got = append(append(got, "---\n"...), s...)
	}
	// Compare objects, not bytes: kio splits documents itself, so
	// comments between documents may attach differently.
	expected, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := canonical(t, got), canonical(t, expected); g != w {
		t.Errorf("Patch gave\n%s\nwant\n%s", g, w)
	}
}

// canonical re-encodes the objects of a stream without comments.
func canonical(t *testing.T, data []byte) string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, n := range nodes {
		var v any
		if err := n.YNode().Decode(&v); err != nil {
			t.Fatal(err)
		}
		s, err := kyaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(s)
	}
	return b.String()
}

func ruleByID(t *testing.T, id string) Rule {
	t.Helper()
	i := slices.IndexFunc(Rules(), func(r Rule) bool { return r.ID == id })
	if i < 0 {
		t.Fatalf("no rule %s", id)
	}
	return Rules()[i]
}
