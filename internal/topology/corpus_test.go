package topology

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/stretch-dev/kubectl-stretch/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the expected .err files of the invalid topology corpus")

const corpusDir = "../../testdata/topologies"

// corpus lists the .yaml files of a corpus folder, sorted.
func corpus(t testing.TB, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, kind, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files in %s", filepath.Join(corpusDir, kind))
	}
	return files
}

func TestLoadBundledExample(t *testing.T) {
	t.Parallel()
	if _, err := Load("../../testdata/topology.yaml"); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestLoadValidCorpus(t *testing.T) {
	t.Parallel()
	for _, file := range corpus(t, "valid") {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			f, err := Load(file)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			if m := NewModel(f.Topology); len(m.Nodes) == 0 {
				t.Fatal("NewModel: no nodes")
			}
		})
	}
}

// TestLoadInvalidCorpus loads every testdata/topologies/invalid/NAME.yaml
// and compares the full error text with NAME.err. Run with -update to
// rewrite the .err files, then review them.
func TestLoadInvalidCorpus(t *testing.T) {
	t.Parallel()
	files := corpus(t, "invalid")
	if len(files) < 25 {
		t.Fatalf("the invalid corpus has %d files, want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			_, err := Load(file)
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load returned %T, want Errors: %v", err, err)
			}
			for _, e := range errs {
				if e.File != file {
					t.Errorf("error %q has File %q, want %q", e.Error(), e.File, file)
				}
			}
			got := strings.ReplaceAll(err.Error(), filepath.Dir(file)+string(filepath.Separator), "") + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			goldenfile.Check(t, golden, []byte(got), *update, "./internal/topology")
		})
	}
}
