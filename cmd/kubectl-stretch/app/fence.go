package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/fence"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// FenceOptions are the options of fence and unfence.
type FenceOptions struct {
	genericiooptions.IOStreams
	Kube genericclioptions.RESTClientGetter
	topologyFlag
	// Unfence removes the taint instead of adding it.
	Unfence bool
	// Force fences nodes that are still Ready.
	Force bool
	// Region is the region to fence or unfence.
	Region string
}

// fenceTaint is the taint as kubectl prints it.
const fenceTaint = fence.TaintKey + "=" + fence.TaintValue + ":" + string(fence.TaintEffect)

// NewCmdFence returns the fence command.
func NewCmdFence(streams genericiooptions.IOStreams, kube genericclioptions.RESTClientGetter) *cobra.Command {
	o := &FenceOptions{IOStreams: streams, Kube: kube}
	cmd := &cobra.Command{
		Use:   "fence REGION -f TOPOLOGY",
		Short: "Mark a lost region's nodes out of service so that the surviving region takes over its pods and volumes",
		Long: `Taint every node of REGION (the nodes whose topology.kubernetes.io/zone label
is REGION) ` + fenceTaint + `:
Kubernetes' non-graceful node shutdown (GA in 1.28). The controller-manager
then force-deletes the pods bound to those nodes and detaches their volumes,
so that StatefulSets, whose pods otherwise hang Terminating on an unreachable
node, are recreated in the surviving region on their replicated volumes.

Fence only a region that is really down. fence refuses while any node of
REGION is Ready, naming those nodes; --force fences them anyway. The taint is
added next to the nodes' other taints; a node that has it already is left
as it is. Before unfence, make sure the region's nodes cannot write to the
shared storage again (see docs/FENCE.md: Ceph-CSI network fencing).

Exit status: 0 when every node of REGION has the taint, 1 when fence refused
because nodes are Ready, 2 when it could not run (bad topology, unknown
region, no node in the region, API errors).`,
		Example: `  kubectl stretch fence sto1 -f topology.yaml
  kubectl stretch unfence sto1 -f topology.yaml`,
		Args: regionArg("fence"),
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.Force, "force", false, "fence even if nodes of the region are Ready")
	return cmd
}

// NewCmdUnfence returns the unfence command.
func NewCmdUnfence(streams genericiooptions.IOStreams, kube genericclioptions.RESTClientGetter) *cobra.Command {
	o := &FenceOptions{IOStreams: streams, Kube: kube, Unfence: true}
	cmd := &cobra.Command{
		Use:   "unfence REGION -f TOPOLOGY",
		Short: "Remove the out-of-service taint from a region's nodes once they are back and cannot write",
		Long: `Remove ` + fenceTaint + ` from every node of
REGION, and only that taint. Run it only once the region's nodes have been
repaired, and once they cannot write to volumes the surviving region now
owns: with Ceph-CSI RBD, a CSI-Addons NetworkFence blocklisting the region's
CIDRs, kept until every volume the region used has been remapped (see
docs/FENCE.md).

Exit status: 0 when no node of REGION has the taint, 2 when it could not
run (bad topology, unknown region, no node in the region, API errors).`,
		Example: `  kubectl stretch unfence sto1 -f topology.yaml`,
		Args:    regionArg("unfence"),
		RunE:    runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	return cmd
}

// regionArg requires exactly one REGION argument.
func regionArg(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return failed(ExitError, fmt.Errorf("%s needs the REGION: kubectl stretch %s REGION -f TOPOLOGY", name, name))
		}
		return failed(ExitError, fmt.Errorf("%s takes one REGION, got %d arguments: %s", name, len(args), strings.Join(args, " ")))
	}
}

// Complete takes the REGION argument and the topology file.
func (o *FenceOptions) Complete(args []string) error {
	o.topologyFlag.Complete()
	if len(args) == 1 {
		o.Region = args[0]
	}
	return nil
}

// Validate checks the flags.
func (o *FenceOptions) Validate() error {
	if err := o.topologyFlag.Validate(); err != nil {
		return failed(ExitError, err)
	}
	if o.Kube == nil {
		return failed(ExitError, errors.New("no cluster connection flags"))
	}
	return nil
}

// Run checks that REGION is a region of the topology, then fences or
// unfences its nodes, printing one line per node changed and a summary.
func (o *FenceOptions) Run(ctx context.Context) error {
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return withCode(err, ExitError)
	}
	m := topology.NewModel(f.Topology)
	if err := m.CheckRegion(o.Region); err != nil {
		return failed(ExitError, fmt.Errorf("%s: %w", f.Path, err))
	}
	cfg, err := clusterConfig(o.Kube)
	if err != nil {
		return failed(ExitError, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return failed(ExitError, fmt.Errorf("kubernetes client: %w", err))
	}
	region := fence.Region{ZoneKey: m.Labels.Zone, Name: o.Region}
	verb, past, kept := "tainted", "fenced", "already tainted"
	if o.Unfence {
		verb, past, kept = "untainted", "unfenced", "without the taint"
	}
	report := func(c fence.Change) {
		if c.Changed {
			fmt.Fprintf(o.Out, "node/%s %s %s\n", c.Node, verb, fenceTaint)
		}
	}
	var res fence.Result
	if o.Unfence {
		res, err = fence.Unfence(ctx, client, region, report)
	} else {
		res, err = fence.Fence(ctx, client, region, o.Force, report)
	}
	if errors.Is(err, fence.ErrReady) {
		return failed(ExitFailed, err)
	}
	if err != nil {
		return failed(ExitError, err)
	}
	changed, unchanged := res.Count()
	fmt.Fprintf(o.Out, "region %s %s: %d %s %s, %d %s\n", o.Region, past, changed, plural(changed, "node", "nodes"), verb, unchanged, kept)
	return nil
}

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
