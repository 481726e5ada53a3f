package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// RenderOptions renders a topology into a bundle folder.
type RenderOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	OutDir     string
	Check      bool
	Commit     bool
	Mixins     []string
	Blueprints string
	// LockTimeout is how long to wait for another render or check of the
	// same folder to finish.
	LockTimeout time.Duration
	// AllowDetachedHead lets --commit commit on a detached HEAD.
	AllowDetachedHead bool
	// AllowRemoteBases lets kustomize sources fetch remote bases.
	AllowRemoteBases bool
}

// lockNotice is how long render waits for the folder's lock before saying
// that it waits.
const lockNotice = time.Second

// NewCmdRender returns the render command.
func NewCmdRender(streams genericiooptions.IOStreams) *cobra.Command {
	o := &RenderOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "render -f TOPOLOGY -o DIR",
		Short: "Render the GitOps bundle of a topology into a folder",
		Long: `Render every layer of the topology (Kubespray inventory and variables, Calico
WireGuard, Rook/Ceph in stretch mode, the read-only verify role, the
spread-patched workloads, Flux Kustomizations) into DIR.

Render owns only the files it lists in DIR/.stretch/manifest: it writes each
atomically, removes its own stale files and never touches anything else. The
output is byte-identical on every run.

  --check   exit 1 and list the differences when DIR is not what render would
            write, exit 0 when it is (the CI gate for bundles committed for Flux)
  --commit  stage only the files render owns and commit them, with a message
            that summarises the change per layer; refused during a merge,
            rebase, cherry-pick, revert or bisect, and on a detached HEAD
            unless --allow-detached-head

A render interrupted at any point (killed, a full disk) is recovered by the
next render; --check reports it. Render locks DIR (DIR/.stretch/lock): a
second render or check of the same folder waits for the first, up to
--lock-timeout.`,
		Example: `  kubectl stretch render -f topology.yaml -o clusters/prod
  kubectl stretch render -f topology.yaml -o clusters/prod --check
  kubectl stretch render -f topology.yaml -o clusters/prod --mixin mixins/rook.jsonnet --commit`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.OutDir, "output-dir", "o", "", "bundle folder to write")
	cmd.Flags().BoolVar(&o.Check, "check", false, "write nothing; exit 1 if DIR differs from what render would write")
	cmd.Flags().BoolVar(&o.Commit, "commit", false, "commit the files render owns (DIR must be in a Git work tree)")
	cmd.Flags().StringArrayVar(&o.Mixins, "mixin", nil, "Jsonnet file merged over the layers' output (repeatable, applied in order)")
	cmd.Flags().StringVar(&o.Blueprints, "blueprints", "", "folder whose Jsonnet files replace the embedded blueprints")
	cmd.Flags().DurationVar(&o.LockTimeout, "lock-timeout", time.Minute, "how long to wait for another render or check of DIR to finish (0: do not wait)")
	cmd.Flags().BoolVar(&o.AllowDetachedHead, "allow-detached-head", false, "let --commit commit on a detached HEAD")
	cmd.Flags().BoolVar(&o.AllowRemoteBases, "allow-remote-bases", false, "let kustomize sources fetch remote bases and resources (git or https URLs) over the network")
	_ = cmd.MarkFlagDirname("output-dir")
	_ = cmd.MarkFlagDirname("blueprints")
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY.
func (o *RenderOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags.
func (o *RenderOptions) Validate() error {
	var errs []error
	if err := o.topologyFlag.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.OutDir == "" {
		errs = append(errs, errors.New("-o DIR is required"))
	}
	if o.Check && o.Commit {
		errs = append(errs, errors.New("--check and --commit cannot be used together"))
	}
	if o.AllowDetachedHead && !o.Commit {
		errs = append(errs, errors.New("--allow-detached-head needs --commit"))
	}
	if o.LockTimeout < 0 {
		errs = append(errs, fmt.Errorf("--lock-timeout %v: must not be negative", o.LockTimeout))
	}
	if len(errs) > 0 {
		return failed(ExitError, errors.Join(errs...))
	}
	return nil
}

// Run renders the bundle and writes, checks or commits it.
func (o *RenderOptions) Run(ctx context.Context) error {
	f, err := o.topologyFlag.LoadWithSources(o.ErrOut)
	if err != nil {
		return err
	}
	if err := checkSourceFiles(o.ErrOut, f, o.AllowRemoteBases); err != nil {
		return err
	}
	if err := o.gitOpsPath(f); err != nil {
		return err
	}
	rendered, err := generators.Render(ctx, f.Topology, generators.Options{
		BlueprintsDir:    o.Blueprints,
		Mixins:           o.Mixins,
		BaseDir:          filepath.Dir(f.Path),
		TopologyFile:     f.Path,
		AllowRemoteBases: o.AllowRemoteBases,
	})
	if err != nil {
		return failed(ExitFailed, fmt.Errorf("%s: %w", o.File, err))
	}
	b := rendered.Bundle
	printFindings(o.ErrOut, rendered.Findings)
	commitOpts := bundle.CommitOptions{AllowDetachedHead: o.AllowDetachedHead}
	if o.Commit {
		// Before writing anything: a merge in progress would take the
		// bundle into the merge commit.
		if err := bundle.CheckGitState(o.OutDir, commitOpts); err != nil {
			return failed(ExitError, err)
		}
	}
	lock, err := bundle.LockDir(ctx, o.OutDir, bundle.LockOptions{
		Exclusive:   !o.Check,
		Timeout:     o.LockTimeout,
		NoticeAfter: lockNotice,
		Notice:      o.ErrOut,
	})
	if err != nil {
		return failed(ExitError, err)
	}
	defer lock.Unlock()
	if o.Check {
		drift, err := bundle.Check(o.OutDir, b)
		if err != nil {
			return failed(ExitError, err)
		}
		if drift.Empty() {
			fmt.Fprintf(o.Out, "%s is up to date (%d files)\n", o.OutDir, len(b.Files))
			return nil
		}
		if err := drift.Write(o.Out); err != nil {
			return failed(ExitError, err)
		}
		fmt.Fprintf(o.ErrOut, "%s is not what render would write: run %s\n", o.OutDir, o.renderCommand())
		return silentFailure(ExitFailed)
	}
	res, err := bundle.Write(o.OutDir, b)
	if err != nil {
		return failed(ExitError, err)
	}
	printResult(o.Out, o.OutDir, res)
	if o.Commit {
		title := "stretch: render " + f.Topology.Metadata.Name
		switch err := bundle.Commit(o.OutDir, res, title, commitOpts); {
		case errors.Is(err, bundle.ErrNothingToCommit):
			fmt.Fprintln(o.Out, "nothing to commit")
		case err != nil:
			return failed(ExitError, err)
		default:
			fmt.Fprintln(o.Out, "committed:", title)
		}
	}
	return nil
}

// gitOpsPath makes spec.gitops.path agree with where DIR is in Git, before
// anything is rendered or written. When DIR is in a Git work tree (and Git
// does not ignore it, unless --commit), the path Flux finds the bundle at
// is DIR's path from the repository's root: a topology that sets another
// one is refused, naming both; a topology that leaves it unset gets it,
// and render says so. --commit outside a work tree is refused. Outside
// Git, the topology's path stands.
func (o *RenderOptions) gitOpsPath(f *topology.File) error {
	loc, err := bundle.LocateGit(o.OutDir)
	if err != nil {
		return failed(ExitError, err)
	}
	if loc == nil {
		if o.Commit {
			return failed(ExitError, fmt.Errorf("render --commit: %s is not in a Git work tree; render into a folder of the repository Flux watches (git init or git clone it first), or leave out --commit", o.OutDir))
		}
		return nil
	}
	if loc.Ignored && !o.Commit {
		return nil
	}
	const field = "spec.gitops.path"
	g := &f.Topology.Spec.GitOps
	if !f.Sets(field) {
		g.Path = loc.Path
		fmt.Fprintf(o.ErrOut, "%s: %s is not set: using %s, the path of %s in the Git repository %s, for the Flux Kustomizations; set it in %s so that diff renders the same bundle\n",
			f.Path, field, loc.Path, o.OutDir, loc.Top, f.Path)
		return nil
	}
	if bundle.SamePath(g.Path, loc.Path) {
		return nil
	}
	err = f.Errorf(field, "is %s, but the output folder (-o %s) is %s from the root of its Git repository %s: Flux would look for the stages in the wrong folder; set %s: %s, or render into the repository's folder %s",
		g.Path, o.OutDir, loc.Path, loc.Top, field, loc.Path, g.Path)
	fmt.Fprintln(o.ErrOut, err)
	fmt.Fprintf(o.ErrOut, "%s: 1 error(s); nothing was written\n", f.Path)
	return silentFailure(ExitFailed)
}

// printResult lists what Write did, one file a line, then a summary.
func printResult(w io.Writer, dir string, res *bundle.Result) {
	for _, l := range []struct {
		verb  string
		paths []string
	}{
		{"added", res.Added},
		{"changed", res.Changed},
		{"adopted", res.Adopted},
		{"removed", res.Removed},
		{"kept", res.Kept},
	} {
		for _, p := range l.paths {
			fmt.Fprintf(w, "%-8s %s\n", l.verb, filepath.ToSlash(filepath.Join(dir, p)))
		}
	}
	fmt.Fprintf(w, "%s: %d added, %d changed, %d removed, %d unchanged", dir, len(res.Added), len(res.Changed), len(res.Removed), len(res.Unchanged))
	if len(res.Kept) > 0 {
		fmt.Fprintf(w, ", %d kept (modified by hand since the last render; no longer owned)", len(res.Kept))
	}
	fmt.Fprintln(w)
}

// printFindings prints, per workload source, the spread patcher's summary
// and every risk it could not fix.
func printFindings(w io.Writer, findings []generators.Finding) {
	var sources []string
	bySource := map[string][]spread.Finding{}
	files := map[string][]string{}
	for _, f := range findings {
		if _, ok := bySource[f.Source]; !ok {
			sources = append(sources, f.Source)
		}
		bySource[f.Source] = append(bySource[f.Source], f.Finding)
		files[f.Source] = append(files[f.Source], f.File)
	}
	for _, src := range sources {
		printRisks(w, layout.DirWorkloads+"/"+src, bySource[src], files[src])
	}
}

func objectRef(f spread.Finding) string {
	if f.Namespace == "" {
		return f.Kind + "/" + f.Name
	}
	return f.Kind + "/" + f.Namespace + "/" + f.Name
}

// renderCommand is the command line that renders what --check compares
// with: the same topology, folder, blueprints and mixins.
func (o *RenderOptions) renderCommand() string {
	args := []string{"kubectl stretch render", "-f", shellQuote(o.File), "-o", shellQuote(o.OutDir)}
	if o.Blueprints != "" {
		args = append(args, "--blueprints", shellQuote(o.Blueprints))
	}
	for _, m := range o.Mixins {
		args = append(args, "--mixin", shellQuote(m))
	}
	return strings.Join(args, " ")
}
