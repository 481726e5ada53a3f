package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The shipped binary links no test code: not the testing package (which
// also registers its -test.* flags), not the fault-injecting proxy of the
// live tests.
func TestBinaryLinksNoTestCode(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "github.com/stretch-dev/kubectl-stretch/cmd/kubectl-stretch").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps gave %d packages:\n%s", len(deps), out)
	}
	for _, pkg := range []string{"testing", "github.com/stretch-dev/kubectl-stretch/internal/faultproxy", "net/http/httptest"} {
		if slices.Contains(deps, pkg) {
			t.Errorf("kubectl-stretch links %s", pkg)
		}
	}
}
