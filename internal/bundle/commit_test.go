package bundle

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  *Result
		want string
	}{
		{
			name: "layers with changes, sorted",
			res: &Result{Layers: []LayerSummary{
				{Layer: "storage", Added: 2, Changed: 1},
				{Layer: "flux", Unchanged: 3},
				{Layer: "network", Removed: 1, Kept: 1},
				{Layer: "dns", Adopted: 1, Unchanged: 1},
			}},
			want: "stretch: render demo-eu\n\nnetwork: 0 added, 0 changed, 1 removed\nstorage: 2 added, 1 changed, 0 removed",
		},
		{
			name: "no result",
			want: "stretch: render demo-eu",
		},
		{
			name: "no changes",
			res:  &Result{Layers: []LayerSummary{{Layer: "flux", Unchanged: 3}}},
			want: "stretch: render demo-eu",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			diffStrings(t, "message", CommitMessage("stretch: render demo-eu", tt.res), tt.want)
		})
	}
}

// gitEnv isolates the git processes of the tests from the machine's
// configuration.
func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"LANG=C",
		"LC_ALL=C",
	}
}

// runGitT runs git in dir and returns its output, failing the test on
// error.
func runGitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = gitEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newRepo creates a Git repository with a local identity and one commit
// holding a README.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runGitT(t, dir, "init", "-q", "-b", "main")
	runGitT(t, dir, "config", "user.name", "Test User")
	runGitT(t, dir, "config", "user.email", "test@example.com")
	runGitT(t, dir, "config", "commit.gpgsign", "false")
	runGitT(t, dir, "config", "core.hooksPath", ".git/hooks")
	writeFiles(t, dir, map[string]string{"README.md": "# infra\n"})
	runGitT(t, dir, "add", "README.md")
	runGitT(t, dir, "commit", "-q", "-m", "initial")
	return dir
}

// head returns the commit id of HEAD.
func head(t *testing.T, repo string) string {
	t.Helper()
	return strings.TrimSpace(runGitT(t, repo, "rev-parse", "HEAD"))
}

func TestCommit(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"", "deploy/prod"} {
		name := "top level"
		if sub != "" {
			name = "subdirectory " + sub
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			dir := filepath.Join(repo, filepath.FromSlash(sub))
			p := ""
			if sub != "" {
				p = sub + "/"
			}
			// The user's own work: a modified tracked file and an
			// untracked file right next to the bundle.
			writeFiles(t, repo, map[string]string{"README.md": "# infra, edited\n"})
			writeFiles(t, dir, map[string]string{"storage/notes.txt": "untracked\n"})

			res := mustWrite(t, dir, mustNew(t,
				file("storage/cluster.yaml", "storage", "c1\n"),
				file("storage/pool.yaml", "storage", "p1\n"),
				file("flux/ks.yaml", "flux", "ks1\n"),
			))
			if err := Commit(dir, res, "stretch: render demo-eu", CommitOptions{}); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			diffStrings(t, "committed files", runGitT(t, repo, "show", "--name-status", "--format=", "HEAD"),
				"A\t"+p+".stretch/manifest\nA\t"+p+"flux/ks.yaml\nA\t"+p+"storage/cluster.yaml\nA\t"+p+"storage/pool.yaml\n")
			diffStrings(t, "message", runGitT(t, repo, "log", "-1", "--format=%B"),
				"stretch: render demo-eu\n\nflux: 1 added, 0 changed, 0 removed\nstorage: 2 added, 0 changed, 0 removed\n\n")
			diffStrings(t, "author", runGitT(t, repo, "log", "-1", "--format=%an <%ae>"), "Test User <test@example.com>\n")
			diffStrings(t, "status", runGitT(t, repo, "status", "--porcelain"), " M README.md\n?? "+p+"storage/notes.txt\n")

			// The second render changes one file and drops another.
			res = mustWrite(t, dir, mustNew(t,
				file("storage/cluster.yaml", "storage", "c2\n"),
				file("flux/ks.yaml", "flux", "ks1\n"),
			))
			if err := Commit(dir, res, "stretch: render demo-eu", CommitOptions{}); err != nil {
				t.Fatalf("second Commit: %v", err)
			}
			diffStrings(t, "committed files", runGitT(t, repo, "show", "--name-status", "--format=", "HEAD"),
				"M\t"+p+".stretch/manifest\nM\t"+p+"storage/cluster.yaml\nD\t"+p+"storage/pool.yaml\n")
			diffStrings(t, "message", runGitT(t, repo, "log", "-1", "--format=%B"),
				"stretch: render demo-eu\n\nstorage: 0 added, 1 changed, 1 removed\n\n")
			diffStrings(t, "status", runGitT(t, repo, "status", "--porcelain"), " M README.md\n?? "+p+"storage/notes.txt\n")

			// Nothing changed: no commit.
			before := head(t, repo)
			res = mustWrite(t, dir, mustNew(t,
				file("storage/cluster.yaml", "storage", "c2\n"),
				file("flux/ks.yaml", "flux", "ks1\n"),
			))
			err := Commit(dir, res, "stretch: render demo-eu", CommitOptions{})
			if !errors.Is(err, ErrNothingToCommit) {
				t.Fatalf("third Commit: %v, want ErrNothingToCommit", err)
			}
			if want := "commit bundle in " + dir + ": nothing to commit: the rendered bundle did not change"; err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			if got := head(t, repo); got != before {
				t.Errorf("HEAD moved from %s to %s", before, got)
			}
			diffStrings(t, "status", runGitT(t, repo, "status", "--porcelain"), " M README.md\n?? "+p+"storage/notes.txt\n")
		})
	}
}

