package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

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
	// ExitInterrupted means a SIGINT or SIGTERM stopped the command (128
	// plus SIGINT's number, as shells report a Ctrl-C).
	ExitInterrupted = 130
)

// ErrInterrupted is the cause of a context cancelled by a signal.
var ErrInterrupted = errors.New("interrupted")

// Interrupted returns the cause main gives the context when sig arrives.
func Interrupted(sig os.Signal) error {
	name := sig.String()
	switch sig {
	case os.Interrupt:
		name = "SIGINT"
	case syscall.SIGTERM:
		name = "SIGTERM"
	}
	return fmt.Errorf("%w by %s", ErrInterrupted, name)
}

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

// withCode changes the exit code of a failure, such as one from
// loadTopology, for a command where it means something else.
func withCode(err error, code int) error {
	var ee *exitError
	if errors.As(err, &ee) {
		ee.code = code
	}
	return err
}

// options is what the Options struct of every command implements.
type options interface {
	// Complete fills in what the flags leave open: the positional
	// arguments, environment fallbacks, defaults found at run time.
	Complete(args []string) error
	// Validate checks the options and returns the error the user sees.
	Validate() error
	// Run does the work; ctx ends on SIGINT or SIGTERM.
	Run(ctx context.Context) error
}

// runSteps is the RunE of every command: Complete with the positional
// arguments, Validate, then Run with the command's context.
func runSteps(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// Run runs the command line args and returns the exit code.
func Run(ctx context.Context, streams genericiooptions.IOStreams, args []string) int {
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	// Whatever the command made of its cancelled context (a context
	// error, a killed credential plugin, a closed connection), the user
	// sees why it stopped.
	if cause := context.Cause(ctx); errors.Is(cause, ErrInterrupted) {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", cause)
		return ExitInterrupted
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
Calico WireGuard, Rook/Ceph in stretch mode, spread-patched workloads, a
read-only role for verify and Flux Kustomizations, written as a deterministic
GitOps bundle; then checks the live cluster against it.`,
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
		NewCmdPostRender(streams, kube),
		NewCmdLint(streams),
		NewCmdFn(streams),
		NewCmdDiff(streams, kube),
		NewCmdVerify(streams, kube),
		NewCmdDrill(streams, kube),
		NewCmdFence(streams, kube),
		NewCmdUnfence(streams, kube),
		NewCmdVersion(streams),
		NewCmdSim(streams),
	)
	return cmd
}
