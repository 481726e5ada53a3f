package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/check"
)

// errNoKubeconfig is the error of verify and diff when no kubeconfig says
// where the cluster is: client-go would silently use localhost:8080.
var errNoKubeconfig = errors.New("no kubeconfig found: give one with --kubeconfig FILE, the KUBECONFIG " +
	"environment variable or ~/.kube/config, or name the API server with --server")

// clusterConfig returns the client configuration of the live commands
// from the cluster connection flags. Without a kubeconfig (no file, no
// cluster in it, not in a pod) it refuses rather than talk to
// localhost:8080, unless --server names the API server. A request
// without --request-timeout times out after check.DefaultRequestTimeout.
func clusterConfig(kube genericclioptions.RESTClientGetter) (*rest.Config, error) {
	if kube == nil {
		return nil, errors.New("no cluster connection flags")
	}
	cf, _ := kube.(*genericclioptions.ConfigFlags)
	server := cf != nil && cf.APIServer != nil && *cf.APIServer != ""
	if !server && os.Getenv("KUBERNETES_MASTER") == "" {
		raw, err := kube.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		if len(raw.Clusters) == 0 {
			if _, err := rest.InClusterConfig(); err != nil {
				return nil, errNoKubeconfig
			}
		}
	}
	cfg, err := kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster connection: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = check.DefaultRequestTimeout
	}
	return cfg, nil
}

// probeCluster fails at once, with one message, when the API server at
// cfg cannot be reached (check.Probe: one request, check.ProbeTimeout at
// most).
func probeCluster(ctx context.Context, cfg *rest.Config) error {
	client, err := check.NewClient(cfg)
	if err != nil {
		return err
	}
	return client.Probe(ctx)
}

// snapshotMemoryLimit is the soft limit on the Go heap of the commands
// that read a snapshot (verify, drill).
const snapshotMemoryLimit = 320 << 20

// takeSnapshot reads the live cluster once for a read-only command
// (verify, drill): the client configuration from the connection flags,
// the /version probe, then one paginated LIST per kind (chunk 0 means one
// request per kind). Its errors are ExitError, worded with the command's
// name.
func takeSnapshot(ctx context.Context, command string, kube genericclioptions.RESTClientGetter, chunk int64) (*check.Snapshot, *rest.Config, error) {
	return takeSnapshotOf(ctx, command, kube, chunk, nil)
}

// takeSnapshotOf is takeSnapshot listing the given kinds (nil: verify's).
func takeSnapshotOf(ctx context.Context, command string, kube genericclioptions.RESTClientGetter, chunk int64, kinds []check.Kind) (*check.Snapshot, *rest.Config, error) {
	cfg, err := clusterConfig(kube)
	if err != nil {
		return nil, nil, failed(ExitError, err)
	}
	// The snapshot is decoded page by page while earlier pages stay live:
	// a soft limit keeps the collector's headroom from doubling the peak
	// on large clusters (and costs nothing on small ones). GOMEMLIMIT in
	// the environment wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(snapshotMemoryLimit)
	}
	client, err := check.NewClient(cfg)
	if err != nil {
		return nil, nil, failed(ExitError, err)
	}
	if chunk == 0 {
		chunk = -1 // check.Options: negative means one request per kind
	}
	if err := client.Probe(ctx); err != nil {
		return nil, nil, failed(ExitError, fmt.Errorf("%s: %w", command, err))
	}
	snap, err := check.Take(ctx, client, check.Options{ChunkSize: chunk, Kinds: kinds})
	if err != nil {
		return nil, nil, failed(ExitError, fmt.Errorf("%s: %w", command, err))
	}
	return snap, cfg, nil
}