func TestCommitAdoptedAndUntrackedFiles(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	// An untracked file with the rendered content is adopted, so it is
	// owned and committed; a path render never writes stays out.
	writeFiles(t, repo, map[string]string{"flux/ks.yaml": "ks\n", "flux/mine.yaml": "mine\n"})
	res := mustWrite(t, repo, mustNew(t, file("flux/ks.yaml", "flux", "ks\n")))
	if err := Commit(repo, res, "render", CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	diffStrings(t, "committed files", runGitT(t, repo, "show", "--name-status", "--format=", "HEAD"),
		"A\t.stretch/manifest\nA\tflux/ks.yaml\n")
	diffStrings(t, "status", runGitT(t, repo, "status", "--porcelain"), "?? flux/mine.yaml\n")
}

func TestCommitRefusesStagedChanges(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	writeFiles(t, repo, map[string]string{"README.md": "# staged by the user\n"})
	runGitT(t, repo, "add", "README.md")
	before := head(t, repo)

	res := mustWrite(t, repo, mustNew(t, file("a.yaml", "l", "a\n")))
	err := Commit(repo, res, "render", CommitOptions{})
	want := "commit bundle in " + repo + ": the git index already holds staged changes; commit or unstage them first (git restore --staged .)"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	if got := head(t, repo); got != before {
		t.Errorf("HEAD moved from %s to %s", before, got)
	}
	// The index holds the user's change and nothing else.
	diffStrings(t, "status", runGitT(t, repo, "status", "--porcelain"), "M  README.md\n?? .stretch/\n?? a.yaml\n")
}

func TestCommitNotInWorkTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	res := mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n")))
	// GIT_CEILING_DIRECTORIES keeps git from finding a repository above
	// the temporary directory.
	env := append(gitEnv(root), "GIT_CEILING_DIRECTORIES="+root)
	err := commit(dir, res, "render", CommitOptions{}, env)
	want := "commit bundle in " + dir + ": not in a git work tree: git rev-parse: exit status 128: " +
		"fatal: not a git repository (or any of the parent directories): .git"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestCommitFailureUnstages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, repo string)
		wantErr string
	}{
		{
			name: "pre-commit hook fails",
			setup: func(t *testing.T, repo string) {
				hook := filepath.Join(repo, ".git", "hooks", "pre-commit")
				if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(hook, []byte("#!/bin/sh\necho rejected by hook >&2\nexit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "git commit: exit status 1: rejected by hook",
		},
		{
			name: "rendered file is ignored by git",
			setup: func(t *testing.T, repo string) {
				writeFiles(t, repo, map[string]string{".git/info/exclude": "*.secret\n"})
			},
			wantErr: "git add: exit status 1: The following paths are ignored by one of your .gitignore files:\n" +
				"b.secret\n" +
				"hint: Use -f if you really want to add them.\n" +
				"hint: Turn this message off by running\n" +
				"hint: \"git config advice.addIgnoredFile false\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			tt.setup(t, repo)
			before := head(t, repo)
			res := mustWrite(t, repo, mustNew(t, file("a.yaml", "l", "a\n"), file("b.secret", "l", "b\n")))
			err := commit(repo, res, "render", CommitOptions{}, gitEnv(repo))
			want := "commit bundle in " + repo + ": " + tt.wantErr
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n got %v\nwant %s", err, want)
			}
			if got := head(t, repo); got != before {
				t.Errorf("HEAD moved from %s to %s", before, got)
			}
			// Nothing is left staged.
			diffStrings(t, "staged", runGitT(t, repo, "diff", "--cached", "--name-status"), "")
		})
	}
}

