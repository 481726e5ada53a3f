package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
)

// FieldManager is the server-side apply field manager of kubectl-stretch.
const FieldManager = "kubectl-stretch"

// DiffOptions compares the rendered bundle with the live cluster.
type DiffOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	Mixins     []string
	Blueprints string
	// AllowRemoteBases lets kustomize sources fetch remote bases.
	AllowRemoteBases bool
	kube             *genericclioptions.ConfigFlags
}

// NewCmdDiff returns the diff command.
func NewCmdDiff(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DiffOptions{IOStreams: streams, kube: kube}
	cmd := &cobra.Command{
		Use:   "diff -f TOPOLOGY",
		Short: "Show how the live cluster differs from the rendered bundle",
		Long: `Render the bundle in memory, server-side apply every Kubernetes object of it
as a dry run (nothing changes in the cluster), and print a unified diff per
object from the live object to what applying the bundle would make of it.
Managed fields, status and server-set metadata are left out. Objects the
cluster does not have yet are shown as new.

An API server that cannot be reached fails diff within 10 s with one message
(one GET /version first). Each request has --request-timeout (30 s when not
given); the first one left unanswered stops the diff, and the objects not
compared are counted. A diff with objects that could not be compared ends
with "PARTIAL DIFF" on stderr. Without a kubeconfig, diff refuses unless
--server names the API server.

Exit status, as kubectl diff: 0 no differences, 1 differences, 2 or more an
error.`,
		Example: `  kubectl stretch diff -f topology.yaml
  kubectl stretch diff -f topology.yaml --context prod-eu`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringArrayVar(&o.Mixins, "mixin", nil, "Jsonnet file merged over the layers' output, as in render")
	cmd.Flags().StringVar(&o.Blueprints, "blueprints", "", "folder whose Jsonnet files replace the embedded blueprints, as in render")
	cmd.Flags().BoolVar(&o.AllowRemoteBases, "allow-remote-bases", false, "let kustomize sources fetch remote bases and resources, as in render")
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY.
func (o *DiffOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	return nil
}

// Validate checks the flags.
func (o *DiffOptions) Validate() error {
	if err := o.topologyFlag.Validate(); err != nil {
		return failed(ExitError, err)
	}
	return nil
}

// Run renders, diffs and prints.
func (o *DiffOptions) Run(ctx context.Context) error {
	f, err := o.topologyFlag.LoadWithSources(o.ErrOut)
	if err != nil {
		return withCode(err, ExitError)
	}
	if err := checkSourceFiles(o.ErrOut, f, o.AllowRemoteBases); err != nil {
		return withCode(err, ExitError)
	}
	rendered, err := generators.Render(ctx, f.Topology, generators.Options{
		BlueprintsDir: o.Blueprints, Mixins: o.Mixins, BaseDir: filepath.Dir(f.Path),
		TopologyFile: f.Path, AllowRemoteBases: o.AllowRemoteBases,
	})
	if err != nil {
		return failed(ExitError, fmt.Errorf("%s: %w", o.File, err))
	}
	objs, err := ClusterObjects(rendered.Bundle)
	if err != nil {
		return failed(ExitError, err)
	}
	cfg, err := clusterConfig(o.kube)
	if err != nil {
		return failed(ExitError, err)
	}
	if err := probeCluster(ctx, cfg); err != nil {
		return failed(ExitError, fmt.Errorf("diff: %w", err))
	}
	diffs, err := apply.Diff(ctx, cfg, objs, FieldManager)
	if err != nil {
		return failed(ExitError, err)
	}
	changed, missing, broken, stopped := 0, 0, 0, 0
	for _, d := range diffs {
		switch {
		case errors.Is(d.Err, apply.ErrStopped):
			broken++
			stopped++
		case d.Err != nil:
			broken++
			fmt.Fprintf(o.ErrOut, "error: %s: %v\n", d, d.Err)
		case d.Diff != "":
			if d.Missing {
				missing++
			} else {
				changed++
			}
			fmt.Fprint(o.Out, d.Diff)
		}
	}
	if stopped > 0 {
		fmt.Fprintf(o.ErrOut, "error: %d more object(s) %v\n", stopped, apply.ErrStopped)
	}
	fmt.Fprintf(o.ErrOut, "%d object(s): %d differ, %d missing from the cluster, %d could not be compared\n", len(diffs), changed, missing, broken)
	if broken > 0 {
		fmt.Fprintf(o.ErrOut, "PARTIAL DIFF: %d of %d objects could not be compared; the differences above are not all there are\n", broken, len(diffs))
	}
	switch {
	case broken > 0:
		return silentFailure(ExitError)
	case changed+missing > 0:
		return silentFailure(ExitFailed)
	}
	return nil
}

// ClusterObjects decodes the Kubernetes objects of a bundle: every file
// the layer table calls a cluster file (not the Kubespray inventory, not
// the kustomization.yaml files).
func ClusterObjects(b *bundle.Bundle) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, f := range b.Files {
		if !layout.ClusterFile(f.Layer, f.Path) {
			continue
		}
		decoded, err := apply.Decode(f.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		objs = append(objs, decoded...)
	}
	return objs, nil
}
