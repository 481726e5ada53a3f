package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Files and names of a detached cluster's state folder.
const (
	// DefaultStateDir is the state folder of `kubectl stretch sim` when
	// --state is not given.
	DefaultStateDir = ".stretch-sim"
	// StateFile, in the state folder, records a detached cluster: its
	// topology, kubeconfig and processes.
	StateFile = "state.json"
	// OperatorsName is the process name of the simulated operators.
	OperatorsName = "operators"

	stateLockFile   = ".lock"
	stateAPIVersion = v1alpha1.APIVersion
	stateKind       = v1alpha1.KindSimulatedCluster
)

// ErrNoCluster means that a state folder holds no detached cluster.
var ErrNoCluster = errors.New("no simulated cluster")

// RunningError is returned by Up when the state folder already holds a
// running cluster.
type RunningError struct {
	// Dir is the state folder, as given.
	Dir string
}

// Error says where the cluster runs.
func (e *RunningError) Error() string {
	return "a simulated cluster is already running in " + e.Dir
}

// BusyError is returned when another command is changing the same state
// folder (starting, failing, healing or stopping its cluster).
type BusyError struct {
	// Dir is the state folder, as given.
	Dir string
}

// Error says which folder is busy.
func (e *BusyError) Error() string {
	return "another kubectl stretch sim command is working on " + e.Dir + "; try again when it is done"
}

// UpOptions configures Up.
type UpOptions struct {
	// ClusterOptions configures the cluster; StateDir is the state folder
	// (DefaultStateDir for the CLI). Log receives the progress of the start
	// only.
	ClusterOptions
	// Operators, when not empty, is the command line of the simulated
	// operators process, such as
	// [kubectl-stretch sim operators --state DIR]. Up starts it detached
	// with the other processes and waits until it has annotated every node
	// and its Ceph pods run; Down stops it.
	Operators []string
	// Flux, when set, makes Up run Flux's controllers and a Git server
	// with them (see FluxOptions); Down stops them.
	Flux *FluxOptions
}

// state is the content of StateFile.
type state struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Kubeconfig is the admin kubeconfig's absolute path.
	Kubeconfig string `json:"kubeconfig"`
	// Server is the API server's URL.
	Server string `json:"server,omitempty"`
	// Flux says that Flux's controllers run (Up with FluxOptions).
	Flux bool `json:"flux,omitempty"`
	// GitURL is the clone URL of the served repository that Flux
	// follows; empty without Flux.
	GitURL string `json:"gitURL,omitempty"`
	// ChartsURL is the served chart repository; empty without Flux.
	ChartsURL string `json:"chartsURL,omitempty"`
	// BinDir is the folder of the binaries (and of the chart repository
	// that make testbin builds), as given to Up or found by it; always
	// set with Flux.
	BinDir string `json:"binDir,omitempty"`
	// NodeMonitorGracePeriod is how long a failed region takes to turn
	// NotReady.
	NodeMonitorGracePeriod string `json:"nodeMonitorGracePeriod"`
	// Topology is the simulated topology.
	Topology *topology.Model `json:"topology"`
	// Processes are the running processes, in start order.
	Processes []record `json:"processes"`
	// Failed holds the kwok of each failed region, to start it again.
	Failed []record `json:"failed,omitempty"`
}

// record is a process in the state file.
type record struct {
	Process
	// StartTime tells the process from a later one with the same PID
	// (clock ticks after boot; 0 where unknown).
	StartTime uint64 `json:"startTime,omitempty"`
	// Region is the region of a kwok.
	Region string `json:"region,omitempty"`
}

// alive reports whether the recorded process still runs.
func (r record) alive() bool {
	if !running(r.PID) {
		return false
	}
	return r.StartTime == 0 || startTime(r.PID) == r.StartTime
}

// Detached is a simulated cluster whose processes run on their own,
// detached from the program that started them, and are recorded in a state
// folder: `kubectl stretch sim up` starts one with Up, and later commands
// reach it with Open. Every method that changes it takes the folder's lock,
// so two commands never change one cluster at once.
type Detached struct {
	dir   string // absolute
	shown string // as given, for messages
	st    *state
}

