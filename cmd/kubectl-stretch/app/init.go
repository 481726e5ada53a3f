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
		Example: `  kubectl stretch init -o topology.yaml
  kubectl stretch init > topology.yaml`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite FILE if it exists")
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

// Run writes the example.
func (o *InitOptions) Run(context.Context) error {
	if o.Output == "" {
		_, err := o.Out.Write(topology.Example())
		return err
	}
	if err := bundle.WriteFile(o.Output, topology.Example()); err != nil {
		return failed(ExitError, err)
	}
	fmt.Fprintf(o.ErrOut, "wrote %s: edit the regions and nodes, then run kubectl stretch validate -f %s\n", o.Output, o.Output)
	return nil
}
