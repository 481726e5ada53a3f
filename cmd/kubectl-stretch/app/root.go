package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Exit codes.
const (
	ExitOK = 0
	// ExitFailed means the command ran and found a problem: an invalid
	// topology, a stale bundle, a failed check.
	ExitFailed = 1
	// ExitError means the command could not do its work.
	ExitError = 2
)

// exitError carries an exit code through cobra. When silent, the command
// has already told the user what went wrong.
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failed wraps err so that the command exits with code.
func failed(code int, err error) error { return &exitError{code: code, err: err} }

// silentFailure exits with code without printing anything more.
func silentFailure(code int) error {
	return &exitError{code: code, err: errors.New("failed"), silent: true}
}

// Run runs the command line args and returns the exit code.
func Run(ctx context.Context, streams genericiooptions.IOStreams, args []string) int {
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent {
			fmt.Fprintf(streams.ErrOut, "error: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	return ExitError
}

// NewRootCommand returns the kubectl-stretch command tree.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	kube := genericclioptions.NewConfigFlags(true)
	cmd := &cobra.Command{
		Use:   "kubectl-stretch",
		Short: "Render, verify and rehearse Kubernetes clusters stretched over three regions",
		Long: `kubectl stretch turns one small topology file (two data regions and an arbiter
region) into everything a stretched cluster needs: the Kubespray inventory,
Calico WireGuard, Rook/Ceph in stretch mode and Flux Kustomizations, written as
a deterministic GitOps bundle.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl stretch"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	kube.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		NewCmdInit(streams),
		NewCmdValidate(streams),
		NewCmdRender(streams),
		NewCmdPostRender(streams),
		NewCmdLint(streams),
		NewCmdFn(streams),
		NewCmdDiff(streams, kube),
		NewCmdVerify(streams, kube),
		NewCmdVersion(streams),
		NewCmdSim(streams),
	)
	return cmd
}
