// Package golden compares what a test produced with a golden file. With
// update set (each test package's -update flag) it rewrites the file
// instead, and the change is reviewed as a diff in version control; on a
// mismatch the test fails with a unified diff and the command that
// updates the file.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// Check compares got with the golden file at path, or writes got there
// when update is set. pkg is the package's import path relative to the
// module (./internal/lint), for the hint in the failure.
func Check(t testing.TB, path string, got []byte, update bool, pkg string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test %s -update to create it)", err, pkg)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test %s -update and review the diff):\n%s", path, pkg, Diff(path, want, got))
	}
}

// Diff is the unified diff from want, the golden file at path, to got.
func Diff(path string, want, got []byte) string {
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
		FromFile: path, ToFile: "got", Context: 3,
	})
	if err != nil {
		return err.Error()
	}
	return diff
}
