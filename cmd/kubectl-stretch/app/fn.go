package app

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/stretch-dev/kubectl-stretch/internal/input"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/plugins/krm"
)

// FnOptions runs kubectl-stretch as a KRM function.
type FnOptions struct {
	genericiooptions.IOStreams
	// MaxInput caps standard input, in bytes.
	MaxInput int64
	baseDir  string
}

// NewCmdFn returns the fn command.
func NewCmdFn(streams genericiooptions.IOStreams) *cobra.Command {
	o := &FnOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "fn",
		Short: "Run as a KRM function (kustomize exec functions, kpt): ResourceList in, ResourceList out",
		Long: `Read a ResourceList on standard input and write the result on standard output.

With a stretch.dev/v1alpha1 Topology as functionConfig it is a generator: it
appends the bundle's Kubernetes objects (Calico, Rook, spread-patched
workloads). With a stretch.dev/v1alpha1 SpreadPolicy it is a transformer: it
spread-patches the items and appends the missing PodDisruptionBudgets. Changes
and risks are reported in the ResourceList's results.`,
		Example: `  # kustomization.yaml: transformers: [spread.yaml]
  # spread.yaml:
  apiVersion: stretch.dev/v1alpha1
  kind: SpreadPolicy
  metadata:
    name: spread
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: kubectl-stretch
          args: [fn]
  spec:
    dataZones: [sto1, sto2]
    minReplicas: 2

  kustomize build --enable-alpha-plugins --enable-exec .`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	addMaxInputFlag(cmd, &o.MaxInput)
	return cmd
}

// Complete resolves the folder workload sources are relative to.
func (o *FnOptions) Complete([]string) error {
	wd, err := os.Getwd()
	if err != nil {
		return failed(ExitError, err)
	}
	o.baseDir = wd
	return nil
}

// Validate checks --max-input.
func (o *FnOptions) Validate() error { return validateMaxInput(o.MaxInput) }

// Run processes the ResourceList.
func (o *FnOptions) Run(context.Context) error {
	in, err := input.ReadAll(o.In, "standard input", o.MaxInput)
	if err != nil {
		return failed(inputCode(err), fmt.Errorf("fn: %w", err))
	}
	// kyaml's reader names no line for a byte that is not UTF-8.
	if line, col, msg, bad := topology.InvalidUTF8(in); bad {
		return failed(ExitFailed, fmt.Errorf("fn: standard input:%d:%d: %s", line, col, msg))
	}
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(in), Writer: o.Out, KeepReaderAnnotations: true}
	if err := krm.Execute(o.baseDir, rw); err != nil {
		return failed(ExitFailed, fmt.Errorf("fn: %w", err))
	}
	return nil
}
