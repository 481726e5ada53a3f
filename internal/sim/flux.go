package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/gitserver"
	"github.com/stretch-dev/kubectl-stretch/internal/input"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// Names of the Flux part of a detached cluster (Up with FluxOptions).
const (
	// GitServerName is the process that serves the Git repository.
	GitServerName = "git-server"
	// FluxNamespace holds Flux's own objects, as flux bootstrap makes it.
	FluxNamespace = "flux-system"
	// GitRepositoryName is the served repository: GitURL ends in
	// /GitRepositoryName.git.
	GitRepositoryName = "flux-system"
	// gitDir, in the state folder, holds the bare repositories.
	gitDir = "git"
	// fluxDir, in the state folder, holds source-controller's artifacts.
	fluxDir = "flux"
	// FluxSourceInterval is how often source-controller fetches the
	// repository (flux bootstrap: 1m; the server is on loopback).
	FluxSourceInterval = 10 * time.Second
	// fluxRequeueDependency is how soon kustomize- and helm-controller
	// look again at an object whose dependencies are not ready (Flux's
	// default: 30s), so that the stages follow each other in seconds.
	fluxRequeueDependency = 2 * time.Second
)

// FluxControllers are Flux's controllers that Up starts with FluxOptions,
// in start order; each binary is bin/testbin/<name>.
var FluxControllers = []string{"source-controller", "kustomize-controller", "helm-controller"}

// FluxOptions makes Up run Flux: a Git server on loopback with an empty
// repository, Flux's source-, kustomize- and helm-controller against the
// simulated API server, and the GitRepository and root Kustomization that
// flux bootstrap would create.
type FluxOptions struct {
	// Serve is the command line of the process that serves the
	// repository, such as [kubectl-stretch sim serve --state DIR]; Up
	// appends --listen=127.0.0.1:PORT. Required.
	Serve []string
	// Path is the topology's spec.gitops.path, the bundle's folder from the
	// repository root: the root Kustomization applies Path/flux.
	Path string
	// SourceName is the topology's spec.gitops.sourceName: the name of the
	// GitRepository that the bundle's Kustomizations follow, and of the
	// root Kustomization. Empty means topology.DefaultGitOpsSource,
	// flux-system, as flux bootstrap names them.
	SourceName string
}

var (
	gitRepositoryResource = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizationResource = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// ChartsPath is the URL path under which the Git server's process also
// serves the chart repository: ChartsURL is GitURL's host + ChartsPath.
const ChartsPath = "/charts"

// ChartsDir, in the state folder, holds the chart repository that the
// serving process builds (kubectl-stretch sim serve).
const ChartsDir = "charts"

// Serve serves, on addr until ctx ends, the bare repositories of
// stateDir/git (creating GitRepositoryName first; an existing one keeps its
// history) and, under ChartsPath, charts: the chart repository (a
// chartrepo.Handler). Only requests for a loopback host are answered. It is
// the body of the process that Up starts as GitServerName.
func Serve(ctx context.Context, stateDir, addr string, charts http.Handler) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("serve: %s is not a loopback address: the repository accepts anonymous pushes", addr)
	}
	git, err := gitserver.New(filepath.Join(stateDir, gitDir))
	if err != nil {
		return err
	}
	if _, err := git.Init(GitRepositoryName); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", git)
	mux.Handle(ChartsPath+"/", http.StripPrefix(ChartsPath, charts))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// The Git server checks the Host itself; the charts need it too.
	srv := &http.Server{Handler: gitserver.LoopbackOnly(mux), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// fluxBinaries finds the Flux controllers' binaries in binDir.
func fluxBinaries(binDir string) (map[string]string, error) {
	bins := map[string]string{}
	for _, name := range FluxControllers {
		p, err := binary(binDir, name)
		if err != nil {
			return nil, err
		}
		bins[name] = p
	}
	return bins, nil
}

// startFlux starts the Git and chart server and Flux's controllers, then
// creates the flux-system namespace, GitRepository and root Kustomization.
// It returns the repository's clone URL and the chart repository's URL.
func (c *Cluster) startFlux(ctx context.Context, opts FluxOptions, bins map[string]string) (string, string, error) {
	if len(opts.Serve) == 0 {
		return "", "", errors.New("start Flux: FluxOptions.Serve is required")
	}
	httpClient := &http.Client{Timeout: 2 * time.Second}
	var gitURL, chartsURL string
	err := c.startWithFreePortsEnv(ctx, GitServerName, opts.Serve[0], nil, 1, func(ports []int) ([]string, func(context.Context) error, error) {
		addr := net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[0]))
		gitURL = "http://" + addr + "/" + GitRepositoryName + ".git"
		chartsURL = "http://" + addr + ChartsPath
		args := append(append([]string{}, opts.Serve[1:]...), "--listen="+addr)
		ready := func(ctx context.Context) error {
			if err := get(ctx, httpClient, gitURL+"/info/refs?service=git-upload-pack", "git-upload-pack"); err != nil {
				return err
			}
			return get(ctx, httpClient, chartsURL+"/index.yaml", "apiVersion")
		}
		return args, ready, nil
	})
	if err != nil {
		return "", "", err
	}
	storage := filepath.Join(c.opts.StateDir, fluxDir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return "", "", fmt.Errorf("start source-controller: %w", err)
	}
	for _, name := range FluxControllers {
		kubeconfig, err := c.componentCredentials(name, "kubectl-stretch-"+name, mastersGroup)
		if err != nil {
			return "", "", fmt.Errorf("start %s: %w", name, err)
		}
		env := []string{"KUBECONFIG=" + kubeconfig, "RUNTIME_NAMESPACE=" + FluxNamespace}
		n := 2
		if name == "source-controller" {
			n = 3
		}
		err = c.startWithFreePortsEnv(ctx, name, bins[name], env, n, func(ports []int) ([]string, func(context.Context) error, error) {
			addr := func(i int) string { return net.JoinHostPort(loopbackIPv4, strconv.Itoa(ports[i])) }
			args := []string{
				"--metrics-addr=" + addr(0),
				"--health-addr=" + addr(1),
				"--enable-leader-election=false",
				"--watch-all-namespaces=true",
				"--log-encoding=console",
			}
			if name == "source-controller" {
				args = append(args,
					"--storage-path="+storage,
					"--storage-addr="+addr(2),
					"--storage-adv-addr="+addr(2))
			} else {
				args = append(args, "--requeue-dependency="+fluxRequeueDependency.String())
			}
			ready := func(ctx context.Context) error {
				return get(ctx, httpClient, "http://"+addr(1)+"/readyz", "ok")
			}
			return args, ready, nil
		})
		if err != nil {
			return "", "", err
		}
	}
	if err := c.bootstrapFlux(ctx, gitURL, opts); err != nil {
		return "", "", fmt.Errorf("start Flux: %w", err)
	}
	return gitURL, chartsURL, nil
}

