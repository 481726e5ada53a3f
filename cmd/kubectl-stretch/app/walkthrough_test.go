//go:build unix

package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// liveWork drives the built binary and the real kubectl against a
// simulated cluster of the example, from a work folder holding a copy of
// the example topology and its apps.
type liveWork struct {
	t                  *testing.T
	exe, kubectl, work string
	env                []string
}

// newLiveWork builds the binary and prepares the work folder; the cluster
// it starts is stopped at the end of the test.
func newLiveWork(t *testing.T) *liveWork {
	binDir := requireTestbin(t)
	l := &liveWork{t: t, kubectl: testenv.Tool(t, "kubectl", kubectlInstall), work: t.TempDir()}
	l.exe = filepath.Join(t.TempDir(), "kubectl-stretch")
	if out, err := exec.Command("go", "build", "-o", l.exe, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	topologyFile, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(l.work, "apps"), os.DirFS(filepath.Join(filepath.Dir(topologyFile), "apps"))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(topologyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.work, "topology.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(l.work, ".stretch-sim")
	l.env = append(os.Environ(), sim.BinDirEnv+"="+binDir, "KUBECONFIG="+filepath.Join(state, "kubeconfig"))
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(state, sim.StateFile)); err == nil {
			l.sh(l.exe, "sim", "down")
		}
	})
	return l
}

// sh runs a command in the work folder and returns its exit code, standard
// output and standard error.
func (l *liveWork) sh(name string, args ...string) (int, string, string) {
	l.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = l.work, l.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	case err != nil:
		l.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return 0, out.String(), errOut.String()
}