// Up starts a simulated cluster whose processes outlive this program: each
// in a session of its own, recorded in StateDir/state.json as it starts,
// with its log in StateDir/logs/. It returns once the cluster is ready (and
// the simulated operators, when asked for), leaving it running; stop it with
// Down. The admin kubeconfig is StateDir/kubeconfig.
//
// When StateDir already holds a running cluster the error is a
// *RunningError. A state file whose processes are all gone is replaced. On
// error, everything started is stopped.
func Up(ctx context.Context, opts UpOptions) (*Detached, error) {
	if err := detachSupported(); err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		return nil, errors.New("start detached cluster: StateDir is required")
	}
	if opts.Topology == nil {
		return nil, errors.New("start detached cluster: Topology is required")
	}
	shown := opts.StateDir
	dir, err := filepath.Abs(shown)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	unlock, err := lockDir(dir, shown)
	if err != nil {
		return nil, err
	}
	defer func() { _ = unlock() }() // closing the lock file cannot lose data
	log := opts.Log
	if log == nil {
		log = io.Discard
	}

	old, err := readState(dir)
	switch {
	case err == nil:
		if alive := old.alive(); len(alive) > 0 {
			return nil, &RunningError{Dir: shown}
		}
		if err := os.Remove(filepath.Join(dir, StateFile)); err != nil {
			return nil, fmt.Errorf("remove stale state: %w", err)
		}
		_, _ = fmt.Fprintf(log, "sim: %s recorded a cluster that is no longer running; starting a new one\n", shown)
	case !errors.Is(err, ErrNoCluster):
		return nil, err
	}

	var fluxBins map[string]string
	if opts.Flux != nil {
		if opts.BinDir == "" {
			if opts.BinDir, err = DefaultBinDir(); err != nil {
				return nil, fmt.Errorf("start detached cluster: %w", err)
			}
		}
		// The state records it for sim serve, which runs elsewhere.
		if opts.BinDir, err = filepath.Abs(opts.BinDir); err != nil {
			return nil, fmt.Errorf("start detached cluster: %w", err)
		}
		// Find Flux's binaries before starting anything.
		if fluxBins, err = fluxBinaries(opts.BinDir); err != nil {
			return nil, fmt.Errorf("start detached cluster: %w", err)
		}
	}

	grace := opts.NodeMonitorGracePeriod
	if grace == 0 {
		grace = DefaultNodeMonitorGracePeriod
	}
	st := &state{
		APIVersion:             stateAPIVersion,
		Kind:                   stateKind,
		Kubeconfig:             filepath.Join(dir, kubeconfigName),
		NodeMonitorGracePeriod: grace.String(),
		Topology:               opts.Topology,
		Flux:                   opts.Flux != nil,
		BinDir:                 opts.BinDir,
	}
	var writeErr error
	copts := opts.ClusterOptions
	copts.StateDir = dir
	copts.detached = true
	copts.withoutRookCRDs = opts.Flux != nil
	copts.onChange = func(procs []Process) {
		st.Processes = records(procs)
		if err := writeState(dir, st); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	c, err := StartCluster(ctx, copts)
	if err != nil {
		return nil, errors.Join(err, removeState(dir))
	}
	stop := func(err error) (*Detached, error) {
		return nil, errors.Join(err, c.Stop(), removeState(dir))
	}
	if writeErr != nil {
		return stop(fmt.Errorf("record processes: %w", writeErr))
	}
	if len(opts.Operators) > 0 {
		ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
		spec := procSpec{name: OperatorsName, bin: opts.Operators[0], args: opts.Operators[1:]}
		_, err := c.launch(ctx, spec, func(ctx context.Context) error { return operatorsReady(ctx, c.client, c.model) }, time.Now())
		cancel()
		if err != nil {
			return stop(fmt.Errorf("start simulated operators: %w", err))
		}
	}
	if opts.Flux != nil {
		gitURL, chartsURL, err := c.startFlux(ctx, *opts.Flux, fluxBins)
		if err != nil {
			return stop(err)
		}
		st.GitURL, st.ChartsURL = gitURL, chartsURL
	}
	st.Server = c.restConfig.Host
	c.changed()
	if writeErr != nil {
		return stop(fmt.Errorf("record processes: %w", writeErr))
	}
	return &Detached{dir: dir, shown: shown, st: st}, nil
}

