package sim

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/crds"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// DefaultNodeMonitorGracePeriod is the default of
// ClusterOptions.NodeMonitorGracePeriod. Kubernetes' own default is 50 s.
const DefaultNodeMonitorGracePeriod = 20 * time.Second

// Components of a Cluster, in start order, besides one kwok per region
// (named KwokPrefix + region).
const (
	ControllerManagerName = "kube-controller-manager"
	SchedulerName         = "kube-scheduler"
	KwokPrefix            = "kwok-"
	kwokName              = "kwok"
	kwokStagesDir         = "kwok-stages"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// Options configures the control plane; StateDir receives the state of
	// every component.
	Options
	// Topology is the cluster to simulate: a Node per topology node, a kwok
	// per region. Required.
	Topology *topology.Model
	// NodeMonitorGracePeriod is how long kube-controller-manager waits for
	// a node's heartbeat before it marks the node NotReady (its
	// --node-monitor-grace-period); after Fail, a region's nodes turn
	// NotReady within about this long. It is also kwok's node lease
	// duration. Zero means DefaultNodeMonitorGracePeriod.
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout is how long pods without tolerations of their own
	// stay on a NotReady node before they are evicted (kube-apiserver's
	// --default-not-ready-toleration-seconds and
	// --default-unreachable-toleration-seconds). Zero means Kubernetes'
	// default, DefaultPodEvictionTimeout.
	PodEvictionTimeout time.Duration

	// withoutRookCRDs leaves Rook's CRDs out: with Flux, the rook-ceph
	// chart that helm-controller installs brings them, and Helm refuses to
	// take over CRDs that it did not create.
	withoutRookCRDs bool
}

// DefaultPodEvictionTimeout is the default of
// ClusterOptions.PodEvictionTimeout, Kubernetes' own (300 s).
const DefaultPodEvictionTimeout = 5 * time.Minute

// Cluster is a simulated stretched cluster: a ControlPlane (etcd and
// kube-apiserver) plus kube-controller-manager, kube-scheduler and one kwok
// per region, the topology's Nodes, and the CRDs a rendered bundle uses
// (Rook, Flux, the project's FelixConfiguration).
//
// Its methods are safe for concurrent use. Stop (of the embedded
// ControlPlane) stops every component, kwoks included.
type Cluster struct {
	*ControlPlane
	model   *topology.Model
	client  kubernetes.Interface
	grace   time.Duration
	kwokBin string
	stages  []string

	kwokMu sync.Mutex          // serialises Fail and Heal
	kwok   map[string]*process // the running kwok of each region

	deschedMu sync.Mutex // serialises StartDescheduler and StopDescheduler
	desched   *process   // the descheduler, when started
}

// StartCluster starts a simulated cluster for opts.Topology and returns
// once every node is Ready and untainted (the scheduler uses it) and the
// CRDs are established. ctx bounds the start only. On error, every
// component already started is stopped.
//
// A missing binary or kwok stage folder gives a *MissingBinaryError
// ("... not found: run make testbin").
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Topology == nil || len(opts.Topology.Regions) == 0 {
		return nil, errors.New("start cluster: ClusterOptions.Topology is required and needs regions")
	}
	if opts.NodeMonitorGracePeriod == 0 {
		opts.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if opts.NodeMonitorGracePeriod < 4*time.Second {
		return nil, fmt.Errorf("start cluster: NodeMonitorGracePeriod %s is too short (at least 4s)", opts.NodeMonitorGracePeriod)
	}
	if opts.PodEvictionTimeout == 0 {
		opts.PodEvictionTimeout = DefaultPodEvictionTimeout
	}
	if opts.PodEvictionTimeout < time.Second {
		return nil, fmt.Errorf("start cluster: PodEvictionTimeout %s is too short (at least 1s)", opts.PodEvictionTimeout)
	}
	seconds := strconv.Itoa(int(opts.PodEvictionTimeout / time.Second))
	opts.apiserverArgs = append(slices.Clip(opts.apiserverArgs),
		"--default-not-ready-toleration-seconds="+seconds,
		"--default-unreachable-toleration-seconds="+seconds)
	if opts.BinDir == "" {
		dir, err := DefaultBinDir()
		if err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		opts.BinDir = dir
	}
	// Find everything before starting anything.
	bins := map[string]string{}
	for _, name := range []string{"etcd", "kube-apiserver", ControllerManagerName, SchedulerName, kwokName} {
		path, err := binary(opts.BinDir, name)
		if err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		bins[name] = path
	}
	stages, err := kwokStages(opts.BinDir)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	crdDocs, err := bundleCRDs(opts.BinDir, !opts.withoutRookCRDs)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}

	cp, err := StartControlPlane(ctx, opts.Options)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	own, err := writeOwnStages(cp.opts.StateDir)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start cluster: %w", err), cp.Stop())
	}
	stages = append(stages, own...)
	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start cluster: %w", err), cp.Stop())
	}
	c := &Cluster{
		ControlPlane: cp,
		model:        opts.Topology,
		client:       client,
		grace:        opts.NodeMonitorGracePeriod,
		kwokBin:      bins[kwokName],
		stages:       stages,
		kwok:         map[string]*process{},
	}
	if err := c.start(ctx, bins, crdDocs); err != nil {
		return nil, errors.Join(fmt.Errorf("start cluster: %w", err), c.Stop())
	}
	return c, nil
}

