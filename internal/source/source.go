package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/postrender"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/input"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// KubeVersion is the Kubernetes version Helm charts are rendered for when
// the topology does not say otherwise.
const KubeVersion = "v1.35.4"

// File is YAML a source gives: one file of a folder source, named by its
// path (the topology's folder joined with the source's path and the file's
// name), or the whole output of a kustomize build or a Helm chart, with no
// name. It is what spread.ReadFiles reads.
type File = spread.File

// Options configures Load.
type Options struct {
	// KubeVersion is the cluster's version, for Helm's .Capabilities
	// (default KubeVersion).
	KubeVersion string
	// PostRenderer, when set, is run over a Helm chart's output as Helm's
	// post-renderer.
	PostRenderer postrender.PostRenderer
	// TopologyFile is the topology file: a folder source that holds it is
	// refused rather than read as workloads.
	TopologyFile string
	// AllowRemoteBases lets a kustomize source fetch remote bases and
	// resources (git repositories, https URLs). Without it they are
	// refused before anything is fetched.
	AllowRemoteBases bool
}

// Load renders one source to YAML: a folder's files in name order, or the
// single stream of a kustomize build or a Helm chart. Paths are relative
// to baseDir, the folder of the topology file; an absolute path, a chart
// URL, a symbolic link that leads out of the source's folder and a folder
// that holds the topology file are refused. A Helm chart is rendered
// twice, and one whose output differs (randAlphaNum, now) is refused.
func Load(ctx context.Context, baseDir string, src v1alpha1.Source, opts Options) ([]File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.KubeVersion == "" {
		opts.KubeVersion = KubeVersion
	}
	if err := Check(baseDir, src, opts); err != nil {
		return nil, err
	}
	var data []byte
	var err error
	switch {
	case src.Path != "":
		return loadFolder(filepath.Join(baseDir, src.Path))
	case src.Kustomize != "":
		data, err = unlessDone(ctx, func() ([]byte, error) { return loadKustomize(filepath.Join(baseDir, src.Kustomize)) })
	case src.Helm != nil:
		data, err = unlessDone(ctx, func() ([]byte, error) { return loadHelm(baseDir, src.Helm, opts) })
	default:
		return nil, errors.New("source sets none of path, kustomize and helm")
	}
	if err != nil {
		return nil, err
	}
	return []File{{Data: data}}, nil
}

// unlessDone runs load, which takes no context (Helm renders a template
// and kustomize builds a folder without watching one, and a template can
// loop for ever), in a goroutine of its own and returns ctx's error as soon
// as ctx ends. The abandoned goroutine runs on until the program exits,
// which the command does at once.
func unlessDone(ctx context.Context, load func() ([]byte, error)) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := load()
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// loadFolder reads the YAML files of a folder (not its subfolders),
// sorted by name.
func loadFolder(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read workloads folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && topology.IsManifestFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("workloads folder %s holds no .yaml or .yml file", dir)
	}
	files := make([]File, 0, len(names))
	for _, n := range names {
		name := filepath.Join(dir, n)
		data, err := input.ReadFile(name, input.ManifestLimit)
		if err != nil {
			return nil, fmt.Errorf("read workloads: %w", err)
		}
		files = append(files, File{Name: name, Data: data})
	}
	return files, nil
}

// loadKustomize builds a kustomize folder in-process, like kustomize build
// without plugins, each kustomization reading only files in its own folder.
func loadKustomize(dir string) ([]byte, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("kustomize folder: %w", err)
	}
	// kustomize reads the folder by itself: check its files first (files
	// it reaches outside the folder are not checked).
	if err := input.CheckTree(dir, input.TreeLimit); err != nil {
		return nil, fmt.Errorf("kustomize folder: %w", err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = kusttypes.LoadRestrictionsRootOnly
	k := krusty.MakeKustomizer(opts)
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, shortError(err))
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, shortError(err))
	}
	return out, nil
}

// loadHelm renders a local chart (a folder or a .tgz) client-side, with
// its values files merged in order, like helm template. It renders it
// twice and refuses a chart whose output differs, naming the objects.
func loadHelm(baseDir string, h *v1alpha1.HelmSource, opts Options) ([]byte, error) {
	chartPath := filepath.Join(baseDir, h.Chart)
	if _, err := os.Stat(chartPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("helm chart %s: not found (only local charts, folders or .tgz files, are rendered; run helm pull first)", chartPath)
	}
	// Helm's loader reads the chart by itself: check its files first.
	if err := input.CheckTree(chartPath, input.TreeLimit); err != nil {
		return nil, fmt.Errorf("helm chart: %w", err)
	}
	chrt, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("load helm chart %s: %w", chartPath, shortError(err))
	}
	vals := map[string]any{}
	for _, f := range h.ValuesFiles {
		name := filepath.Join(baseDir, f)
		data, err := input.ReadFile(name, input.ManifestLimit)
		if err != nil {
			return nil, fmt.Errorf("helm values: %w", shortError(err))
		}
		v, err := chartutil.ReadValues(data)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			return nil, fmt.Errorf("helm values: %w", err)
		}
		vals = chartutil.CoalesceTables(v.AsMap(), vals)
	}
	kv, err := chartutil.ParseKubeVersion(opts.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kube version %q: %w", opts.KubeVersion, err)
	}
	render := func() (string, error) {
		install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
		install.DryRun = true
		install.ClientOnly = true
		install.Replace = true
		install.IncludeCRDs = true
		install.DisableHooks = true
		install.ReleaseName = h.Release
		install.Namespace = h.Namespace
		install.KubeVersion = kv
		install.PostRenderer = opts.PostRenderer
		// Helm coalesces the values into the map it is given: each render
		// gets its own copy.
		rel, err := install.Run(chrt, copyValues(vals))
		if err != nil {
			return "", fmt.Errorf("render helm chart %s: %w", h.Chart, shortError(err))
		}
		return rel.Manifest, nil
	}
	first, err := render()
	if err != nil {
		return nil, err
	}
	second, err := render()
	if err != nil {
		return nil, err
	}
	if first != second {
		return nil, fmt.Errorf("helm chart %s is not reproducible: two renders differ in %s; a template that uses randAlphaNum, uuidv4, now or lookup makes every render (and render --check) differ: set the value in a values file instead",
			h.Chart, diffObjects([]byte(first), []byte(second)))
	}
	return withNamespace(h.Namespace, []byte(first))
}

// withNamespace prepends the release's Namespace, as helm install
// --create-namespace would create it, unless the chart defines it.
func withNamespace(ns string, manifest []byte) ([]byte, error) {
	if ns == "" || ns == "default" {
		return manifest, nil
	}
	objs, err := (&kio.ByteReader{Reader: bytes.NewReader(manifest), OmitReaderAnnotations: true}).Read()
	if err != nil {
		return nil, fmt.Errorf("helm output: %w", err)
	}
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GetApiVersion() == "v1" && o.GetName() == ns {
			return manifest, nil
		}
	}
	// The object's identity only: corev1.Namespace would add empty spec
	// and status.
	head, err := yaml.Marshal(struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}{metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, metav1.ObjectMeta{Name: ns}})
	if err != nil {
		return nil, err
	}
	return append(append(head, "---\n"...), manifest...), nil
}
