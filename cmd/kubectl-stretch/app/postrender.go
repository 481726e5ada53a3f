package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stretch-dev/kubectl-stretch/internal/input"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// PostRenderOptions is the Helm post-renderer: manifests on standard
// input, spread-patched manifests and PodDisruptionBudgets on standard
// output.
type PostRenderOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	Quiet bool
	// MaxInput caps standard input, in bytes.
	MaxInput int64
	// ReleaseNamespace is the namespace Helm installs the release into,
	// which exists when Helm runs the post-renderer (see Complete).
	ReleaseNamespace string
	kube             *genericclioptions.ConfigFlags
}

// NewCmdPostRender returns the post-render command; kube holds kubectl's
// flags, whose -n names the release namespace.
func NewCmdPostRender(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &PostRenderOptions{IOStreams: streams, kube: kube}
	cmd := &cobra.Command{
		Use:   "post-render -f TOPOLOGY",
		Short: "Spread-patch Helm's rendered manifests (a Helm post-renderer)",
		Long: `Read Kubernetes manifests on standard input, spread every Deployment,
StatefulSet and ReplicaSet over the topology's data regions, keep them off the
arbiter, raise replicas (or an HPA's minReplicas) to minReplicas (a
StatefulSet's only when it is annotated stretch.dev/min-replicas), add the
missing PodDisruptionBudgets, and write the result on standard output.
Comments and key order are kept. Risks it cannot fix (a StatefulSet with one
replica, a workload pinned to one region, hostPath volumes, objects in a
namespace that neither the output nor the release namespace creates, ...)
are printed on standard error. Bad input exits non-zero with a message
naming the document, and nothing is written.

The topology comes from -f or from the STRETCH_TOPOLOGY environment variable.
The release namespace is -n, else HELM_NAMESPACE, else the kubeconfig
context's namespace, else default: the one Helm chooses.`,
		Example: `  # Helm 3
  helm install shop ./chart --post-renderer kubectl-stretch \
    --post-renderer-args post-render --post-renderer-args -f --post-renderer-args topology.yaml
  # Helm 4, with plugins/helm/stretch installed (helm plugin install plugins/helm/stretch)
  STRETCH_TOPOLOGY=topology.yaml helm install shop ./chart -n shop --post-renderer stretch \
    --post-renderer-args=-n --post-renderer-args=shop
  # any stream
  helm template shop ./chart | kubectl stretch post-render -f topology.yaml`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "do not print the risks on standard error")
	addMaxInputFlag(cmd, &o.MaxInput)
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY, and finds the release
// namespace as Helm does: -n, else HELM_NAMESPACE, else the kubeconfig
// context's namespace, else default. The kubeconfig is only read, never
// used to reach a cluster.
func (o *PostRenderOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	o.ReleaseNamespace = "default"
	switch {
	case o.kube != nil && o.kube.Namespace != nil && *o.kube.Namespace != "":
		o.ReleaseNamespace = *o.kube.Namespace
	case os.Getenv("HELM_NAMESPACE") != "":
		o.ReleaseNamespace = os.Getenv("HELM_NAMESPACE")
	case o.kube != nil && kubeconfigsRegular(o.kube):
		if ns, _, err := o.kube.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
			o.ReleaseNamespace = ns
		}
	}
	return nil
}

// kubeconfigsRegular reports whether every kubeconfig file that exists
// among those kubectl would read (--kubeconfig, else KUBECONFIG, else
// ~/.kube/config) is a regular file: a FIFO or a device would block or
// never end, and post-render runs in every helm install.
func kubeconfigsRegular(kube *genericclioptions.ConfigFlags) bool {
	paths := []string{clientcmd.RecommendedHomeFile}
	switch {
	case kube.KubeConfig != nil && *kube.KubeConfig != "":
		paths = []string{*kube.KubeConfig}
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		paths = filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar))
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Validate checks the flags.
func (o *PostRenderOptions) Validate() error {
	if err := o.topologyFlag.Validate(); err != nil {
		return failed(ExitError, err)
	}
	return validateMaxInput(o.MaxInput)
}

