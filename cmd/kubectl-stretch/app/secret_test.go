package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

const plainSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: aHVudGVyMg==\n"

// TestPlainSecretReported checks that render, post-render, fn and lint
// all report a plain Secret as the error-level risk SPREAD021 at its file
// or line, and that render still writes it (docs/SPREAD.md says why).
func TestPlainSecretReported(t *testing.T) {
	t.Setenv(TopologyEnv, "")
	work := t.TempDir()
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(work, "topology.yaml")
	for path, content := range map[string][]byte{
		topo:                                     data,
		filepath.Join(work, "apps", "shop.yaml"): topology.ExampleWorkloads(),
		filepath.Join(work, "apps", "db.yaml"):   []byte("# the database password\n" + plainSecret),
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const risk = "SPREAD021 error   Secret/shop/db"
	const what = ": is a plain Secret: its values are only base64-encoded, and the bundle is meant to be committed to Git\n"

	out := filepath.Join(work, "out")
	code, _, stderr := run(t, "render", "-f", topo, "-o", out)
	if want := risk + " (" + filepath.Join(work, "apps", "db.yaml") + ":2)" + what; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("render: exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "workloads", "apps", "secret_shop_db.yaml")); err != nil {
		t.Errorf("render did not write the Secret: %v", err)
	}

	code, _, errOut := runStdin(plainSecret, "post-render", "-f", topo)
	if want := risk + " (line 1)" + what; code != 0 || !strings.Contains(errOut, want) {
		t.Errorf("post-render: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}

	code, stdout, errOut := runStdin(spreadPolicyList(plainSecret), "fn")
	if code != 0 || !strings.Contains(stdout, "SPREAD021: is a plain Secret") {
		t.Errorf("fn: exit %d, no SPREAD021 result:\n%s\n%s", code, stdout, errOut)
	}

	// The folder, with the Namespace shop.yaml creates (NAMESPACE001).
	code, lintOut, _ := run(t, "lint", "-f", topo, filepath.Join(work, "apps"))
	if code != ExitFailed || !strings.Contains(lintOut, "SPREAD021  error") || !strings.Contains(lintOut, "db.yaml:2") {
		t.Errorf("lint: exit %d:\n%s", code, lintOut)
	}
}
