//go:build unix

package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// TestWalkthrough follows the README's walk-through from topology to a
// verified cluster, with the built binary and the real kubectl: sim up
// --operators, render, kubectl apply of every stage, verify passes; sim
// fail sto1 and verify names what broke; sim heal and verify passes again;
// sim down.
func TestWalkthrough(t *testing.T) {
	binDir := requireTestbin(t)
	kubectl := testenv.Tool(t, "kubectl", kubectlInstall)
	exe := filepath.Join(t.TempDir(), "kubectl-stretch")
	if out, err := exec.Command("go", "build", "-o", exe, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	topologyFile, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(work, "apps"), os.DirFS(filepath.Join(filepath.Dir(topologyFile), "apps"))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(topologyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "topology.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(work, ".stretch-sim")
	env := append(os.Environ(), sim.BinDirEnv+"="+binDir, "KUBECONFIG="+filepath.Join(state, "kubeconfig"))
	sh := func(name string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = work, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return exit.ExitCode(), out.String(), errOut.String()
		case err != nil:
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		return 0, out.String(), errOut.String()
	}
	must := func(name string, args ...string) string {
		t.Helper()
		code, out, errOut := sh(name, args...)
		if code != 0 {
			t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(state, sim.StateFile)); err == nil {
			sh(exe, "sim", "down")
		}
	})
	// verify returns the IDs of the checks that did not pass, by status.
	verify := func() (int, map[string][]string) {
		t.Helper()
		code, out, errOut := sh(exe, "verify", "-f", "topology.yaml", "-o", "json")
		var report struct {
			Results []struct{ ID, Status string }
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatalf("verify -o json: exit %d, %v\n%s%s", code, err, out, errOut)
		}
		bad := map[string][]string{}
		for _, r := range report.Results {
			if r.Status != "pass" && r.Status != "skip" && !slices.Contains(bad[r.Status], r.ID) {
				bad[r.Status] = append(bad[r.Status], r.ID)
			}
		}
		for _, ids := range bad {
			sort.Strings(ids)
		}
		return code, bad
	}
	// eventually polls verify until it exits 0 (the controllers, kwok and
	// the simulated operators need a few seconds).
	eventually := func(what string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			code, bad := verify()
			if code == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: verify still exits %d: %v", what, code, bad)
			}
			time.Sleep(3 * time.Second)
		}
	}

	// 1. A simulated cluster of the topology, with the simulated operators.
	must(exe, "sim", "up", "-f", "topology.yaml", "--operators")
	// 2. The bundle.
	must(exe, "render", "-f", "topology.yaml", "-o", "out")
	// 3. Apply it as Flux would, stage by stage.
	must(kubectl, "create", "namespace", "flux-system")
	for _, dir := range []string{"access", "network/calico", "storage/rook/operator", "storage/rook/cluster", "workloads", "flux"} {
		must(kubectl, "apply", "--server-side", "-k", filepath.Join("out", dir))
	}
	// 4. verify passes once the pods run.
	eventually("after apply")
	out := must(exe, "verify", "-f", "topology.yaml")
	if !regexp.MustCompile(`\d+ checks: \d+ passed, 0 failed, \d+ warnings, 0 errors, \d+ skipped \(\d+ API requests\)`).MatchString(out) {
		t.Errorf("verify table footer:\n%s", out)
	}

	// 5. Lose a region: verify names what broke.
	must(exe, "sim", "fail", "sto1")
	code, bad := verify()
	if code != ExitFailed {
		t.Fatalf("verify after sim fail sto1: exit %d, %v", code, bad)
	}
	for _, id := range []string{"NODE007", "STOR008"} {
		if !slices.Contains(bad["fail"], id) {
			t.Errorf("verify after sim fail sto1: %s did not fail (failed: %v)", id, bad["fail"])
		}
	}
	allowed := []string{"NODE007", "CP001", "CP002", "CP003", "STOR008", "WORK004", "CAP001", "CAP002"}
	for _, id := range bad["fail"] {
		if !slices.Contains(allowed, id) {
			t.Errorf("verify after sim fail sto1: %s failed, which a region loss should not break (failed: %v)", id, bad["fail"])
		}
	}
	if len(bad["error"]) > 0 {
		t.Errorf("verify after sim fail sto1: checks could not run: %v", bad["error"])
	}

	// 6. Heal it: verify passes again.
	must(exe, "sim", "heal", "sto1")
	eventually("after sim heal sto1")
	must(exe, "sim", "down")
}