// Open returns the detached cluster recorded in dir. Without one the error
// wraps ErrNoCluster. Open does not check that its processes still run.
func Open(dir string) (*Detached, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := readState(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &Detached{dir: abs, shown: dir, st: st}, nil
}

// Dir returns the state folder's absolute path.
func (d *Detached) Dir() string { return d.dir }

// Kubeconfig returns the path of the admin kubeconfig.
func (d *Detached) Kubeconfig() string { return d.st.Kubeconfig }

// RESTConfig loads the admin kubeconfig.
func (d *Detached) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", d.st.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", d.st.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = restQPS, restBurst
	return cfg, nil
}

// Flux reports whether Flux's controllers run in the cluster (the simulated
// operators then leave the charts to helm-controller).
func (d *Detached) Flux() bool { return d.st.Flux }

// GitURL returns the clone URL of the repository that Flux follows, or ""
// when the cluster runs without Flux.
func (d *Detached) GitURL() string { return d.st.GitURL }

// ChartsURL returns the URL of the chart repository that the Git server's
// process serves, or "" when the cluster runs without Flux.
func (d *Detached) ChartsURL() string { return d.st.ChartsURL }

// BinDir returns the folder of the cluster's binaries, or "" when Up was
// not given it and did not need it (it does with Flux).
func (d *Detached) BinDir() string { return d.st.BinDir }

// Model returns the simulated topology.
func (d *Detached) Model() *topology.Model { return d.st.Topology }

// Processes lists the recorded processes, in start order, as of the last
// change this value made or saw.
func (d *Detached) Processes() []Process {
	out := make([]Process, 0, len(d.st.Processes))
	for _, r := range d.st.Processes {
		out = append(out, r.Process)
	}
	return out
}

// Failed lists the failed regions, in topology order.
func (d *Detached) Failed() []string {
	var out []string
	for _, r := range d.st.Topology.Regions {
		if slices.ContainsFunc(d.st.Failed, func(rec record) bool { return rec.Region == r.Name }) {
			out = append(out, r.Name)
		}
	}
	return out
}

// NodeMonitorGracePeriod returns how long a failed region's nodes take to
// turn NotReady.
func (d *Detached) NodeMonitorGracePeriod() time.Duration {
	grace, err := time.ParseDuration(d.st.NodeMonitorGracePeriod)
	if err != nil {
		return DefaultNodeMonitorGracePeriod
	}
	return grace
}

// Fail simulates the loss of region, as Cluster.Fail does: it stops the
// region's kwok and returns once it has exited. Failing a failed region
// does nothing.
func (d *Detached) Fail(_ context.Context, region string) error {
	return d.change(func(st *state) error {
		if err := checkRegion(st.Topology, region); err != nil {
			return err
		}
		i := slices.IndexFunc(st.Processes, func(r record) bool { return r.Name == KwokPrefix+region })
		if i < 0 {
			if slices.ContainsFunc(st.Failed, func(r record) bool { return r.Region == region }) {
				return nil
			}
			return fmt.Errorf("fail region %s: %s records no %s%s", region, d.shown, KwokPrefix, region)
		}
		rec := st.Processes[i]
		if err := stopRecord(rec, DefaultStopTimeout); err != nil {
			return fmt.Errorf("fail region %s: %w", region, err)
		}
		st.Processes = slices.Delete(st.Processes, i, i+1)
		st.Failed = append(st.Failed, rec)
		return nil
	})
}