func TestCommitWithoutIdentity(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	runGitT(t, repo, "init", "-q", "-b", "main")
	runGitT(t, repo, "config", "commit.gpgsign", "false")
	env := gitEnv(repo) // no identity anywhere: HOME is the repository
	res := mustWrite(t, repo, mustNew(t, file("a.yaml", "l", "a\n")))
	if err := commit(repo, res, "render", CommitOptions{}, env); err != nil {
		t.Fatalf("commit: %v", err)
	}
	diffStrings(t, "committed files", runGitT(t, repo, "show", "--name-status", "--format=", "HEAD"),
		"A\t.stretch/manifest\nA\ta.yaml\n")
	// git may find an identity of its own (a host name with a domain);
	// only when it cannot, the fallback is used.
	cmd := exec.Command("git", "-C", repo, "var", "GIT_AUTHOR_IDENT")
	cmd.Env = env
	if cmd.Run() != nil {
		diffStrings(t, "author", runGitT(t, repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>"),
			"kubectl stretch <kubectl-stretch@localhost>|kubectl stretch <kubectl-stretch@localhost>\n")
	}
}

func TestCommitNilResult(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := Commit(dir, nil, "render", CommitOptions{})
	if want := "commit bundle in " + dir + ": no write result"; err == nil || err.Error() != want {
		t.Errorf("error: %v, want %s", err, want)
	}
}

// TestCommitAfterUncommittedRender commits what two renders wrote when the
// first was not committed: the message counts what is committed, not what
// the second render changed.
func TestCommitAfterUncommittedRender(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	b := mustNew(t, file("storage/cluster.yaml", "storage", "c1\n"), file("flux/ks.yaml", "flux", "ks1\n"))
	mustWrite(t, repo, b)
	res := mustWrite(t, repo, b) // everything unchanged
	if err := Commit(repo, res, "stretch: render demo-eu", CommitOptions{}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	diffStrings(t, "message", runGitT(t, repo, "log", "-1", "--format=%B"),
		"stretch: render demo-eu\n\nflux: 1 added, 0 changed, 0 removed\nstorage: 1 added, 0 changed, 0 removed\n\n")
}

// conflictingRepo returns a repository whose main branch and side branch
// both changed README.md since they split, each with one commit.
func conflictingRepo(t *testing.T) string {
	t.Helper()
	repo := newRepo(t)
	runGitT(t, repo, "switch", "-q", "-c", "side")
	writeFiles(t, repo, map[string]string{"README.md": "# side\n"})
	runGitT(t, repo, "commit", "-q", "-am", "side")
	runGitT(t, repo, "switch", "-q", "main")
	writeFiles(t, repo, map[string]string{"README.md": "# main\n"})
	runGitT(t, repo, "commit", "-q", "-am", "main")
	return repo
}

// gitFails runs a git command that is expected to fail (a conflict).
func gitFails(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = gitEnv(dir)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("git %s succeeded, want a conflict:\n%s", strings.Join(args, " "), out)
	}
}

func TestCommitRefusesGitOperationsInProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, repo string)
		want  string
	}{
		{"merge", func(t *testing.T, repo string) { gitFails(t, repo, "merge", "-q", "side") },
			"a merge is in progress in REPO (.git/MERGE_HEAD exists): render --commit would record the bundle as part of it; finish it first (git commit to conclude it, or git merge --abort), then render again"},
		{"merge without conflict, not yet committed", func(t *testing.T, repo string) {
			runGitT(t, repo, "switch", "-q", "side")
			runGitT(t, repo, "switch", "-q", "-c", "other", "main~1")
			runGitT(t, repo, "merge", "-q", "--no-commit", "--no-ff", "side")
		}, "a merge is in progress in REPO (.git/MERGE_HEAD exists)"},
		{"rebase", func(t *testing.T, repo string) { gitFails(t, repo, "rebase", "side") },
			"a rebase is in progress in REPO (.git/rebase-merge exists): render --commit would record the bundle as part of it; finish it first (git rebase --continue, or git rebase --abort), then render again"},
		{"cherry-pick", func(t *testing.T, repo string) { gitFails(t, repo, "cherry-pick", "side") },
			"a cherry-pick is in progress in REPO (.git/CHERRY_PICK_HEAD exists)"},
		{"revert", func(t *testing.T, repo string) {
			writeFiles(t, repo, map[string]string{"README.md": "# later\n"})
			runGitT(t, repo, "commit", "-q", "-am", "later")
			gitFails(t, repo, "revert", "--no-edit", "HEAD~1")
		}, "a revert is in progress in REPO (.git/REVERT_HEAD exists)"},
		{"bisect", func(t *testing.T, repo string) { runGitT(t, repo, "bisect", "start") },
			"a bisect is in progress in REPO (.git/BISECT_LOG exists): render --commit would record the bundle as part of it; finish it first (git bisect reset), then render again"},
		{"detached HEAD", func(t *testing.T, repo string) { runGitT(t, repo, "switch", "-q", "--detach") },
			"HEAD is detached in REPO: a commit there belongs to no branch and is easily lost; switch to a branch (git switch BRANCH), or pass --allow-detached-head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := conflictingRepo(t)
			tt.setup(t, repo)
			before := head(t, repo)
			want := strings.ReplaceAll(tt.want, "REPO", repo)
			out := filepath.Join(repo, "deploy", "prod") // does not exist yet
			err := checkGitState(out, CommitOptions{}, gitEnv(repo))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("CheckGitState:\n got %v\nwant it to contain %s", err, want)
			}
			// Commit refuses too, even when called without the check.
			res := mustWrite(t, out, mustNew(t, file("a.yaml", "l", "a\n")))
			if err := commit(out, res, "render", CommitOptions{}, gitEnv(repo)); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Commit: %v", err)
			}
			if got := head(t, repo); got != before {
				t.Errorf("HEAD moved from %s to %s", before, got)
			}
		})
	}
}

func TestCommitOnDetachedHeadWhenAllowed(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	runGitT(t, repo, "switch", "-q", "--detach")
	opts := CommitOptions{AllowDetachedHead: true}
	if err := checkGitState(repo, opts, gitEnv(repo)); err != nil {
		t.Fatalf("CheckGitState: %v", err)
	}
	before := head(t, repo)
	res := mustWrite(t, repo, mustNew(t, file("a.yaml", "l", "a\n")))
	if err := commit(repo, res, "render", opts, gitEnv(repo)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := strings.TrimSpace(runGitT(t, repo, "rev-parse", "HEAD~1")); got != before {
		t.Errorf("HEAD~1 = %s, want %s", got, before)
	}
}
