package app

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Version and Commit are set at build time with -ldflags -X.
var (
	Version = "dev"
	Commit  = ""
)

// VersionOptions prints the version.
type VersionOptions struct {
	genericiooptions.IOStreams
	version, commit string
}

// NewCmdVersion returns the version command.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl stretch",
		Args:  cobra.NoArgs,
		RunE:  runSteps(o),
	}
}

// Complete fills in the version, falling back to the module's build info
// for a binary installed with go install.
func (o *VersionOptions) Complete([]string) error {
	o.version, o.commit = Version, Commit
	if bi, ok := debug.ReadBuildInfo(); ok && o.version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		o.version = bi.Main.Version
	}
	return nil
}

// Validate has nothing to check.
func (o *VersionOptions) Validate() error { return nil }

// Run prints the version.
func (o *VersionOptions) Run(context.Context) error {
	fmt.Fprintf(o.Out, "kubectl-stretch %s", o.version)
	if o.commit != "" {
		fmt.Fprintf(o.Out, " (%s)", o.commit)
	}
	fmt.Fprintf(o.Out, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
