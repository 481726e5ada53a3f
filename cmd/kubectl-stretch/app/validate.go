package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// ValidateOptions checks a topology file.
type ValidateOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	// AllowRemoteBases accepts kustomize sources with remote bases.
	AllowRemoteBases bool
}

// NewCmdValidate returns the validate command.
func NewCmdValidate(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ValidateOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "validate -f TOPOLOGY",
		Short: "Check a topology file against every rule a stretched cluster must meet",
		Long: `Decode the topology strictly, fill in defaults and check every rule: two data
regions and an arbiter, an etcd majority that survives the loss of any region,
a control plane in every region, room for five Ceph mons placed 2/2/1, unique
names and addresses; and that the workload sources' folders, charts and values
files exist and can be read from the repository alone (no absolute path, chart
URL, symbolic link out of a source's folder or remote kustomize base). Every
error names the file, line, column and field.
Exit status: 0 valid, 1 invalid.`,
		Example: `  kubectl stretch validate -f topology.yaml`,
		Args:    cobra.NoArgs,
		RunE:    runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.AllowRemoteBases, "allow-remote-bases", false, "accept kustomize sources with remote bases and resources, as render does with the flag")
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY.
func (o *ValidateOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags.
func (o *ValidateOptions) Validate() error {
	if err := o.topologyFlag.Validate(); err != nil {
		return failed(ExitError, err)
	}
	return nil
}

// Run loads and validates the topology.
func (o *ValidateOptions) Run(context.Context) error {
	f, err := o.topologyFlag.LoadWithSources(o.ErrOut)
	if err != nil {
		return err
	}
	if err := checkSourceFiles(o.ErrOut, f, o.AllowRemoteBases); err != nil {
		return err
	}
	// Warnings do not fail validate: the topology works, at a cost.
	for _, w := range f.Warnings() {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", w.Error())
	}
	t := f.Topology
	nodes := 0
	for _, r := range t.Spec.Regions {
		nodes += len(r.Nodes)
	}
	fmt.Fprintf(o.Out, "%s: topology %s is valid (%d regions, %d nodes)\n", o.File, t.Metadata.Name, len(t.Spec.Regions), nodes)
	return nil
}