// Heal ends a simulated region loss, as Cluster.Heal does: it starts the
// region's kwok again, as recorded, and returns once the region's nodes are
// Ready. Healing a region that is not failed does nothing; a kwok that died
// on its own counts as failed.
func (d *Detached) Heal(ctx context.Context, region string) error {
	return d.change(func(st *state) error {
		if err := checkRegion(st.Topology, region); err != nil {
			return err
		}
		name := KwokPrefix + region
		if i := slices.IndexFunc(st.Processes, func(r record) bool { return r.Name == name }); i >= 0 {
			if st.Processes[i].alive() {
				return nil
			}
			st.Failed = append(st.Failed, st.Processes[i])
			st.Processes = slices.Delete(st.Processes, i, i+1)
		}
		j := slices.IndexFunc(st.Failed, func(r record) bool { return r.Region == region })
		if j < 0 || len(st.Failed[j].Command) == 0 {
			return fmt.Errorf("heal region %s: %s records no command for %s", region, d.shown, name)
		}
		rec := st.Failed[j]
		client, err := d.client()
		if err != nil {
			return fmt.Errorf("heal region %s: %w", region, err)
		}
		if err := deleteLeases(ctx, client, st.Topology, region); err != nil {
			return fmt.Errorf("heal region %s: %w", region, err)
		}
		p, err := startProcess(procSpec{name: name, bin: rec.Command[0], args: rec.Command[1:], env: rec.Env,
			logDir: filepath.Dir(rec.Log), detached: true})
		if err != nil {
			return fmt.Errorf("heal region %s: start %s: %w", region, name, err)
		}
		st.Failed = slices.Delete(st.Failed, j, j+1)
		st.Processes = append(st.Processes, records([]Process{p.info()})...)
		if err := writeState(d.dir, st); err != nil {
			return errors.Join(fmt.Errorf("heal region %s: record %s: %w", region, name, err), p.stop(DefaultStopTimeout))
		}
		ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
		if err := p.waitReady(ctx, func(ctx context.Context) error { return regionState(ctx, client, st.Topology, region, nodesUsable) }); err != nil {
			return fmt.Errorf("heal region %s: %w", region, err)
		}
		return nil
	})
}

// WaitRegion waits until every node of region is Ready and untainted
// (ready true) or not Ready (ready false), or ctx ends.
func (d *Detached) WaitRegion(ctx context.Context, region string, ready bool) error {
	if err := checkRegion(d.st.Topology, region); err != nil {
		return err
	}
	client, err := d.client()
	if err != nil {
		return err
	}
	return waitRegion(ctx, client, d.st.Topology, region, wanted(ready))
}

// WaitOperators waits until the simulated operators, when they run, have
// caught up with the nodes: every CephCluster reports the health that the
// current nodes and pods give. It returns that health ("" without
// operators or CephCluster). Call it after WaitRegion or Heal, before
// reading what the operators write.
func (d *Detached) WaitOperators(ctx context.Context) (string, error) {
	if !slices.ContainsFunc(d.st.Processes, func(r record) bool { return r.Name == OperatorsName }) {
		return "", nil
	}
	cfg, err := d.RESTConfig()
	if err != nil {
		return "", err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	var health string
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		var err error
		health, err = cephCaughtUp(ctx, client, dyn)
		return err == nil, err
	})
	if err != nil {
		return "", fmt.Errorf("wait for the simulated operators: %w", err)
	}
	return health, nil
}

// Down stops every recorded process, last started first (SIGTERM to its
// process group, SIGKILL after DefaultStopTimeout), checks that none is
// left, and removes the state file and the kubeconfig. The logs, etcd's
// data and the certificates stay in the folder. It returns the processes it
// found running and stopped.
func (d *Detached) Down(_ context.Context) ([]Process, error) {
	var stopped []Process
	err := d.change(func(st *state) error {
		var errs []error
		for _, r := range slices.Backward(st.Processes) {
			if !r.alive() {
				continue
			}
			if err := stopRecord(r, DefaultStopTimeout); err != nil {
				errs = append(errs, err)
				continue
			}
			stopped = append(stopped, r.Process)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if left := st.alive(); len(left) > 0 {
			return fmt.Errorf("still running after stop: %s", describe(left))
		}
		st.Processes, st.Failed = nil, nil
		return nil
	})
	if err != nil {
		return stopped, err
	}
	if err := removeState(d.dir); err != nil {
		return stopped, err
	}
	if err := os.Remove(d.st.Kubeconfig); err != nil && !errors.Is(err, os.ErrNotExist) {
		return stopped, err
	}
	return stopped, nil
}

// change runs fn on a fresh copy of the state under the folder's lock and
// writes the state back, also when fn fails (it records what it did).
func (d *Detached) change(fn func(*state) error) error {
	unlock, err := lockDir(d.dir, d.shown)
	if err != nil {
		return err
	}
	defer func() { _ = unlock() }() // closing the lock file cannot lose data
	st, err := readState(d.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", d.shown, err)
	}
	d.st = st
	fnErr := fn(st)
	return errors.Join(fnErr, writeState(d.dir, st))
}

func (d *Detached) client() (kubernetes.Interface, error) {
	cfg, err := d.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// alive lists the recorded processes that still run.
func (st *state) alive() []record {
	var out []record
	for _, r := range st.Processes {
		if r.alive() {
			out = append(out, r)
		}
	}
	return out
}

func describe(recs []record) string {
	parts := make([]string, 0, len(recs))
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("%s (pid %d)", r.Name, r.PID))
	}
	return strings.Join(parts, ", ")
}

