package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// DrillOptions predicts the loss of a region on a live cluster.
type DrillOptions struct {
	genericiooptions.IOStreams
	// Kube gives the cluster connection (the root's --kubeconfig,
	// --context, ...).
	Kube genericclioptions.RESTClientGetter
	// topologyFlag is -f TOPOLOGY.
	topologyFlag
	// Lose is the region whose loss is predicted.
	Lose string
	// Fence predicts the outcome once the region is fenced.
	Fence bool
	// RTO fails every workload predicted to recover more slowly; 0 for none.
	RTO time.Duration
	// NodeMonitorGracePeriod is the controller manager's.
	NodeMonitorGracePeriod time.Duration
	// Output is one of drill.Formats.
	Output string
	// ChunkSize is the page size of each LIST; 0 lists each kind at once.
	ChunkSize int64
	// executeFlags are --execute, --restore and their flags
	// (drill_execute.go).
	executeFlags
	// executeOnly lists the execute-only flags given.
	executeOnly func() []string
}

// NewCmdDrill returns the drill command. kube is the root command's
// cluster connection flags.
func NewCmdDrill(streams genericiooptions.IOStreams, kube genericclioptions.RESTClientGetter) *cobra.Command {
	o := &DrillOptions{IOStreams: streams, Kube: kube}
	cmd := &cobra.Command{
		Use:   "drill -f TOPOLOGY --lose REGION",
		Short: "Predict, workload by workload, what the loss of a region does to a live cluster",
		Long: `Read the cluster once, as verify does (one paginated LIST per kind), and predict
what happens when every node of REGION stops answering: for each workload
(Deployment, StatefulSet, DaemonSet, bare Pod and the owners of other pods)
the pods lost, whether a controller recreates them, whether the replacements
fit on the surviving nodes (node affinity and nodeSelector, taints and
tolerations, requests against what is left, topology spread with
nodeTaintsPolicy), whether a Ready replica stays, and when it recovers; and
whether etcd, the API server and the Ceph mons keep their quorum. drill only
reads: it changes nothing in the cluster.

Verdicts: recovers, hangs (a StatefulSet's pods stay Terminating until the
region is fenced; --fence predicts the outcome once it is), pending (no
surviving node can run a replacement), lost (a bare Pod is never
recreated), unaffected (no pod in REGION, or a DaemonSet's, which is not
meant to move). Predicted recovery is the pods' tolerationSeconds for the
unreachable taint (300 s by default) plus the node monitor grace period
(--node-monitor-grace-period, 40 s by default, as the bundle's Kubespray
variables set it) plus ` + fmt.Sprint(drill.SchedulingSeconds) + ` s to schedule and
start; --rto makes a slower recovery a failure. Placement follows
kube-scheduler's filters: node affinity, taints, requests, volumes' node
affinity, topology spread (nodeTaintsPolicy, minDomains, matchLabelKeys)
and inter-pod (anti-)affinity. A volume only one node may attach holds a
Deployment's replacement until the region is fenced. Each workload's PDB
is judged (taint-based eviction does not honour it). The platform: etcd,
API server and Ceph mon quorum, Ceph's degraded stretch mode, and the
ingress endpoints left. docs/DRILL.md explains each verdict and what
drill does not model.

Exit status: 0 when everything recovers and every quorum holds, 1 when
anything would not recover (or would be slower than --rto), 2 when drill
could not run or a kind could not be listed (a partial prediction).`,
		Example: `  kubectl stretch drill -f topology.yaml --lose sto1
  kubectl stretch drill -f topology.yaml --lose sto1 --fence
  kubectl stretch drill -f topology.yaml --lose sto2 --rto 2m -o junit > drill.xml`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringVar(&o.Lose, "lose", "", "the region whose loss is predicted (a data region or the arbiter)")
	cmd.Flags().BoolVar(&o.Fence, "fence", false, "predict the outcome once the region's nodes are fenced (out-of-service taint)")
	cmd.Flags().DurationVar(&o.RTO, "rto", 0, "fail every workload predicted to recover more slowly than this (0: no limit)")
	cmd.Flags().DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", drill.DefaultNodeMonitorGracePeriod, "the controller manager's --node-monitor-grace-period")
	cmd.Flags().StringVarP(&o.Output, "output", "o", drill.Formats[0], "output format: "+strings.Join(drill.Formats, ", "))
	cmd.Flags().Int64Var(&o.ChunkSize, "chunk-size", check.DefaultChunkSize, "objects per LIST request (0: each kind in one request)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(drill.Formats, cobra.ShellCompDirectiveNoFileComp))
	o.addExecuteFlags(cmd)
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY.
func (o *DrillOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags that need no topology.
func (o *DrillOptions) Validate() error {
	var errs []error
	if err := o.topologyFlag.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Lose == "" && !o.Restore {
		errs = append(errs, errors.New("--lose REGION is required"))
	}
	errs = append(errs, o.validateExecute()...)
	if o.RTO < 0 {
		errs = append(errs, fmt.Errorf("--rto %s: want a positive duration, or 0 for no limit", o.RTO))
	}
	if o.NodeMonitorGracePeriod <= 0 {
		errs = append(errs, fmt.Errorf("--node-monitor-grace-period %s: want a positive duration", o.NodeMonitorGracePeriod))
	}
	if !slices.Contains(drill.Formats, o.Output) {
		errs = append(errs, fmt.Errorf("-o %s: the output format is one of %s", o.Output, strings.Join(drill.Formats, ", ")))
	}
	if o.ChunkSize < 0 {
		errs = append(errs, fmt.Errorf("--chunk-size %d: want 0 or more", o.ChunkSize))
	}
	if o.Kube == nil {
		errs = append(errs, errors.New("no cluster connection flags"))
	}
	if len(errs) > 0 {
		return failed(ExitError, errors.Join(errs...))
	}
	return nil
}

// Run loads the topology, checks --lose against it, takes the snapshot,
// predicts and writes the report. The exit code follows the report: 1
// when anything would not recover, else 2 when the snapshot was partial,
// else 0.
func (o *DrillOptions) Run(ctx context.Context) error {
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return withCode(err, ExitError)
	}
	if o.Restore {
		return o.runRestore(ctx)
	}
	model := topology.NewModel(f.Topology)
	if err := model.CheckRegion(o.Lose); err != nil {
		return failed(ExitError, fmt.Errorf("--lose: %s: %w", f.Path, err))
	}
	po := drill.Options{Fence: o.Fence, RTO: o.RTO, NodeMonitorGracePeriod: o.NodeMonitorGracePeriod}
	var simCluster *sim.Detached
	if o.Execute {
		if !o.Yes {
			return o.refuseWithoutYes(model)
		}
		if simCluster, err = o.prepareExecute(model, &po); err != nil {
			return err
		}
	}
	snap, _, err := takeSnapshotOf(ctx, "drill", o.Kube, o.ChunkSize, check.DrillKinds())
	if err != nil {
		return err
	}
	r := drill.Predict(snap, model, o.Lose, po)
	if o.Execute {
		return o.runExecute(ctx, model, simCluster, r)
	}
	if err := r.Write(o.Out, o.Output); err != nil {
		return failed(ExitError, err)
	}
	switch {
	case r.Failed():
		return silentFailure(ExitFailed)
	case r.Partial():
		return silentFailure(ExitError)
	}
	return nil
}
