package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNothingToCommit is returned (wrapped) by Commit when the Write result
// holds no change, or when staging its files changed nothing in Git.
var ErrNothingToCommit = errors.New("nothing to commit: the rendered bundle did not change")

// Fallback identity, used only when git has none.
const (
	fallbackName  = "kubectl stretch"
	fallbackEmail = "kubectl-stretch@localhost"
)

// CommitMessage returns a commit message for res: title, then a blank line
// and one line per layer with added, changed or removed files, sorted by
// layer, such as "storage: 2 added, 1 changed, 0 removed". Without such a
// layer the message is the title alone.
func CommitMessage(title string, res *Result) string {
	if res == nil {
		return title
	}
	layers := slices.Clone(res.Layers)
	slices.SortStableFunc(layers, func(a, b LayerSummary) int { return strings.Compare(a.Layer, b.Layer) })
	var sb strings.Builder
	sb.WriteString(title)
	sep := "\n\n"
	for _, l := range layers {
		if l.Added+l.Changed+l.Removed == 0 {
			continue
		}
		fmt.Fprintf(&sb, "%s%s: %d added, %d changed, %d removed", sep, l.Layer, l.Added, l.Changed, l.Removed)
		sep = "\n"
	}
	return sb.String()
}

// Commit records in Git what Write(dir, ...) did, as described by res. It
// finds the work tree that contains dir, refuses to run when the index
// already holds staged changes, stages only the files res reports as
// added, changed, unchanged or adopted (an earlier render may have written
// them without a commit), the manifest and the removal of the removed
// files, and commits them. The message is title and, as CommitMessage
// writes it, what Git staged per layer: a render after an uncommitted one
// commits, and counts, the files of both. Git hooks run as usual. The
// user's other files, tracked or not, are never staged. When there is
// nothing to commit, Commit does nothing and returns an error wrapping
// ErrNothingToCommit. If staging or committing fails, the paths it staged
// are unstaged again.
//
// Commit refuses, as CheckGitState does, a repository in the middle of a
// merge, rebase, cherry-pick, revert or bisect, and a detached HEAD unless
// opts allows it.
func Commit(dir string, res *Result, title string, opts CommitOptions) error {
	return commit(dir, res, title, opts, nil)
}

// CommitOptions changes what Commit and CheckGitState accept.
type CommitOptions struct {
	// AllowDetachedHead lets Commit commit on a detached HEAD, where the
	// commit belongs to no branch and is easily lost.
	AllowDetachedHead bool
}

// CheckGitState returns an error when the Git work tree that contains dir
// is in a state where Commit must not commit: a merge, rebase,
// cherry-pick, revert or bisect in progress (Git would record the bundle
// as part of it, under render's title), a detached HEAD unless opts
// allows it, or changes already staged (they would be committed with the
// bundle). Render calls it before writing anything. A dir outside a work
// tree is an error too.
func CheckGitState(dir string, opts CommitOptions) error {
	return checkGitState(dir, opts, nil)
}

// checkGitState is CheckGitState with the environment of the git
// processes.
func checkGitState(dir string, opts CommitOptions, env []string) error {
	// Render creates dir: look at the nearest folder that exists.
	g, _, err := findWorkTree(nearestExisting(dir), env)
	if err == nil {
		err = g.ready(opts)
	}
	if err != nil {
		return fmt.Errorf("commit bundle in %s: %w", dir, err)
	}
	return nil
}

// gitOperations lists the operations that may be in progress in a
// repository, in the order they are reported: the file or directory Git
// keeps while one is in progress (relative to the git directory), what
// it is, and how to end it.
var gitOperations = []struct {
	marker, what, end string
}{
	{"MERGE_HEAD", "a merge", "git commit to conclude it, or git merge --abort"},
	{"rebase-merge", "a rebase", "git rebase --continue, or git rebase --abort"},
	{"rebase-apply", "a rebase or git am", "git rebase --continue or git am --continue, or --abort"},
	{"CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue, or git cherry-pick --abort"},
	{"REVERT_HEAD", "a revert", "git revert --continue, or git revert --abort"},
	{"sequencer", "a cherry-pick or revert of several commits", "git cherry-pick --continue or git revert --continue, or --abort"},
	{"BISECT_LOG", "a bisect", "git bisect reset"},
}