// FluxRootPath is the path, from the repository root, that the root
// Kustomization applies for a topology's spec.gitops.path: the bundle's
// flux/ folder, which holds the stages' Kustomizations.
func FluxRootPath(gitopsPath string) string {
	return "./" + path.Join(gitopsPath, "flux")
}

// bootstrapFlux creates what flux bootstrap would: the namespace, the
// GitRepository of the served repository and the root Kustomization, both
// named opts.SourceName.
func (c *Cluster) bootstrapFlux(ctx context.Context, gitURL string, opts FluxOptions) error {
	name := opts.SourceName
	if name == "" {
		name = topology.DefaultGitOpsSource
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: FluxNamespace}}
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", FluxNamespace, err)
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: FluxNamespace}
	repo := &flux.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: flux.GitRepositoryAPIVersion, Kind: "GitRepository"},
		ObjectMeta: meta,
		Spec: flux.GitRepositorySpec{
			URL:       gitURL,
			Interval:  FluxSourceInterval.String(),
			Reference: &flux.GitRepositoryRef{Branch: gitserver.DefaultBranch},
		},
	}
	root := &flux.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: flux.KustomizationAPIVersion, Kind: "Kustomization"},
		ObjectMeta: meta,
		Spec: flux.KustomizationSpec{
			Interval:  "10m0s",
			Path:      FluxRootPath(opts.Path),
			Prune:     true,
			SourceRef: flux.CrossNamespaceRef{Kind: "GitRepository", Name: name},
		},
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj any
	}{{gitRepositoryResource, repo}, {kustomizationResource, root}} {
		data, err := json.Marshal(o.obj)
		if err != nil {
			return err
		}
		_, err = dyn.Resource(o.gvr).Namespace(FluxNamespace).Patch(ctx, name, types.ApplyPatchType, data, metav1.PatchOptions{
			FieldManager:    FieldManager,
			Force:           new(true),
			FieldValidation: metav1.FieldValidationStrict,
		})
		if err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", o.gvr.Resource, FluxNamespace, name, err)
		}
	}
	return nil
}

// ChartMirrors name chartsURL, the simulated cluster's chart repository,
// as the mirror of every HelmRepository the bundle of m has.
func ChartMirrors(m *topology.Model, chartsURL string) []v1alpha1.ChartMirror {
	var mirrors []v1alpha1.ChartMirror
	for _, name := range topology.HelmRepositoryNames(m.Storage.RookVersion) {
		mirrors = append(mirrors, v1alpha1.ChartMirror{Name: name, URL: chartsURL})
	}
	return mirrors
}

// WriteMirroredTopology writes dst, a copy of the topology file src (whose
// model is m, as loaded) whose spec.gitops.chartMirrors name chartsURL (see
// ChartMirrors), its comments and everything else kept; dst replaces any
// file there at once, never half-written. dst must be in src's folder,
// which its relative paths (workload sources, mixins) start from, and must
// not be src.
func WriteMirroredTopology(src, dst string, m *topology.Model, chartsURL string) error {
	if err := CheckMirroredTopologyPath(src, dst); err != nil {
		return err
	}
	data, err := input.ReadFile(src, input.TopologyLimit)
	if err != nil {
		return fmt.Errorf("write the mirrored topology: %w", err)
	}
	out, err := topology.WithChartMirrors(data, src, ChartMirrors(m, chartsURL))
	if err != nil {
		return fmt.Errorf("write the mirrored topology: %w", err)
	}
	if err := writeFileAtomic(filepath.Dir(dst), filepath.Base(dst), out, 0o644); err != nil {
		return fmt.Errorf("write the mirrored topology: %w", err)
	}
	return nil
}

// CheckMirroredTopologyPath refuses a mirrored topology dst outside the
// folder of the topology src, or src itself.
func CheckMirroredTopologyPath(src, dst string) error {
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	switch {
	case absDst == absSrc:
		return fmt.Errorf("the mirrored topology %s would replace the topology itself: name another file in its folder, like sim.yaml", dst)
	case filepath.Dir(absDst) != filepath.Dir(absSrc):
		return fmt.Errorf("the mirrored topology %s must be in the folder of the topology %s (%s), where its relative paths start", dst, src, filepath.Dir(absSrc))
	}
	return nil
}
