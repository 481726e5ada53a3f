// Package testenv holds what tests share about their environment: the
// system tools they run and a scratch copy of the example topology. Under
// `make test` (which sets STRETCH_REQUIRE_TOOLS=1 after .ci/require-tools
// has installed them) a missing tool fails the test; under plain `go test`
// and `make test-short` the test is skipped with the reason. Only tests
// import it.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that makes a missing tool a
// failure rather than a skip.
const RequireEnv = "STRETCH_REQUIRE_TOOLS"

// Required reports whether missing tools fail tests (make test).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Tool returns the path of the named tool on PATH. When it is missing it
// fails the test under make test and skips it otherwise, naming the tool
// and how to install it (install, such as "the Debian package
// ansible-core").
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Required() {
		t.Fatalf("%s not found on PATH (%s=1): install %s", name, RequireEnv, install)
		return ""
	}
	t.Skipf("%s not found on PATH: install %s (make test requires it)", name, install)
	return ""
}
