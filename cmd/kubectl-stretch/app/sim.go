package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/chartrepo"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Defaults of the sim commands.
const (
	defaultSimUpTimeout   = 5 * time.Minute
	defaultSimWaitTimeout = 3 * time.Minute
)

// NewCmdSim returns the sim command group: a local simulated stretched
// cluster that outlives the command that starts it.
func NewCmdSim(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a local simulated stretched cluster: real control plane, simulated kubelets",
		Long: `Run a simulated stretched cluster on this machine, for rehearsals and tests:
real etcd, kube-apiserver, kube-scheduler and kube-controller-manager, and one
kwok per region playing the kubelets of the topology's nodes. Everything
listens on 127.0.0.1 and lives in one state folder (default .stretch-sim).

  sim up -f TOPOLOGY   start it and return once it is ready; it keeps running
  sim fail REGION      lose a region: its kwok stops and its nodes turn NotReady
  sim heal REGION      bring the region back
  sim down             stop every process of the cluster

The binaries come from bin/testbin (make testbin), --testbin DIR or
STRETCH_TESTBIN. See docs/SIMULATION.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newCmdSimUp(streams),
		newCmdSimFail(streams),
		newCmdSimHeal(streams),
		newCmdSimDown(streams),
		newCmdSimOperators(streams),
		newCmdSimServe(streams),
	)
	return cmd
}

// addStateFlag binds --state.
func addStateFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "state", sim.DefaultStateDir, "state folder of the simulated cluster")
	_ = cmd.MarkFlagDirname("state")
}

// SimUpOptions starts a detached simulated cluster.
type SimUpOptions struct {
	genericiooptions.IOStreams
	topologyFlag
	StateDir    string
	Operators   bool
	Flux        bool
	TestBin     string
	Timeout     time.Duration
	GracePeriod time.Duration
	Eviction    time.Duration
	// MirroredTopology is the copy of the topology that names the served
	// chart repository as its chart mirror (--mirrored-topology).
	MirroredTopology string

	executable string
}

func newCmdSimUp(streams genericiooptions.IOStreams) *cobra.Command {
	o := &SimUpOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "up -f TOPOLOGY [--state DIR] [--operators] [--flux [--mirrored-topology FILE]]",
		Short: "Start a simulated cluster of the topology and leave it running",
		Long: `Start a simulated cluster of the topology: etcd, kube-apiserver,
kube-scheduler, kube-controller-manager and one kwok per region, with the
topology's nodes (labels, taints, capacity) and the CRDs a rendered bundle uses
(Rook, Flux, Calico's FelixConfiguration). It returns once every node is Ready
and leaves the cluster running; the admin kubeconfig is DIR/kubeconfig.

With --operators, a simulated Calico and Rook run too (clearly labelled
stretch.dev/simulated=true), acting on the objects you apply: WireGuard
annotations on the nodes where FelixConfiguration enables WireGuard, the mon,
mgr and OSD pods of every applied CephCluster, built from its spec and placed
by kube-scheduler, and the status of every CephCluster and CephBlockPool,
following where those pods run.

With --flux, Flux's own source-controller, kustomize-controller and
helm-controller run too, with a server on 127.0.0.1 of a Git repository (one
empty commit on main; its clone URL is printed) and of the charts the bundle
installs, and the GitRepository and root Kustomization that flux bootstrap
would create, named after spec.gitops.sourceName (flux-system by default) and
pointing at the topology's spec.gitops.path + "/flux". --mirrored-topology
FILE writes a copy of the topology, in its folder, whose
spec.gitops.chartMirrors name the served charts: render it with --commit
into a clone, push, and Flux applies the bundle.`,
		Example: `  kubectl stretch sim up -f topology.yaml --operators --flux --mirrored-topology sim.yaml
  export KUBECONFIG=$PWD/.stretch-sim/kubeconfig
  kubectl get nodes -L topology.kubernetes.io/zone`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = runSteps(o)
	o.topologyFlag.AddFlags(cmd)
	addStateFlag(cmd, &o.StateDir)
	cmd.Flags().BoolVar(&o.Operators, "operators", false, "also run the simulated Calico and Rook operators")
	cmd.Flags().BoolVar(&o.Flux, "flux", false, "also run Flux's controllers and a Git server on 127.0.0.1 for them to follow")
	cmd.Flags().StringVar(&o.MirroredTopology, "mirrored-topology", "", "with --flux: write FILE, a copy of the topology in its folder that names the served charts as its chart mirrors")
	cmd.Flags().StringVar(&o.TestBin, "testbin", "", "folder with the binaries (default: $STRETCH_TESTBIN or bin/testbin)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", defaultSimUpTimeout, "give up when the cluster is not ready by then")
	cmd.Flags().DurationVar(&o.GracePeriod, "node-monitor-grace-period", sim.DefaultNodeMonitorGracePeriod,
		"how long after a region fails its nodes turn NotReady")
	cmd.Flags().DurationVar(&o.Eviction, "pod-eviction-timeout", sim.DefaultPodEvictionTimeout,
		"how long pods without tolerations of their own stay on NotReady nodes before they are evicted")
	_ = cmd.MarkFlagDirname("testbin")
	return cmd
}

// Complete falls back to STRETCH_TOPOLOGY and finds this program, for
// --operators and --flux. An empty --testbin is left to sim.DefaultBinDir.
func (o *SimUpOptions) Complete([]string) error {
	o.topologyFlag.Complete()
	if o.Operators || o.Flux {
		exe, err := os.Executable()
		if err != nil {
			return failed(ExitError, fmt.Errorf("find this program to run the simulated operators or the Git server: %w", err))
		}
		o.executable = exe
	}
	return nil
}

// Validate checks the flags.
func (o *SimUpOptions) Validate() error {
	var errs []error
	if err := o.topologyFlag.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.StateDir == "" {
		errs = append(errs, errors.New("--state must not be empty"))
	}
	if o.MirroredTopology != "" {
		if !o.Flux {
			errs = append(errs, errors.New("--mirrored-topology needs --flux, which serves the charts it names"))
		} else if o.File != "" {
			if err := sim.CheckMirroredTopologyPath(o.File, o.MirroredTopology); err != nil {
				errs = append(errs, fmt.Errorf("--mirrored-topology: %w", err))
			}
		}
	}
	if o.Timeout <= 0 {
		errs = append(errs, errors.New("--timeout must be positive"))
	}
	if o.GracePeriod < 4*time.Second {
		errs = append(errs, errors.New("--node-monitor-grace-period must be at least 4s"))
	}
	if o.Eviction < time.Second {
		errs = append(errs, errors.New("--pod-eviction-timeout must be at least 1s"))
	}
	if len(errs) > 0 {
		return failed(ExitError, errors.Join(errs...))
	}
	return nil
}

// Run starts the cluster and prints how to use it.
func (o *SimUpOptions) Run(ctx context.Context) error {
	f, err := o.topologyFlag.Load(o.ErrOut)
	if err != nil {
		return err
	}
	model := topology.NewModel(f.Topology)
	stateDir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return failed(ExitError, err)
	}
	opts := sim.UpOptions{ClusterOptions: sim.ClusterOptions{
		Options:                sim.Options{BinDir: o.TestBin, StateDir: o.StateDir, Log: o.ErrOut},
		Topology:               model,
		NodeMonitorGracePeriod: o.GracePeriod,
		PodEvictionTimeout:     o.Eviction,
	}}
	if o.Operators {
		opts.Operators = []string{o.executable, "sim", "operators", "--state", stateDir}
	}
	if o.Flux {
		opts.Flux = &sim.FluxOptions{
			Serve:      []string{o.executable, "sim", "serve", "--state", stateDir},
			Path:       model.GitOps.Path,
			SourceName: model.GitOps.SourceName,
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	d, err := sim.Up(ctx, opts)
	var running *sim.RunningError
	var missing *sim.MissingBinaryError
	switch {
	case errors.As(err, &running):
		return failed(ExitError, fmt.Errorf("%w: run kubectl stretch sim down --state %s", err, shellQuote(o.StateDir)))
	case errors.As(err, &missing):
		return failed(ExitError, fmt.Errorf("%w (or pass --testbin DIR, or set %s)", err, sim.BinDirEnv))
	case errors.Is(err, sim.ErrNoBinDir):
		return failed(ExitError, fmt.Errorf("%w, or pass --testbin DIR", err))
	case err != nil:
		return failed(ExitError, err)
	}
	took := time.Since(start)
	if o.MirroredTopology != "" {
		if err := sim.WriteMirroredTopology(f.Path, o.MirroredTopology, model, d.ChartsURL()); err != nil {
			return failed(ExitError, fmt.Errorf("%w (the cluster runs: kubectl stretch sim down --state %s)", err, shellQuote(o.StateDir)))
		}
	}
	printSimUsage(o.Out, d, o.StateDir, o.Operators, o.MirroredTopology, took)
	return nil
}

// printSimUsage tells how to use a cluster that sim up started.
func printSimUsage(w io.Writer, d *sim.Detached, stateDir string, operators bool, mirrored string, took time.Duration) {
	m := d.Model()
	regions := make([]string, 0, len(m.Regions))
	for _, r := range m.Regions {
		regions = append(regions, r.Name)
	}
	state := shellQuote(stateDir)
	fmt.Fprintf(w, "Simulated cluster %s is running (%d nodes in %s; ready in %s, state in %s).\n",
		m.Name, len(m.Nodes), strings.Join(regions, ", "), took.Round(100*time.Millisecond), stateDir)
	if operators {
		fmt.Fprintf(w, "Simulated operators run too (NOT Calico or Rook), labelled %s=true: they follow the\n"+
			"FelixConfiguration and CephCluster you apply (WireGuard annotations, Ceph pods that kube-scheduler\n"+
			"places, CephCluster health).\n", sim.LabelSimulated)
	}
	if url := d.GitURL(); url != "" {
		fmt.Fprintf(w, "Flux runs too (source-, kustomize- and helm-controller): it follows branch main of the\n"+
			"repository %s and applies %s from it. The charts the bundle installs are\n"+
			"served at %s.\n", url, sim.FluxRootPath(m.GitOps.Path), d.ChartsURL())
		topo := "sim.yaml"
		if mirrored != "" {
			topo = mirrored
			fmt.Fprintf(w, "%s is a copy of the topology whose spec.gitops.chartMirrors name them.\n", mirrored)
		} else {
			fmt.Fprintf(w, "Render a copy of the topology, in its folder, whose spec.gitops.chartMirrors name them\n"+
				"(sim up --mirrored-topology sim.yaml writes it).\n")
		}
		fmt.Fprintf(w, "\n  git clone %s repo\n", url)
		fmt.Fprintf(w, "  kubectl stretch render -f %s -o %s --commit\n", shellQuote(topo), path.Join("repo", m.GitOps.Path))
		fmt.Fprintf(w, "  git -C repo push origin HEAD:main\n")
	}
	fmt.Fprintf(w, "\n  export KUBECONFIG=%s\n", shellQuote(d.Kubeconfig()))
	fmt.Fprintf(w, "  kubectl get nodes -L %s\n\n", topology.LabelZone)
	lose := regions[0]
	if len(m.Data) > 0 {
		lose = m.Data[0]
	}
	fmt.Fprintf(w, "  kubectl stretch sim fail %s --state %s   # lose a region (its nodes turn NotReady within %s)\n",
		lose, state, d.NodeMonitorGracePeriod())
	fmt.Fprintf(w, "  kubectl stretch sim heal %s --state %s   # bring it back\n", lose, state)
	fmt.Fprintf(w, "  kubectl stretch sim down --state %s        # stop every process\n", state)
}

// SimRegionOptions fails or heals a region of a detached cluster.
type SimRegionOptions struct {
	genericiooptions.IOStreams
	StateDir string
	Region   string
	Wait     bool
	Timeout  time.Duration
	heal     bool
}

func newCmdSimFail(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdSimRegion(streams, false)
}

func newCmdSimHeal(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdSimRegion(streams, true)
}

func newCmdSimRegion(streams genericiooptions.IOStreams, heal bool) *cobra.Command {
	o := &SimRegionOptions{IOStreams: streams, heal: heal}
	cmd := &cobra.Command{
		Use:   "fail REGION [--state DIR]",
		Short: "Lose a region: stop its simulated kubelets, so that its nodes turn NotReady",
		Long: `Lose a region of the simulated cluster: its kwok stops, its nodes stop renewing
their leases, and kube-controller-manager marks them NotReady and taints them
after the node monitor grace period, as in a real outage. Pods there are
evicted by their tolerations and rescheduled where the scheduler can place them.
By default the command waits until the region's nodes are NotReady and, with
sim up --operators, until the simulated Ceph health follows.`,
		Example: `  kubectl stretch sim fail sto1
  kubectl stretch sim fail sto1 --state .stretch-sim --wait=false`,
		Args: cobra.ExactArgs(1),
	}
	if heal {
		cmd.Use = "heal REGION [--state DIR]"
		cmd.Short = "Bring a failed region back: start its simulated kubelets again"
		cmd.Long = `Bring a failed region of the simulated cluster back: its kwok starts again,
its nodes turn Ready and kube-controller-manager lifts their taints. The
command waits until then and, with sim up --operators, until the simulated Ceph
health follows.`
		cmd.Example = `  kubectl stretch sim heal sto1`
	}
	cmd.RunE = runSteps(o)
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		d, err := sim.Open(o.StateDir)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var regions []string
		for _, r := range d.Model().Regions {
			regions = append(regions, r.Name)
		}
		return regions, cobra.ShellCompDirectiveNoFileComp
	}
	addStateFlag(cmd, &o.StateDir)
	if !heal {
		cmd.Flags().BoolVar(&o.Wait, "wait", true, "wait until the region's nodes are NotReady (and the simulated Ceph health follows)")
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", defaultSimWaitTimeout, "give up waiting after this long")
	return cmd
}

// Complete takes the region from the arguments (cobra.ExactArgs(1)).
func (o *SimRegionOptions) Complete(args []string) error {
	o.Region = args[0]
	return nil
}

// Validate checks the flags.
func (o *SimRegionOptions) Validate() error {
	if o.Timeout <= 0 {
		return failed(ExitError, errors.New("--timeout must be positive"))
	}
	return nil
}

// Run fails or heals the region.
func (o *SimRegionOptions) Run(ctx context.Context) error {
	d, err := openSim(o.StateDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	n := len(regionNodeNames(d.Model(), o.Region))
	if o.heal {
		// Heal always waits: kwok counts as started once its nodes are Ready.
		if err := d.Heal(ctx, o.Region); err != nil {
			return failed(ExitError, err)
		}
		health, err := d.WaitOperators(ctx)
		if err != nil {
			return failed(ExitError, fmt.Errorf("region %s healed, but: %w", o.Region, err))
		}
		fmt.Fprintf(o.Out, "region %s healed: its %d nodes are Ready%s (%s)\n", o.Region, n, cephSuffix(health), time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if err := d.Fail(ctx, o.Region); err != nil {
		return failed(ExitError, err)
	}
	if !o.Wait {
		fmt.Fprintf(o.Out, "region %s failed: its %d nodes turn NotReady within %s\n", o.Region, n, d.NodeMonitorGracePeriod())
		return nil
	}
	if err := d.WaitRegion(ctx, o.Region, false); err != nil {
		return failed(ExitError, fmt.Errorf("region %s failed, but: %w", o.Region, err))
	}
	health, err := d.WaitOperators(ctx)
	if err != nil {
		return failed(ExitError, fmt.Errorf("region %s failed, but: %w", o.Region, err))
	}
	fmt.Fprintf(o.Out, "region %s failed: its %d nodes are NotReady%s (%s)\n", o.Region, n, cephSuffix(health), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// cephSuffix tells the simulated Ceph health, when there is one.
func cephSuffix(health string) string {
	if health == "" {
		return ""
	}
	return ", the simulated Ceph reports " + health
}

func regionNodeNames(m *topology.Model, region string) []string {
	for _, r := range m.Regions {
		if r.Name == region {
			return r.Nodes
		}
	}
	return nil
}

// openSim opens the detached cluster in stateDir, with a hint when there is
// none.
func openSim(stateDir string) (*sim.Detached, error) {
	d, err := sim.Open(stateDir)
	if errors.Is(err, sim.ErrNoCluster) {
		return nil, failed(ExitError, fmt.Errorf("%w: start one with kubectl stretch sim up -f TOPOLOGY --state %s", err, shellQuote(stateDir)))
	}
	if err != nil {
		return nil, failed(ExitError, err)
	}
	return d, nil
}

// SimDownOptions stops a detached simulated cluster.
type SimDownOptions struct {
	genericiooptions.IOStreams
	StateDir string
}

func newCmdSimDown(streams genericiooptions.IOStreams) *cobra.Command {
	o := &SimDownOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "down [--state DIR]",
		Short: "Stop every process of the simulated cluster",
		Long: `Stop every process of the simulated cluster recorded in the state folder and
check that none is left. The state file and the kubeconfig are removed; the logs,
etcd's data and the certificates stay in the folder until you remove it.
Without a cluster in the folder, there is nothing to do.`,
		Example: `  kubectl stretch sim down
  kubectl stretch sim down --state .stretch-sim && rm -rf .stretch-sim`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = runSteps(o)
	addStateFlag(cmd, &o.StateDir)
	return cmd
}

// Complete has nothing to resolve.
func (o *SimDownOptions) Complete([]string) error { return nil }

// Validate has nothing to check.
func (o *SimDownOptions) Validate() error { return nil }

// Run stops the cluster.
func (o *SimDownOptions) Run(ctx context.Context) error {
	d, err := sim.Open(o.StateDir)
	if errors.Is(err, sim.ErrNoCluster) {
		fmt.Fprintf(o.ErrOut, "no simulated cluster in %s: nothing to stop\n", o.StateDir)
		return nil
	}
	if err != nil {
		return failed(ExitError, err)
	}
	stopped, err := d.Down(ctx)
	if err != nil {
		return failed(ExitError, err)
	}
	names := make([]string, 0, len(stopped))
	for _, p := range stopped {
		names = append(names, p.Name)
	}
	fmt.Fprintf(o.Out, "stopped %d processes (%s); logs kept in %s (remove %s to delete everything)\n",
		len(stopped), strings.Join(names, ", "), filepath.Join(o.StateDir, "logs"), o.StateDir)
	return nil
}

// SimOperatorsOptions runs the simulated operators in the foreground (sim
// up --operators starts it detached).
type SimOperatorsOptions struct {
	genericiooptions.IOStreams
	StateDir string
	Interval time.Duration
}

func newCmdSimOperators(streams genericiooptions.IOStreams) *cobra.Command {
	o := &SimOperatorsOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:    "operators [--state DIR]",
		Short:  "Run the simulated Calico and Rook operators until stopped (started by sim up --operators)",
		Args:   cobra.NoArgs,
		Hidden: true,
	}
	cmd.RunE = runSteps(o)
	addStateFlag(cmd, &o.StateDir)
	cmd.Flags().DurationVar(&o.Interval, "interval", sim.DefaultOperatorsInterval, "time between two reconciles")
	return cmd
}

// Complete has nothing to resolve.
func (o *SimOperatorsOptions) Complete([]string) error { return nil }

// Validate checks the flags.
func (o *SimOperatorsOptions) Validate() error {
	if o.Interval <= 0 {
		return failed(ExitError, errors.New("--interval must be positive"))
	}
	return nil
}

// Run reconciles until the context ends (SIGTERM from sim down).
func (o *SimOperatorsOptions) Run(ctx context.Context) error {
	d, err := openSim(o.StateDir)
	if err != nil {
		return err
	}
	cfg, err := d.RESTConfig()
	if err != nil {
		return failed(ExitError, err)
	}
	ops, err := sim.NewOperators(cfg, d.Model(), o.ErrOut)
	if err != nil {
		return failed(ExitError, err)
	}
	// With Flux, helm-controller installs the charts the operators would
	// otherwise play.
	ops.HelmInstallsCharts = d.Flux()
	if err := ops.Run(ctx, o.Interval); err != nil {
		return failed(ExitError, err)
	}
	return nil
}

// SimServeOptions serves the Git repository of a detached cluster in the
// foreground (sim up --flux starts it detached).
type SimServeOptions struct {
	genericiooptions.IOStreams
	StateDir string
	Listen   string
}

func newCmdSimServe(streams genericiooptions.IOStreams) *cobra.Command {
	o := &SimServeOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:    "serve --listen 127.0.0.1:PORT [--state DIR]",
		Short:  "Serve the simulated cluster's Git repository until stopped (started by sim up --flux)",
		Args:   cobra.NoArgs,
		Hidden: true,
	}
	cmd.RunE = runSteps(o)
	addStateFlag(cmd, &o.StateDir)
	cmd.Flags().StringVar(&o.Listen, "listen", "", "loopback address and port to serve on")
	return cmd
}

// Complete has nothing to resolve.
func (o *SimServeOptions) Complete([]string) error { return nil }

// Validate checks the flags.
func (o *SimServeOptions) Validate() error {
	if o.Listen == "" {
		return failed(ExitError, errors.New("--listen is required"))
	}
	return nil
}

// Run builds the chart repository and serves it with the Git repository
// until the context ends (SIGTERM from sim down).
func (o *SimServeOptions) Run(ctx context.Context) error {
	d, err := openSim(o.StateDir)
	if err != nil {
		return err
	}
	charts, err := buildSimCharts(ctx, d)
	if err != nil {
		return failed(ExitError, err)
	}
	defer charts.Close()
	if err := sim.Serve(ctx, d.Dir(), o.Listen, charts); err != nil {
		return failed(ExitError, err)
	}
	return nil
}

// buildSimCharts returns a handler of the chart repository of every chart
// the bundle installs, which sim.Serve mounts under /charts: the one make
// testbin built (bin/testbin/charts) when it holds the topology's Rook
// version, else one it builds into the state folder: rook-ceph at the
// topology's Rook version from Rook's module (the Go module proxy, through
// the module cache), and the Ceph CSI stand-ins.
func buildSimCharts(ctx context.Context, d *sim.Detached) (*chartrepo.Handler, error) {
	version := d.Model().Storage.RookVersion
	if bin := d.BinDir(); bin != "" {
		h, ok, err := chartrepo.OpenBuilt(bin, version)
		if err != nil {
			return nil, fmt.Errorf("serve charts: %w", err)
		}
		if ok {
			return h, nil
		}
	}
	rookDir, err := chartrepo.DownloadModule(ctx, chartrepo.RookModule, version)
	if err != nil {
		return nil, fmt.Errorf("serve charts: %w", err)
	}
	charts, err := chartrepo.Charts(rookDir, version)
	if err != nil {
		return nil, fmt.Errorf("serve charts: %w", err)
	}
	dir := filepath.Join(d.Dir(), sim.ChartsDir)
	if _, err := chartrepo.Build(dir, charts); err != nil {
		return nil, fmt.Errorf("serve charts: %w", err)
	}
	h, err := chartrepo.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("serve charts: %w", err)
	}
	return h, nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
