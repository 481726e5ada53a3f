package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
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
	// ExternalDiff is KUBECTL_EXTERNAL_DIFF; external is it parsed.
	ExternalDiff string
	external     *externalDiff
	kube         *genericclioptions.ConfigFlags
}

// NewCmdDiff returns the diff command.
func NewCmdDiff(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DiffOptions{IOStreams: streams, kube: kube}
	cmd := &cobra.Command{
		Use:   "diff -f TOPOLOGY",
		Short: "Show how the live cluster differs from the rendered bundle",
		Long: `Render the bundle in memory and show what Flux's kustomize-controller would
change in the live cluster when it applies it (nothing changes in the
cluster): every Kubernetes object is server-side applied as a dry run with
Flux's field manager (kustomize-controller) and rules. Each object gets its
Flux Kustomization's owner labels; objects marked
kustomize.toolkit.fluxcd.io/reconcile: disabled or ssa: Ignore (or ssa:
IfNotPresent, once present) are skipped; an immutable field change is shown
as a recreate when the Kustomization has spec.force or the object
kustomize.toolkit.fluxcd.io/force: enabled, and is an error otherwise; the
fields kubectl (or kubectl-stretch) owns are taken over, so those the bundle
no longer sets are removed, with kubectl's last-applied-configuration
annotation. Managed fields, status and server-set metadata are left out.
Objects the cluster does not have yet are shown as new.

KUBECTL_EXTERNAL_DIFF, as for kubectl diff, names a program (and its
arguments, split on spaces: letters, digits, - and = only) that is run on two
folders, LIVE-* and MERGED-*, holding one file per object named
group.version.kind.namespace.name; its output is diff's. Without it diff
prints a unified diff per object.

An API server that cannot be reached fails diff within 10 s with one message
(one GET /version first). Each request has --request-timeout (30 s when not
given); the first one left unanswered stops the diff, and the objects not
compared are counted. A diff with objects that could not be compared ends
with "PARTIAL DIFF" on stderr. Without a kubeconfig, diff refuses unless
--server names the API server.

Exit status, as kubectl diff: 0 no differences, 1 differences, 2 or more an
error (a KUBECTL_EXTERNAL_DIFF program's status above 1 included).`,
		Example: `  kubectl stretch diff -f topology.yaml
  kubectl stretch diff -f topology.yaml --context prod-eu
  KUBECTL_EXTERNAL_DIFF="diff -u -N -r" kubectl stretch diff -f topology.yaml`,
		Args: cobra.NoArgs,
		RunE: runSteps(o),
	}
	o.topologyFlag.AddFlags(cmd)
	cmd.Flags().StringArrayVar(&o.Mixins, "mixin", nil, "Jsonnet file merged over the layers' output, as in render")
	cmd.Flags().StringVar(&o.Blueprints, "blueprints", "", "folder whose Jsonnet files replace the embedded blueprints, as in render")
	cmd.Flags().BoolVar(&o.AllowRemoteBases, "allow-remote-bases", false, "let kustomize sources fetch remote bases and resources, as in render")
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY and reads KUBECTL_EXTERNAL_DIFF.
func (o *DiffOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	o.ExternalDiff = os.Getenv(ExternalDiffEnv)
	return nil
}

// Validate checks the flags and KUBECTL_EXTERNAL_DIFF.
func (o *DiffOptions) Validate() error {
	var errs []error
	if err := o.topologyFlag.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.ExternalDiff != "" {
		ext, err := parseExternalDiff(o.ExternalDiff)
		if err != nil {
			errs = append(errs, err)
		}
		o.external = ext
	}
	if len(errs) > 0 {
		return failed(ExitError, errors.Join(errs...))
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
	objs, err := FluxObjects(rendered.Bundle, f.Topology.Spec.GitOps)
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
	diffs, err := apply.DiffFlux(ctx, cfg, objs)
	if err != nil {
		return failed(ExitError, err)
	}
	changed, missing, broken, stopped, skipped := 0, 0, 0, 0, 0
	for _, d := range diffs {
		switch {
		case errors.Is(d.Err, apply.ErrStopped):
			broken++
			stopped++
		case d.Err != nil:
			broken++
			fmt.Fprintf(o.ErrOut, "error: %s: %v\n", d, d.Err)
		case d.Skipped != "":
			skipped++
			fmt.Fprintf(o.ErrOut, "skipped: %s: %s\n", d, d.Skipped)
		case d.Diff != "":
			if d.Missing {
				missing++
			} else {
				changed++
			}
			if o.external == nil {
				fmt.Fprint(o.Out, d.Diff)
			}
		}
	}
	extCode := 0
	if o.external != nil {
		if extCode, err = o.external.run(ctx, diffs, o.Out, o.ErrOut); err != nil {
			return failed(ExitError, err)
		}
	}
	if stopped > 0 {
		fmt.Fprintf(o.ErrOut, "error: %d more object(s) %v\n", stopped, apply.ErrStopped)
	}
	fmt.Fprintf(o.ErrOut, "%d object(s): %d differ, %d missing from the cluster, %d skipped, %d could not be compared\n", len(diffs), changed, missing, skipped, broken)
	if broken > 0 {
		fmt.Fprintf(o.ErrOut, "PARTIAL DIFF: %d of %d objects could not be compared; the differences above are not all there are\n", broken, len(diffs))
	}
	switch {
	case broken > 0:
		return silentFailure(ExitError)
	case o.external != nil && extCode > 1:
		return failed(ExitError, fmt.Errorf("%s: %s exited %d", ExternalDiffEnv, o.external.program, extCode))
	case o.external != nil && extCode == 1:
		return silentFailure(ExitFailed)
	case o.external == nil && changed+missing > 0:
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

// FluxObjects decodes the Kubernetes objects of a bundle (ClusterObjects)
// with the Flux Kustomization that applies each: the bundle's stage whose
// path holds the object's file, or, for the files of no stage (the flux/
// folder), the root Kustomization that flux bootstrap creates, named like
// the GitRepository (spec.gitops.sourceName), in flux-system.
func FluxObjects(b *bundle.Bundle, g v1alpha1.GitOps) ([]apply.FluxObject, error) {
	type stage struct {
		dir, name, namespace string
		force                bool
	}
	var stages []stage
	var out []apply.FluxObject
	var files []string
	for _, f := range b.Files {
		if !layout.ClusterFile(f.Layer, f.Path) {
			continue
		}
		decoded, err := apply.Decode(f.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		for _, u := range decoded {
			if u.GetAPIVersion() == flux.KustomizationAPIVersion && u.GetKind() == "Kustomization" {
				var k flux.Kustomization
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &k); err != nil {
					return nil, fmt.Errorf("%s: %w", f.Path, err)
				}
				dir, err := filepath.Rel(path.Clean(g.Path), path.Clean(k.Spec.Path))
				if err != nil || !filepath.IsLocal(dir) {
					return nil, fmt.Errorf("%s: Kustomization %s applies %s, outside %s", f.Path, k.Name, k.Spec.Path, g.Path)
				}
				ns := k.Namespace
				if ns == "" {
					ns = fluxNamespace
				}
				stages = append(stages, stage{dir: filepath.ToSlash(dir), name: k.Name, namespace: ns, force: k.Spec.Force})
			}
			out = append(out, apply.FluxObject{Object: u})
			files = append(files, f.Path)
		}
	}
	for i := range out {
		best := stage{name: g.SourceName, namespace: fluxNamespace}
		for _, s := range stages {
			if (s.dir == "." || strings.HasPrefix(files[i], s.dir+"/")) && len(s.dir) >= len(best.dir) {
				best = s
			}
		}
		out[i].Kustomization, out[i].Namespace, out[i].Force = best.name, best.namespace, best.force
	}
	return out, nil
}

// fluxNamespace is where Flux runs and its Kustomizations live.
const fluxNamespace = "flux-system"