// records turns processes into state records.
func records(procs []Process) []record {
	out := make([]record, 0, len(procs))
	for _, p := range procs {
		r := record{Process: p, StartTime: startTime(p.PID)}
		if region, ok := strings.CutPrefix(p.Name, KwokPrefix); ok {
			r.Region = region
		}
		out = append(out, r)
	}
	return out
}

// stopRecord stops a recorded process that this program may not have
// started: SIGTERM to its process group, SIGKILL after grace, and waits
// until it is gone. A process that is no longer there is not an error.
func stopRecord(r record, grace time.Duration) error {
	if !r.alive() {
		return nil
	}
	if err := signalGroup(r.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", r.Name, r.PID, err)
	}
	if waitGone(r, grace) {
		return nil
	}
	if err := signalGroup(r.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", r.Name, r.PID, err)
	}
	if waitGone(r, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("kill %s (pid %d): still running 10s after SIGKILL", r.Name, r.PID)
}

// waitGone polls until the process is gone or timeout passes.
func waitGone(r record, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for r.alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// lockDir takes the state folder's lock, or returns a *BusyError.
func lockDir(dir, shown string) (func() error, error) {
	unlock, err := lockState(filepath.Join(dir, stateLockFile))
	if errors.Is(err, errLocked) {
		return nil, &BusyError{Dir: shown}
	}
	if err != nil {
		return nil, err
	}
	return unlock, nil
}

// readState reads dir/state.json; without one the error wraps
// ErrNoCluster.
func readState(dir string) (*state, error) {
	path := filepath.Join(dir, StateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (no %s)", ErrNoCluster, StateFile)
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w (remove it if no simulated cluster runs)", path, err)
	}
	if st.APIVersion != stateAPIVersion || st.Kind != stateKind || st.Topology == nil {
		return nil, fmt.Errorf("read %s: not a %s %s (remove it if no simulated cluster runs)", path, stateAPIVersion, stateKind)
	}
	return &st, nil
}

// writeState replaces dir/state.json atomically.
func writeState(dir string, st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, StateFile, append(data, '\n'), 0o600)
}

// writeFileAtomic replaces dir/name with data at once: it writes a
// temporary file in dir and renames it.
func writeFileAtomic(dir, name string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Chmod(mode), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", name, err), os.Remove(tmp.Name()))
	}
	return nil
}

// removeState removes dir/state.json if it is there.
func removeState(dir string) error {
	err := os.Remove(filepath.Join(dir, StateFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// operatorsReady succeeds once the simulated operators have made a pass:
// every topology node has the node address Calico writes (the WireGuard
// annotations and the Ceph pods follow the objects applied later).
func operatorsReady(ctx context.Context, client kubernetes.Interface, m *topology.Model) error {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	topo := map[string]bool{}
	for _, n := range m.Nodes {
		topo[n.Name] = true
	}
	var pending []string
	for _, n := range nodes.Items {
		if topo[n.Name] && n.Annotations[annotationIPv4Address] == "" {
			pending = append(pending, n.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("simulated operators not done: no Calico node address on %s", strings.Join(pending, ", "))
	}
	return nil
}
