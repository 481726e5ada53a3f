package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// InitOptions writes a commented example topology.
type InitOptions struct {
	genericiooptions.IOStreams
	Output string
	Force  bool
}

// NewCmdInit returns the init command.
func NewCmdInit(streams genericiooptions.IOStreams) *cobra.Command {
	o := &InitOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "init [-o FILE]",
		Short: "Write a commented example topology to start from",
		Long: `Write a commented example topology that documents every field. With -o FILE it
also writes the example's workloads to apps/shop.yaml next to FILE, unless apps/
exists (your own workloads are never touched), so that validate and render
work at once. Without -o the topology goes to standard output.`,
		Example: `  kubectl stretch init -o topology.yaml && kubectl stretch validate -f topology.yaml
  kubectl stretch init > reference.yaml   # the field reference only`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite FILE if it exists (never apps/)")
	return cmd
}

// Complete has nothing to resolve.
func (o *InitOptions) Complete([]string) error { return nil }

// Validate refuses to overwrite a file unless --force.
func (o *InitOptions) Validate() error {
	if o.Output == "" || o.Force {
		return nil
	}
	if _, err := os.Stat(o.Output); err == nil {
		return failed(ExitError, fmt.Errorf("%s exists; pass --force to overwrite it", o.Output))
	} else if !errors.Is(err, os.ErrNotExist) {
		return failed(ExitError, err)
	}
	return nil
}

// Run writes the example: with -o, the topology and its example
// workloads (bundle.WriteExample); otherwise the topology on standard
// output, with a word on standard error about where the workloads go.
func (o *InitOptions) Run(context.Context) error {
	if o.Output == "" {
		if _, err := o.Out.Write(topology.Example()); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "the example renders the workloads in %s/ next to the topology file; init -o FILE writes an example there\n",
			topology.ExampleWorkloadsPath)
		return nil
	}
	written, err := bundle.WriteExample(o.Output, topology.Example(),
		topology.ExampleWorkloadsPath, topology.ExampleWorkloadsFile, topology.ExampleWorkloads())
	if err != nil {
		return failed(ExitError, err)
	}
	for _, f := range written[1:] {
		fmt.Fprintf(o.ErrOut, "wrote %s: example workloads (spec.workloads.sources); replace them with yours\n", f)
	}
	fmt.Fprintf(o.ErrOut, "wrote %s: edit the regions and nodes, then run kubectl stretch validate -f %s\n", o.Output, o.Output)
	return nil
}
