package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildReleased builds the kubectl-stretch command in the package folder
// pkg (relative to the test's folder) as make build and the release
// archives do, stripped and without cgo, so that a measured peak memory
// counts the same mapped pages; it returns the binary's path.
func BuildReleased(tb testing.TB, pkg string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "kubectl-stretch")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
