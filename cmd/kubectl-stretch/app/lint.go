package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/lint"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// LintOptions checks manifests against the spread rules, without a cluster.
type LintOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	Paths  []string
	Output string
	List   bool
}

// NewCmdLint returns the lint command.
func NewCmdLint(streams genericiooptions.IOStreams) *cobra.Command {
	o := &LintOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "lint -f TOPOLOGY PATH...",
		Short: "Check manifests for what breaks fail-over to the other data region",
		Long: `Run the spread patcher's rules as static checks over manifest files and folders
(searched recursively), with no cluster: a StatefulSet with one replica, a zone
spread that blocks fail-over (DoNotSchedule without nodeTaintsPolicy: Honor), a
workload pinned to one region, no PodDisruptionBudget, hostPath volumes, ...
Each finding has an ID, a severity, the file and object, the problem in the
manifest as written, and a fix. Findings that render, post-render and fn fix
automatically say so (FIXED BY RENDER, fixedByRender: true); the manifest still
needs the fix when it is deployed without them. lint reports what render,
post-render and fn report: a StatefulSet below minReplicas is an error
(SPREAD022) unless it is annotated stretch.dev/min-replicas, the only way
render raises a StatefulSet.
Exit status: 0 without errors, 1 with at least one error-severity finding, 2
when a manifest cannot be read (FILE:LINE:COL: KIND NAME: FIELD: MESSAGE).`,
		Example: `  kubectl stretch lint -f topology.yaml apps/
  kubectl stretch lint -f topology.yaml -o junit apps/ > lint.xml
  kubectl stretch lint --list`,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", lint.Formats[0], "output format: "+strings.Join(lint.Formats, ", "))
	cmd.Flags().BoolVar(&o.List, "list", false, "list the rules and exit")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(lint.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete takes the paths from the arguments and falls back to
// STRETCH_TOPOLOGY.
func (o *LintOptions) Complete(args []string) error {
	o.Paths = args
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags; --list needs no topology.
func (o *LintOptions) Validate() error {
	if !o.List {
		if err := o.topologyFlag.Validate(); err != nil {
			return failed(ExitError, err)
		}
	}
	if !slices.Contains(lint.Formats, o.Output) {
		return failed(ExitError, fmt.Errorf("-o %s: the output format is one of %s", o.Output, strings.Join(lint.Formats, ", ")))
	}
	if !o.List && len(o.Paths) == 0 {
		return failed(ExitError, errors.New("give at least one PATH (a file or a folder) to lint"))
	}
	return nil
}

// Run loads the topology, lints and prints the report.
func (o *LintOptions) Run(context.Context) error {
	if o.List {
		return listRules(o)
	}
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return err
	}
	policy := spread.PolicyFor(topology.NewModel(f.Topology))
	files, err := lint.Files(o.Paths)
	if err != nil {
		return failed(ExitError, err)
	}
	report, err := lint.Run(files, policy)
	if err != nil {
		return failed(ExitError, err)
	}
	if err := report.Write(o.Out, o.Output); err != nil {
		return failed(ExitError, err)
	}
	if report.Failed() {
		return silentFailure(ExitFailed)
	}
	return nil
}

func listRules(o *LintOptions) error {
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tFIXED BY RENDER\tRULE")
	for _, r := range lintRules() {
		fixed := "no"
		if r.Fixable {
			fixed = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s: %s\n", r.ID, r.Severity, fixed, r.Name, r.Title)
	}
	return tw.Flush()
}

// lintRules are the rules lint checks: the spread patcher's, then the
// namespace rule render also reports.
func lintRules() []spread.Rule {
	return append(spread.Rules(), namespaces.Rule)
}