// start brings up everything after the control plane.
func (c *Cluster) start(ctx context.Context, bins map[string]string, crdDocs [][]byte) error {
	if err := c.startControllerManager(ctx, bins[ControllerManagerName]); err != nil {
		return err
	}
	if err := c.startScheduler(ctx, bins[SchedulerName]); err != nil {
		return err
	}
	if err := c.startNodes(ctx); err != nil {
		return err
	}
	// kube-controller-manager lifts the nodes' not-ready taints a few
	// seconds after kwok made them Ready: install the CRDs meanwhile.
	crdDone := make(chan error, 1)
	go func() { crdDone <- c.InstallCRDs(ctx, crdDocs...) }()
	start := time.Now()
	var errs []error
	for _, r := range c.model.Regions {
		if err := c.waitUsable(ctx, r.Name); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if len(errs) == 0 {
		c.logf("%d nodes untainted %s later", len(c.model.Nodes), since(start))
	}
	return errors.Join(append(errs, <-crdDone)...)
}

// waitUsable waits, at most StartTimeout, until kube-controller-manager has
// lifted the not-ready taints of region's Ready nodes.
func (c *Cluster) waitUsable(ctx context.Context, region string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	if err := waitRegion(ctx, c.client, c.model, region, nodesUsable); err != nil {
		return fmt.Errorf("wait for the nodes of region %s: %w", region, err)
	}
	return nil
}

// startNodes creates the topology's nodes and starts one kwok per region.
func (c *Cluster) startNodes(ctx context.Context) error {
	start := time.Now()
	if err := createNodes(ctx, c.client, c.model); err != nil {
		return err
	}
	c.logf("%d nodes created in %s", len(c.model.Nodes), since(start))
	c.kwokMu.Lock()
	defer c.kwokMu.Unlock()
	for _, r := range c.model.Regions {
		if err := c.startKwok(ctx, r.Name); err != nil {
			return err
		}
	}
	c.logf("%d nodes Ready in %s", len(c.model.Nodes), since(start))
	return nil
}

// Model returns the topology model the cluster simulates.
func (c *Cluster) Model() *topology.Model {
	return c.model
}

// Fail simulates the loss of region: it stops the region's kwok, so that
// its nodes stop renewing their leases. kube-controller-manager marks them
// NotReady within NodeMonitorGracePeriod and taints them; WaitRegion waits
// for that. Fail returns once kwok has exited. Failing a failed region does
// nothing.
func (c *Cluster) Fail(_ context.Context, region string) error {
	if err := checkRegion(c.model, region); err != nil {
		return err
	}
	c.kwokMu.Lock()
	defer c.kwokMu.Unlock()
	p := c.kwok[region]
	if p == nil {
		c.logf("region %s is already failed", region)
		return nil
	}
	if err := p.stop(c.opts.StopTimeout); err != nil {
		return fmt.Errorf("fail region %s: %w", region, err)
	}
	delete(c.kwok, region)
	c.forget(p)
	c.logf("region %s failed: %s stopped, its nodes turn NotReady within %s", region, p.name, c.grace)
	return nil
}

// Heal ends a simulated region loss: it starts the region's kwok again and
// returns once the region's nodes are Ready and kube-controller-manager has
// lifted their taints. Healing a region that is not failed does nothing; a
// kwok that exited on its own counts as failed.
func (c *Cluster) Heal(ctx context.Context, region string) error {
	if err := checkRegion(c.model, region); err != nil {
		return err
	}
	c.kwokMu.Lock()
	defer c.kwokMu.Unlock()
	if p := c.kwok[region]; p != nil {
		if !p.exited() {
			c.logf("region %s is not failed", region)
			return nil
		}
		delete(c.kwok, region)
		c.forget(p)
	}
	// A new kwok would wait until the old one's node leases expire.
	if err := deleteLeases(ctx, c.client, c.model, region); err != nil {
		return fmt.Errorf("heal region %s: %w", region, err)
	}
	if err := c.startKwok(ctx, region); err != nil {
		return fmt.Errorf("heal region %s: %w", region, err)
	}
	if err := c.waitUsable(ctx, region); err != nil {
		return fmt.Errorf("heal region %s: %w", region, err)
	}
	return nil
}

// Failed lists the regions that are failed, in topology order.
func (c *Cluster) Failed() []string {
	c.kwokMu.Lock()
	defer c.kwokMu.Unlock()
	var out []string
	for _, r := range c.model.Regions {
		if c.kwok[r.Name] == nil {
			out = append(out, r.Name)
		}
	}
	return out
}

// WaitRegion waits until every node of region is Ready and free of the
// not-ready and unreachable taints (ready true), or not Ready (ready
// false), or ctx ends.
func (c *Cluster) WaitRegion(ctx context.Context, region string, ready bool) error {
	if err := checkRegion(c.model, region); err != nil {
		return err
	}
	return waitRegion(ctx, c.client, c.model, region, wanted(ready))
}

// startKwok starts the kwok of region and waits until its nodes are Ready.
// The caller holds kwokMu.
func (c *Cluster) startKwok(ctx context.Context, region string) error {
	spec, err := c.kwokSpec(region)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	ready := func(ctx context.Context) error { return regionState(ctx, c.client, c.model, region, nodesReady) }
	p, err := c.launch(ctx, spec, ready, time.Now())
	if p != nil {
		c.kwok[region] = p
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", spec.name, err)
	}
	return nil
}

// bundleCRDs reads the CRDs a rendered bundle uses: Rook's (unless withRook
// is false) and Flux's from binDir/crds (fetched by make testbin) and our
// FelixConfiguration.
func bundleCRDs(binDir string, withRook bool) ([][]byte, error) {
	docs := [][]byte{crds.FelixConfiguration()}
	if withRook {
		rook := filepath.Join(binDir, "crds", "rook", "crds.yaml")
		data, err := os.ReadFile(rook)
		if errors.Is(err, os.ErrNotExist) {
			return nil, &MissingBinaryError{Path: rook}
		} else if err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	flux, err := filepath.Glob(filepath.Join(binDir, "crds", "flux", "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(flux) == 0 {
		return nil, &MissingBinaryError{Path: filepath.Join(binDir, "crds", "flux")}
	}
	slices.Sort(flux)
	for _, f := range flux {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	return docs, nil
}

// kwokStages lists the stage files kwok plays (make testbin copies them
// from the kwok module).
func kwokStages(binDir string) ([]string, error) {
	dir := filepath.Join(binDir, kwokStagesDir)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &MissingBinaryError{Path: dir}
	}
	slices.Sort(files)
	return files, nil
}

// ownStages holds the kwok stages of this project (see stages/*.yaml).
//
//go:embed stages/*.yaml
var ownStages embed.FS

// writeOwnStages writes the project's own kwok stages into
// stateDir/kwok/stages and returns their paths.
func writeOwnStages(stateDir string) ([]string, error) {
	dir := filepath.Join(stateDir, "kwok", "stages")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	entries, err := ownStages.ReadDir("stages")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		data, err := ownStages.ReadFile("stages/" + e.Name())
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, e.Name())
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("write kwok stage: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// checkRegion fails unless region is one of the model's regions.
func checkRegion(m *topology.Model, region string) error {
	var names []string
	for _, r := range m.Regions {
		if r.Name == region {
			return nil
		}
		names = append(names, r.Name)
	}
	return fmt.Errorf("unknown region %q (regions: %s)", region, strings.Join(names, ", "))
}