// Run loads the topology, checks the spread policy derived from it and
// patches standard input to standard output.
func (o *PostRenderOptions) Run(context.Context) error {
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return err
	}
	policy := spread.PolicyFor(topology.NewModel(f.Topology))
	if err := policy.Validate(); err != nil {
		return failed(ExitError, err)
	}
	in, err := input.ReadAll(o.In, "standard input", o.MaxInput)
	if err != nil {
		return failed(inputCode(err), fmt.Errorf("post-render: %w", err))
	}
	if isEmptyStream(in) {
		// Helm 3 calls the post-renderer even for a chart that renders
		// nothing: no objects in, none out.
		return nil
	}
	tuneGC()
	out, res, err := spread.PatchStreamOutput(in, policy)
	if err != nil {
		return failed(ExitFailed, fmt.Errorf("post-render: %w", err))
	}
	if _, err := out.WriteTo(o.Out); err != nil {
		return failed(ExitError, err)
	}
	if !o.Quiet {
		printRisks(o.ErrOut, "post-render", append(res.Findings, namespaces.Check(res.Namespaced, namespaces.EffectHelm, o.ReleaseNamespace)...), nil)
	}
	return nil
}

// isEmptyStream reports whether a YAML stream holds no document: only
// blank lines, comments and document markers.
func isEmptyStream(in []byte) bool {
	for line := range bytes.Lines(in) {
		l := bytes.TrimSpace(line)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("---")) && !bytes.Equal(l, []byte("...")) {
			return false
		}
	}
	return true
}

// printRisks prints a one-line summary and each finding the patcher could
// not fix, at its place: files[i] is the file of findings[i], or files is
// nil for a stream, whose findings are placed by line alone.
func printRisks(w io.Writer, what string, findings []spread.Finding, files []string) {
	changes, risks := 0, 0
	for _, f := range findings {
		switch {
		case f.Changed:
			changes++
		case f.Severity != spread.SeverityInfo:
			risks++
		}
	}
	fmt.Fprintf(w, "%s: %d change(s), %d risk(s)\n", what, changes, risks)
	for i, f := range findings {
		if !f.Changed && f.Severity != spread.SeverityInfo {
			file := ""
			if files != nil {
				file = files[i]
			}
			fmt.Fprintf(w, "  %s %-7s %s%s: %s\n", f.ID, f.Severity, objectRef(f), findingPlace(file, f.Line), f.Message)
		}
	}
}

// findingPlace is " (FILE:LINE)", " (FILE)", " (line LINE)" or "".
func findingPlace(file string, line int) string {
	switch {
	case file != "" && line > 0:
		return fmt.Sprintf(" (%s:%d)", file, line)
	case file != "":
		return " (" + file + ")"
	case line > 0:
		return fmt.Sprintf(" (line %d)", line)
	}
	return ""
}

// DefaultMaxInput is the default cap on standard input of post-render and
// fn: some hundred times a large chart's output. post-render's peak memory
// is about 25 times its YAML (fn, which holds the whole decoded list,
// more), so the cap also bounds memory; --max-input raises it.
const DefaultMaxInput int64 = 32 << 20

// addMaxInputFlag adds --max-input.
func addMaxInputFlag(cmd *cobra.Command, v *int64) {
	cmd.Flags().Int64Var(v, "max-input", DefaultMaxInput,
		"largest standard input read, in bytes (more is refused, which bounds memory: post-render peaks at about 25 times its input)")
}

// validateMaxInput checks --max-input.
func validateMaxInput(n int64) error {
	if n <= 0 {
		return failed(ExitError, fmt.Errorf("--max-input %d: give a positive number of bytes", n))
	}
	return nil
}

// inputCode is the exit code of a failed read of standard input: too much
// input is the user's input, a failed read is not.
func inputCode(err error) int {
	var le *input.LimitError
	if errors.As(err, &le) {
		return ExitFailed
	}
	return ExitError
}

// tuneGC lets the heap grow to one and a half times the live data instead
// of the default twice: the patch holds the input, the facts of its first
// pass, the findings and the encoded output, about 13 times the YAML at
// most, and the collector's headroom is on top of that. GOGC in the
// environment wins.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
