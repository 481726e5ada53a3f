package topology

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// FuzzDecode checks that no input makes Decode, Default, Validate or
// NewModel panic, and that Decode returns either a File or Errors.
func FuzzDecode(f *testing.F) {
	f.Add(Example())
	seeds := append(corpus(f, "valid"), corpus(f, "invalid")...)
	seeds = append(seeds, "../../testdata/topology.yaml")
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode("fuzz.yaml", data)
		if err != nil {
			var errs Errors
			if file != nil || !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Decode = %v, %T %v; want no File and Errors", file, err, err)
			}
			_ = err.Error()
			return
		}
		if file == nil || file.Topology == nil {
			t.Fatal("Decode returned neither a File nor an error")
		}
		Default(file.Topology)
		if err := file.Validate(); err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Validate = %T %v; want Errors", err, err)
			}
			_ = err.Error()
			return
		}
		NewModel(file.Topology)
	})
}

// FuzzWithChartMirrors checks that no topology file makes WithChartMirrors
// panic, and that what it returns is a valid topology naming exactly the
// mirrors asked for, for every repository it mirrors.
func FuzzWithChartMirrors(f *testing.F) {
	f.Add(Example(), "http://127.0.0.1:4321/charts")
	for _, file := range append(corpus(f, "valid"), "../../testdata/topology.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "oci://registry.example.internal/charts")
	}
	f.Fuzz(func(t *testing.T, data []byte, url string) {
		in, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		var mirrors []v1alpha1.ChartMirror
		for _, name := range HelmRepositoryNames(in.Topology.Spec.Storage.Rook.Version) {
			mirrors = append(mirrors, v1alpha1.ChartMirror{Name: name, URL: url})
		}
		out, err := WithChartMirrors(data, "fuzz.yaml", mirrors)
		if err != nil {
			if CheckChartMirrorURL(url) == nil {
				t.Fatalf("a valid topology and URL refused: %v", err)
			}
			return
		}
		f, err := Parse(out, "out.yaml")
		if err != nil {
			t.Fatalf("the output is no valid topology: %v\n%s", err, out)
		}
		for _, m := range mirrors {
			if !slices.Contains(f.Topology.Spec.GitOps.ChartMirrors, m) {
				t.Fatalf("the output lacks %v:\n%s", m, out)
			}
		}
	})
}
