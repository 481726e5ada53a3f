package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepoWithExample creates a Git work tree holding the bundled example's
// topology and workloads, with spec.gitops.path set to gitopsPath (left
// unset when empty), and returns its folder.
func gitRepoWithExample(t *testing.T, gitopsPath string) string {
	t.Helper()
	repo := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	gitIn(t, repo, "init", "-q", "-b", "main")
	gitIn(t, repo, "config", "user.name", "Test")
	gitIn(t, repo, "config", "user.email", "test@example.invalid")
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	if gitopsPath != "" {
		set := "\n  gitops:\n    path: " + gitopsPath + "\n  workloads:"
		if !strings.Contains(string(data), "\n  workloads:") {
			t.Fatal("the example has no spec.workloads to put spec.gitops before")
		}
		data = []byte(strings.Replace(string(data), "\n  workloads:", set, 1))
	}
	if err := os.WriteFile(filepath.Join(repo, "topology.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(repo, "apps"), os.DirFS(filepath.Join(filepath.Dir(example), "apps"))); err != nil {
		t.Fatal(err)
	}
	return repo
}

// gitIn runs git in dir and returns its standard output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// fluxPath returns the path the bundle's access stage Kustomization in dir
// applies.
func fluxPath(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "flux", "access.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "  path: "); ok {
			return p
		}
	}
	t.Fatalf("flux/access.yaml has no spec.path:\n%s", data)
	return ""
}

// TestRenderGitOpsPathUnset: a topology without spec.gitops.path rendered
// into a Git work tree gets the folder's path from the repository's root,
// and render says so; out of Git it keeps the default ".".
func TestRenderGitOpsPathUnset(t *testing.T) {
	repo := gitRepoWithExample(t, "")
	topo := filepath.Join(repo, "topology.yaml")
	dir := filepath.Join(repo, "clusters", "prod")
	code, out, errOut := run(t, "render", "-f", topo, "-o", dir)
	if code != 0 {
		t.Fatalf("render: exit %d\n%s%s", code, out, errOut)
	}
	want := topo + ": spec.gitops.path is not set: using clusters/prod, the path of " + dir + " in the Git repository " + repo
	if !strings.Contains(errOut, want) {
		t.Errorf("render did not say where the path comes from; want %q in:\n%s", want, errOut)
	}
	if got := fluxPath(t, dir); got != "./clusters/prod/access" {
		t.Errorf("the access stage applies %s, want ./clusters/prod/access", got)
	}
	// --check renders the same bundle: up to date.
	if code, out, errOut := run(t, "render", "-f", topo, "-o", dir, "--check"); code != 0 {
		t.Errorf("render --check: exit %d\n%s%s", code, out, errOut)
	}

	// From a subfolder, with a relative output folder.
	t.Chdir(filepath.Join(repo, "clusters"))
	if code, out, errOut := run(t, "render", "-f", topo, "-o", "edge", "--commit"); code != 0 || !strings.Contains(errOut, "using clusters/edge,") {
		t.Fatalf("render -o edge --commit from clusters/: exit %d\n%s%s", code, out, errOut)
	}
	if got := fluxPath(t, filepath.Join(repo, "clusters", "edge")); got != "./clusters/edge/access" {
		t.Errorf("the access stage applies %s, want ./clusters/edge/access", got)
	}
	if files := gitIn(t, repo, "show", "--name-only", "--format=", "HEAD"); !strings.Contains(files, "clusters/edge/flux/access.yaml\n") {
		t.Errorf("committed:\n%s", files)
	}

	// Out of Git, the default stands and nothing is said.
	out2 := filepath.Join(t.TempDir(), "out")
	code, _, errOut = run(t, "render", "-f", topo, "-o", out2)
	if code != 0 || strings.Contains(errOut, "spec.gitops.path") {
		t.Fatalf("render out of Git: exit %d\n%s", code, errOut)
	}
	if got := fluxPath(t, out2); got != "./access" {
		t.Errorf("out of Git the access stage applies %s, want ./access", got)
	}
}