// must runs a command that must succeed and returns its standard output.
func (l *liveWork) must(name string, args ...string) string {
	l.t.Helper()
	code, out, errOut := l.sh(name, args...)
	if code != 0 {
		l.t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// verify runs verify and returns its exit code and the IDs of the checks
// that did not pass, by status.
func (l *liveWork) verify() (int, map[string][]string) {
	l.t.Helper()
	code, out, errOut := l.sh(l.exe, "verify", "-f", "topology.yaml", "-o", "json")
	var report struct {
		Results []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		l.t.Fatalf("verify -o json: exit %d, %v\n%s%s", code, err, out, errOut)
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

// verifyUntil polls verify until done accepts its result (the controllers,
// kwok and the simulated operators need a few seconds), for at most
// three minutes, and returns the last result.
func (l *liveWork) verifyUntil(what string, done func(code int, bad map[string][]string) bool) (int, map[string][]string) {
	l.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, bad := l.verify()
		if done(code, bad) {
			return code, bad
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: verify still exits %d: %v", what, code, bad)
		}
		time.Sleep(3 * time.Second)
	}
}

// eventually polls verify until it exits 0.
func (l *liveWork) eventually(what string) {
	l.t.Helper()
	l.verifyUntil(what, func(code int, _ map[string][]string) bool { return code == 0 })
}

// bundleStages are the bundle's folders in the order Flux applies them.
var bundleStages = []string{"access", "network/calico", "storage/rook/operator", "storage/rook/cluster", "workloads", "flux"}

// readmeBlock returns the commands of the README's sh block under heading,
// one a line, comments and blank lines dropped.
func readmeBlock(t *testing.T, heading string) []string {
	t.Helper()
	data := readme(t)
	_, rest, ok := strings.Cut(data, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no heading %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatalf("README.md: no sh block under %q", heading)
	}
	block, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatalf("README.md: the sh block under %q does not end", heading)
	}
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if i := strings.Index(line, "  #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestWalkthrough runs the README's walk-through on a simulated cluster
// word for word, line by line, with the built binary, the real kubectl and
// git: sim up --operators --flux, render --commit into a clone of the
// served repository, push, Flux's own controllers apply every stage,
// verify passes; sim fail sto1 and verify names what broke; sim heal and
// verify passes again; drill's plan, and its execute mode on the
// simulated cluster with every row matching; sim fail, fence, sim heal,
// unfence; sim down. Between the lines it checks what each one should have
// done.
func TestWalkthrough(t *testing.T) {
	l := newLiveWork(t)
	requireFlux(t, requireTestbin(t))
	testenv.Tool(t, "git", "the Debian package git")
	lines := readmeBlock(t, "### Rehearse it on a simulated cluster")
	for _, want := range []string{
		"kubectl stretch sim up -f topology.yaml --operators --flux --mirrored-topology sim.yaml",
		"kubectl stretch render -f sim.yaml -o repo --commit",
		"git -C repo push origin HEAD:main",
		"kubectl stretch sim fail sto1",
	} {
		if !slices.Contains(lines, want) {
			t.Fatalf("the README's walk-through has no line %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	// The built binary is kubectl-stretch on PATH, as make build and the
	// README's export PATH make it; the work folder is a copy of testdata.
	l.env = append(l.env, "PATH="+filepath.Dir(l.exe)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GIT_AUTHOR_NAME=Walk through", "GIT_AUTHOR_EMAIL=walk@example.com",
		"GIT_COMMITTER_NAME=Walk through", "GIT_COMMITTER_EMAIL=walk@example.com")
	var f *fluxWork
	failed := false
	for _, line := range lines {
		t.Logf("$ %s", line)
		switch {
		case line == "make build testbin && export PATH=$PWD/bin:$PATH":
			// Done by newLiveWork and the PATH above.
		case line == "cd testdata":
			// The work folder is a copy of testdata's topology and apps.
		case line == "export KUBECONFIG=$PWD/.stretch-sim/kubeconfig":
			// newLiveWork set it.
		case line == "kubectl stretch verify -f topology.yaml" && failed:
			code, bad := l.verify()
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
			l.sh("bash", "-c", line)
		case line == "kubectl stretch verify -f topology.yaml":
			l.eventually("before: " + line)
			out := l.must("bash", "-c", line)
			if !regexp.MustCompile(`\d+ checks: \d+ passed, 0 failed, \d+ warnings, 0 errors, \d+ skipped \(\d+ API requests\)`).MatchString(out) {
				t.Errorf("verify table footer:\n%s", out)
			}
		case line == "kubectl stretch drill -f topology.yaml --lose sto1":
			// The plan: storefront recovers after the README's time,
			// orders-db hangs until sto1 is fenced, so exit 1.
			code, out, errOut := l.sh("bash", "-c", line)
			if code != ExitFailed || !regexp.MustCompile(`StatefulSet\s+shop\s+orders-db\s+1\s+hangs \(FAIL\)`).MatchString(out) {
				t.Errorf("%s: exit %d, want 1 with orders-db hanging\n%s%s", line, code, out, errOut)
			}
			if storefront := fmt.Sprintf(`Deployment\s+shop\s+storefront\s+1\s+recovers\s+yes\s+%ds\s`, planRecoverySeconds); !regexp.MustCompile(storefront).MatchString(out) {
				t.Errorf("%s: no row %s\n%s", line, storefront, out)
			}
		case strings.Contains(line, " --execute "):
			start := time.Now()
			out := l.must("bash", "-c", line)
			t.Logf("drill --execute --via sim in %s:\n%s", time.Since(start).Round(time.Second), out)
			for _, row := range []string{`Deployment\s+shop\s+storefront\s+1\s+recovers \d+s\s+recovers \d+s\s+yes`, `StatefulSet\s+shop\s+orders-db\s+1\s+recovers \d+s\s+recovers \d+s\s+yes`} {
				if !regexp.MustCompile(row).MatchString(out) {
					t.Errorf("drill --execute: no row %s", row)
				}
			}
			if !strings.Contains(out, "platform observed: etcd quorum yes, API server yes, Ceph mon quorum yes") || !strings.Contains(out, ", restored;") {
				t.Errorf("drill --execute: want every quorum observed and the cluster restored")
			}
		default:
			l.must("bash", "-c", line)
		}
		switch {
		case strings.HasPrefix(line, "kubectl stretch sim up "):
			f = fluxOf(t, l)
		case line == "git -C repo push origin HEAD:main":
			rev := strings.TrimSpace(l.must("git", "-C", "repo", "rev-parse", "HEAD"))
			f.waitFluxReady("after the push", rev, []string{"flux-system", "stretch-access", "stretch-network",
				"stretch-storage-operator", "stretch-storage", "stretch-workloads"})
			// The example's StatefulSet got its volume: the simulated Ceph
			// CSI provisioned it in the pool replicapool.
			l.eventually("after Flux applied the bundle")
			phases := strings.Fields(l.must(l.kubectl, "get", "pvc", "-n", "shop", "-o", "jsonpath={.items[*].status.phase}"))
			if len(phases) == 0 || slices.ContainsFunc(phases, func(p string) bool { return p != "Bound" }) {
				t.Errorf("the example's claims in shop: %q, want every one Bound", phases)
			}
		case line == "kubectl stretch sim fail sto1":
			failed = true
		case line == "kubectl stretch sim heal sto1":
			failed = false
		}
	}
	if _, err := os.Stat(filepath.Join(l.work, sim.DefaultStateDir, sim.StateFile)); err == nil {
		t.Errorf("the walk-through ends with the simulated cluster still running")
	}
}