// ready refuses a repository in the middle of an operation, a detached
// HEAD unless opts allows it, and an index holding staged changes, which
// the commit would take in.
func (g *gitRepo) ready(opts CommitOptions) error {
	args := []string{"rev-parse"}
	for _, op := range gitOperations {
		args = append(args, "--git-path", op.marker)
	}
	out, err := g.run(nil, args...)
	if err != nil {
		return err
	}
	paths := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(paths) != len(gitOperations) {
		return fmt.Errorf("git rev-parse --git-path: unexpected output %q", out)
	}
	for i, op := range gitOperations {
		p := paths[i]
		if !filepath.IsAbs(p) {
			p = filepath.Join(g.top, p)
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s is in progress in %s (%s exists): render --commit would record the bundle as part of it; finish it first (%s), then render again", op.what, g.top, paths[i], op.end)
		}
	}
	_, err = g.run(nil, "symbolic-ref", "-q", "HEAD")
	if code, ok := exitCode(err); ok && code == 1 {
		if !opts.AllowDetachedHead {
			return fmt.Errorf("HEAD is detached in %s: a commit there belongs to no branch and is easily lost; switch to a branch (git switch BRANCH), or pass --allow-detached-head", g.top)
		}
	} else if err != nil {
		return err
	}
	staged, err := g.hasStaged()
	if err != nil {
		return err
	}
	if staged {
		return errors.New("the git index already holds staged changes; commit or unstage them first (git restore --staged .)")
	}
	return nil
}

// commit is Commit with the environment of the git processes; nil means
// the environment of this process.
func commit(dir string, res *Result, title string, opts CommitOptions, env []string) error {
	if err := commitGit(dir, res, title, opts, env); err != nil {
		return fmt.Errorf("commit bundle in %s: %w", dir, err)
	}
	return nil
}

// commitGit does the work of commit.
func commitGit(dir string, res *Result, title string, opts CommitOptions, env []string) error {
	if res == nil {
		return errors.New("no write result")
	}
	if strings.TrimSpace(title) == "" {
		return errors.New("empty commit title")
	}
	g, prefix, err := findWorkTree(dir, env)
	if err != nil {
		return err
	}
	if err := g.ready(opts); err != nil {
		return err
	}
	// Unchanged files are staged too: an earlier render may have written
	// them without committing. Git records only what differs from HEAD.
	var add, rm []string
	for _, list := range [][]string{res.Added, res.Changed, res.Unchanged, res.Adopted, {ManifestPath}} {
		for _, p := range list {
			add = append(add, prefix+p)
		}
	}
	for _, p := range slices.Concat(res.Removed, res.gone) {
		rm = append(rm, prefix+p)
	}
	slices.Sort(add)
	all := append(slices.Clone(add), rm...)
	slices.Sort(all)

	if err := g.stage(add, rm); err != nil {
		return g.unstage(all, err)
	}
	staged, err := g.hasStaged()
	if err != nil {
		return g.unstage(all, err)
	}
	if !staged {
		return ErrNothingToCommit
	}
	identity, err := g.identityArgs()
	if err != nil {
		return g.unstage(all, err)
	}
	committed, err := g.stagedResult(prefix, res)
	if err != nil {
		return g.unstage(all, err)
	}
	args := append(identity, "commit", "-q", "-m", CommitMessage(title, committed))
	if _, err := g.run(nil, args...); err != nil {
		return g.unstage(all, err)
	}
	return nil
}

// gitRepo runs git in the top level of one work tree.
type gitRepo struct {
	top string
	env []string
}

