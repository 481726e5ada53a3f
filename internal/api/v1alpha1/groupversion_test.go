package v1alpha1

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWrittenOnce checks that the group version and the kind names are
// written in Go only here: any other string literal that is exactly one
// of them, in a non-test file of the module, is reported with its place.
// (Help texts and messages that name them inside a sentence are fine.)
func TestWrittenOnce(t *testing.T) {
	t.Parallel()
	names := map[string]bool{APIVersion: true, Group: true, KindTopology: true, KindSpreadPolicy: true,
		KindLintReport: true, KindVerifyReport: true, KindSimulatedCluster: true,
		KindDNSRecords: true, KindFirewallAllowlist: true, KindDrillReport: true}
	root := filepath.Join("..", "..", "..")
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		seen++
		here := filepath.Base(path) == "groupversion.go" && f.Name.Name == "v1alpha1"
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && names[s] && !here {
				t.Errorf("%s: %q is written again; use internal/api/v1alpha1's constant", fset.Position(lit.Pos()), s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("read only %d Go files from %s; is the module root there?", seen, root)
	}
}