// TestRenderGitOpsPathMismatch: a topology whose spec.gitops.path is not
// the output folder's path in its Git work tree is refused before
// anything is written, naming the field's place and both paths; the
// matching folder renders and commits.
func TestRenderGitOpsPathMismatch(t *testing.T) {
	repo := gitRepoWithExample(t, "clusters/prod")
	topo := filepath.Join(repo, "topology.yaml")
	wrong := filepath.Join(repo, "clusters", "staging")
	for _, extra := range [][]string{{}, {"--check"}, {"--commit"}} {
		args := append([]string{"render", "-f", topo, "-o", wrong}, extra...)
		code, out, errOut := run(t, args...)
		want := topo + ":48:11: spec.gitops.path: is clusters/prod, but the output folder (-o " + wrong + ") is clusters/staging from the root of its Git repository " + repo +
			": Flux would look for the stages in the wrong folder; set spec.gitops.path: clusters/staging, or render into the repository's folder clusters/prod\n" +
			topo + ": 1 error(s); nothing was written\n"
		if code != ExitFailed || out != "" || !strings.HasSuffix(errOut, want) {
			t.Errorf("render %v: exit %d\nout %q\nerr %s\nwant the error\n%s", extra, code, out, errOut, want)
		}
		if _, err := os.Stat(filepath.Join(repo, "clusters")); !os.IsNotExist(err) {
			t.Errorf("render %v refused but created clusters/", extra)
		}
	}
	if log := gitIn(t, repo, "log", "--all", "--oneline"); log != "" {
		t.Errorf("a refused render committed:\n%s", log)
	}

	right := filepath.Join(repo, "clusters", "prod")
	code, out, errOut := run(t, "render", "-f", topo, "-o", right, "--commit")
	if code != 0 || strings.Contains(errOut, "spec.gitops.path") || !strings.HasSuffix(out, "committed: stretch: render demo-eu\n") {
		t.Fatalf("render into the topology's folder: exit %d\n%s%s", code, out, errOut)
	}
	if got := fluxPath(t, right); got != "./clusters/prod/access" {
		t.Errorf("the access stage applies %s, want ./clusters/prod/access", got)
	}

	// A folder Git ignores is not meant for Flux: it renders with the
	// topology's path, as out of Git; --commit there is still refused.
	if err := os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("/out/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ignored := filepath.Join(repo, "out")
	if code, out, errOut := run(t, "render", "-f", topo, "-o", ignored); code != 0 {
		t.Fatalf("render into an ignored folder: exit %d\n%s%s", code, out, errOut)
	}
	if got := fluxPath(t, ignored); got != "./clusters/prod/access" {
		t.Errorf("in an ignored folder the access stage applies %s, want the topology's ./clusters/prod/access", got)
	}
	if code, _, errOut := run(t, "render", "-f", topo, "-o", ignored, "--commit"); code != ExitFailed || !strings.Contains(errOut, "spec.gitops.path: is clusters/prod, but the output folder (-o "+ignored+") is out from the root") {
		t.Errorf("render --commit into an ignored folder: exit %d\n%s", code, errOut)
	}
}

// TestRenderCommitOutsideGit: --commit into a folder no Git work tree
// contains is refused before anything is written.
func TestRenderCommitOutsideGit(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	dir := filepath.Join(t.TempDir(), "clusters", "prod")
	code, out, errOut := run(t, "render", "-f", example, "-o", dir, "--commit")
	want := "render --commit: " + dir + " is not in a Git work tree"
	if code != ExitError || out != "" || !strings.Contains(errOut, want) {
		t.Errorf("render --commit out of Git: exit %d\nout %q\nerr %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Errorf("a refused render --commit created %s", filepath.Dir(dir))
	}
}
