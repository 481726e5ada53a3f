package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// ValidateOptions checks a topology file.
type ValidateOptions struct {
	genericiooptions.IOStreams
	File string
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
names and addresses. Every error names the file, line, column and field.
Exit status: 0 valid, 1 invalid.`,
		Example: `  kubectl stretch validate -f topology.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	addTopologyFlag(cmd, &o.File)
	return cmd
}

// Complete has nothing to resolve.
func (o *ValidateOptions) Complete() error { return nil }

// Validate checks the flags.
func (o *ValidateOptions) Validate() error {
	if o.File == "" {
		return failed(ExitError, errors.New("-f TOPOLOGY is required"))
	}
	return nil
}

// Run loads and validates the topology.
func (o *ValidateOptions) Run() error {
	f, err := loadTopology(o.ErrOut, o.File)
	if err != nil {
		return err
	}
	t := f.Topology
	nodes := 0
	for _, r := range t.Spec.Regions {
		nodes += len(r.Nodes)
	}
	fmt.Fprintf(o.Out, "%s: topology %s is valid (%d regions, %d nodes)\n", o.File, t.Metadata.Name, len(t.Spec.Regions), nodes)
	return nil
}

func addTopologyFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "filename", "f", "", "topology file (stretch.dev/v1alpha1 Topology)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
}

// loadTopology loads a topology and, when it is invalid, prints every error
// on its own line and returns a silent failure.
func loadTopology(errOut io.Writer, path string) (*topology.File, error) {
	f, err := topology.Load(path)
	var list topology.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintf(errOut, "%s\n", e.Error())
		}
		fmt.Fprintf(errOut, "%s: %d error(s); nothing was written\n", path, len(list))
		return nil, silentFailure(ExitFailed)
	}
	if err != nil {
		return nil, failed(ExitFailed, err)
	}
	return f, nil
}
