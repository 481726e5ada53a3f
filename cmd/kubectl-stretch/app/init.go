package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// Run writes the example. Written to a file, it also writes the example's
// workloads into the apps folder next to it, unless that folder exists, so
// that validate and render work at once; written to standard output, it
// says on standard error where the workloads are expected.
func (o *InitOptions) Run(context.Context) error {
	if o.Output == "" {
		if _, err := o.Out.Write(topology.Example()); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "the example renders the workloads in %s/ next to the topology file; run init -o FILE to write an example there\n",
			topology.ExampleWorkloadsPath)
		return nil
	}
	if err := bundle.WriteFile(o.Output, topology.Example()); err != nil {
		return failed(ExitError, err)
	}
	fmt.Fprintf(o.ErrOut, "wrote %s: edit the regions and nodes, then run kubectl stretch validate -f %s\n", o.Output, o.Output)
	apps := filepath.Join(filepath.Dir(o.Output), topology.ExampleWorkloadsPath)
	if _, err := os.Stat(apps); err == nil {
		return nil // the user's own workloads: never touched
	} else if !errors.Is(err, os.ErrNotExist) {
		return failed(ExitError, err)
	}
	file := filepath.Join(apps, topology.ExampleWorkloadsFile)
	if err := os.MkdirAll(apps, 0o755); err != nil {
		return failed(ExitError, err)
	}
	if err := bundle.WriteFile(file, topology.ExampleWorkloads()); err != nil {
		return failed(ExitError, err)
	}
	fmt.Fprintf(o.ErrOut, "wrote %s: example workloads (spec.workloads.sources); replace them with yours\n", file)
	return nil
}