// findWorkTree returns the work tree that contains dir and the path of dir
// inside it ("" or a slash-terminated prefix such as "deploy/").
func findWorkTree(dir string, env []string) (*gitRepo, string, error) {
	out, err := runGit(dir, env, nil, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return nil, "", fmt.Errorf("not in a git work tree: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || lines[0] == "" {
		return nil, "", fmt.Errorf("git rev-parse --show-toplevel --show-prefix: unexpected output %q", out)
	}
	return &gitRepo{top: lines[0], env: env}, lines[1], nil
}

// stagedResult counts per layer what the index holds of res's files,
// staged by Commit into an index that held nothing else: the Result whose
// Layers CommitMessage writes.
func (g *gitRepo) stagedResult(prefix string, res *Result) (*Result, error) {
	out, err := g.run(nil, "diff", "--cached", "--name-status", "--no-renames", "-z")
	if err != nil {
		return nil, err
	}
	layers := tally{}
	fields := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		status, path := fields[i], strings.TrimPrefix(fields[i+1], prefix)
		layer, ok := res.layers[path]
		if !ok {
			continue // the manifest
		}
		switch c := layers.of(layer); status {
		case "A":
			c.Added++
		case "M", "T":
			c.Changed++
		case "D":
			c.Removed++
		}
	}
	return &Result{Layers: layers.sorted()}, nil
}

// hasStaged reports whether the index differs from HEAD.
func (g *gitRepo) hasStaged() (bool, error) {
	_, err := g.run(nil, "diff", "--cached", "--quiet")
	if code, ok := exitCode(err); ok && code == 1 {
		return true, nil
	}
	return false, err
}

// stage adds the paths in add and stages the removal of the paths in rm.
func (g *gitRepo) stage(add, rm []string) error {
	if len(add) > 0 {
		if _, err := g.run(pathspecs(add), "add", "--pathspec-from-file=-", "--pathspec-file-nul"); err != nil {
			return err
		}
	}
	if len(rm) > 0 {
		if _, err := g.run(pathspecs(rm), "rm", "--cached", "--ignore-unmatch", "-q", "--pathspec-from-file=-", "--pathspec-file-nul"); err != nil {
			return err
		}
	}
	return nil
}

// unstage resets the index entries of paths to HEAD after cause made
// Commit fail, and returns cause together with any error of the reset.
func (g *gitRepo) unstage(paths []string, cause error) error {
	if _, err := g.run(pathspecs(paths), "reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul"); err != nil {
		return errors.Join(cause, fmt.Errorf("unstage the bundle again: %w", err))
	}
	return cause
}

// identityArgs returns "-c user.name=... -c user.email=..." options for
// the parts of the identity git lacks, or nothing when git has an
// identity. Environment variables such as GIT_AUTHOR_NAME still win over
// these options.
func (g *gitRepo) identityArgs() ([]string, error) {
	_, aerr := g.run(nil, "var", "GIT_AUTHOR_IDENT")
	_, cerr := g.run(nil, "var", "GIT_COMMITTER_IDENT")
	if aerr == nil && cerr == nil {
		return nil, nil
	}
	var args []string
	for _, kv := range [][2]string{{"user.name", fallbackName}, {"user.email", fallbackEmail}} {
		_, err := g.run(nil, "config", "--get", kv[0])
		if code, ok := exitCode(err); ok && code == 1 {
			args = append(args, "-c", kv[0]+"="+kv[1])
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return args, nil
}

// run runs git in the top level with literal pathspecs.
func (g *gitRepo) run(stdin []byte, args ...string) (string, error) {
	return runGit(g.top, g.env, stdin, append([]string{"--literal-pathspecs"}, args...)...)
}

// runGit runs git -C dir args and returns its standard output. The error
// names the git command and carries its standard error.
func runGit(dir string, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		name := "git"
		for i := 0; i < len(args); i++ {
			if args[i] == "-c" {
				i++ // skip the option's value
				continue
			}
			if !strings.HasPrefix(args[i], "-") {
				name += " " + args[i]
				break
			}
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return stdout.String(), fmt.Errorf("%s: %w: %s", name, err, msg)
		}
		return stdout.String(), fmt.Errorf("%s: %w", name, err)
	}
	return stdout.String(), nil
}

// pathspecs encodes paths for --pathspec-from-file=- --pathspec-file-nul.
func pathspecs(paths []string) []byte {
	var buf bytes.Buffer
	for _, p := range paths {
		buf.WriteString(p)
		buf.WriteByte(0)
	}
	return buf.Bytes()
}

// exitCode returns the exit code of a git process that ran and failed.
func exitCode(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), true
	}
	return 0, false
}
