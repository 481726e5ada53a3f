package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/fence"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// DefaultDrillTimeout is --timeout's default: Kubernetes' default eviction
// (300 s) and grace period, with room to schedule.
const DefaultDrillTimeout = 10 * time.Minute

// drillVias are --via's values, the default first.
var drillVias = []string{v1alpha1.DrillViaTaint, v1alpha1.DrillViaSim}

// executeLong is the help of execute mode and restore.
const executeLong = `

Execute mode (--execute --yes) then loses the region for real, watches every
workload and restores. --via taint (the default) taints the region's nodes
` + v1alpha1.DrillTaintKey + `=true:NoExecute: their pods are evicted at once while the
nodes stay Ready (not an outage: no grace period, StatefulSets are recreated;
the prediction follows these rules). --via sim stops the region of the
simulated cluster of --state as sim fail does, and heals it at the end.
--fence adds the out-of-service taint. Before it changes anything, drill
records what restoring needs in the ConfigMap kube-system/kubectl-stretch-drill;
another execute is refused while it exists. It prints one line per change on
stderr, stops once every workload is Ready again outside the region or at
--timeout, and always restores (also on Ctrl-C and SIGTERM). The report puts
the prediction and the observation side by side (PREDICTED, OBSERVED, MATCH;
a recovery within max(15 s, 25 %) matches). Exit 1 when a workload did not
recover or differs. drill --restore undoes a drill that could not restore
(killed, crashed); with no record it says so and exits 0.`

// executeExample are the examples of execute mode and restore.
const executeExample = `
  kubectl stretch drill -f topology.yaml --lose sto1 --execute --yes --timeout 8m
  kubectl stretch drill -f topology.yaml --lose sto1 --execute --yes --via sim --fence
  kubectl stretch drill -f topology.yaml --restore`

// executeFlags are drill's execute mode and restore.
type executeFlags struct {
	// Execute loses the region for real and observes; Yes confirms it.
	Execute, Yes bool
	// Via is how the region is lost, one of drillVias.
	Via string
	// StateDir is the simulated cluster's state folder (--via sim).
	StateDir string
	// Timeout ends the observation.
	Timeout time.Duration
	// Interval is how often the execution looks at the cluster.
	Interval time.Duration
	// SpreadReturn is how long to wait after the restore for the moved
	// workloads' topology spread to return; 0 does not wait.
	SpreadReturn time.Duration
	// Restore undoes a recorded drill.
	Restore bool
	// graceSet says whether --node-monitor-grace-period was given.
	graceSet func() bool
}

// addExecuteFlags adds the flags of execute mode and restore.
func (o *DrillOptions) addExecuteFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.Execute, "execute", false, "lose the region for real, observe the workloads, then restore (needs --yes)")
	f.BoolVar(&o.Yes, "yes", false, "confirm --execute")
	f.StringVar(&o.Via, "via", drillVias[0], "how --execute loses the region: taint (a NoExecute taint "+v1alpha1.DrillTaintKey+" on its nodes) or sim (stop the region of the simulated cluster of --state)")
	f.StringVar(&o.StateDir, "state", sim.DefaultStateDir, "the simulated cluster's state folder (--via sim)")
	f.DurationVar(&o.Timeout, "timeout", DefaultDrillTimeout, "stop observing after this long (--execute)")
	f.DurationVar(&o.Interval, "interval", drill.DefaultInterval, "how often --execute looks at the cluster")
	f.DurationVar(&o.SpreadReturn, "spread-return", 0, "after the restore, wait this long for the topology spread of the workloads that moved to return, and report spreadReturnSeconds (0: do not wait)")
	f.BoolVar(&o.Restore, "restore", false, "undo a drill --execute that did not restore (it crashed or was killed): remove its taints, heal its simulated region, delete its record")
	_ = cmd.RegisterFlagCompletionFunc("via", cobra.FixedCompletions(drillVias, cobra.ShellCompDirectiveNoFileComp))
	cmd.Long += executeLong
	cmd.Example += executeExample
	o.graceSet = func() bool { return f.Changed("node-monitor-grace-period") }
	flagChanged := func(name string) bool { return f.Changed(name) }
	o.executeOnly = func() []string {
		var out []string
		for _, name := range []string{"yes", "via", "state", "timeout", "interval", "spread-return"} {
			if flagChanged(name) {
				out = append(out, "--"+name)
			}
		}
		return out
	}
}

// validateExecute checks the flags of execute mode and restore.
func (o *DrillOptions) validateExecute() []error {
	var errs []error
	if o.Restore && o.Execute {
		errs = append(errs, errors.New("--restore and --execute: give one"))
	}
	if !o.Execute && o.executeOnly != nil {
		if given := o.executeOnly(); len(given) > 0 {
			errs = append(errs, fmt.Errorf("%s only work with --execute", strings.Join(given, ", ")))
		}
	}
	if !slices.Contains(drillVias, o.Via) {
		errs = append(errs, fmt.Errorf("--via %s: want one of %s", o.Via, strings.Join(drillVias, ", ")))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: want a positive duration", o.Timeout))
	}
	if o.SpreadReturn < 0 {
		errs = append(errs, fmt.Errorf("--spread-return %s: want a positive duration, or 0 not to wait", o.SpreadReturn))
	}
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--interval %s: want a positive duration", o.Interval))
	}
	if o.Via == v1alpha1.DrillViaSim && o.StateDir == "" {
		errs = append(errs, errors.New("--via sim needs --state DIR"))
	}
	return errs
}

// refuseWithoutYes says what --execute would do and refuses.
func (o *DrillOptions) refuseWithoutYes(m *topology.Model) error {
	var nodes []string
	for _, n := range m.Nodes {
		if n.Region == o.Lose {
			nodes = append(nodes, n.Name)
		}
	}
	how := fmt.Sprintf("taint its %d nodes (%s) with %s", len(nodes), strings.Join(nodes, ", "), v1alpha1.DrillTaintKey+"=true:NoExecute, which evicts their pods at once")
	if o.Via == v1alpha1.DrillViaSim {
		how = fmt.Sprintf("stop region %s of the simulated cluster in %s, so that its %d nodes turn NotReady", o.Lose, o.StateDir, len(nodes))
	}
	if o.Fence {
		how += ", and fence them with " + fence.TaintKey
	}
	return failed(ExitError, fmt.Errorf("drill --execute changes the cluster: it would record the drill in ConfigMap %s/%s, lose region %s (%s), "+
		"watch every workload for up to %s, then restore; give --yes to do it", drill.RecordNamespace, drill.RecordName, o.Lose, how, o.Timeout))
}

// openSimRegion opens a state folder's simulated cluster for a restore: nil
// when it holds none any more.
func openSimRegion(dir string) (drill.SimRegion, error) {
	d, err := sim.Open(dir)
	if errors.Is(err, sim.ErrNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// kubeClient returns a client of the root's cluster connection.
func (o *DrillOptions) kubeClient() (kubernetes.Interface, error) {
	cfg, err := clusterConfig(o.Kube)
	if err != nil {
		return nil, failed(ExitError, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, failed(ExitError, fmt.Errorf("kubernetes client: %w", err))
	}
	return client, nil
}

// runRestore undoes a recorded drill: exit 0 when restored or when there
// was nothing to restore.
func (o *DrillOptions) runRestore(ctx context.Context) error {
	client, err := o.kubeClient()
	if err != nil {
		return err
	}
	rec, err := drill.Restore(ctx, client, openSimRegion, o.ErrOut)
	if errors.Is(err, drill.ErrNoRecord) {
		fmt.Fprintf(o.Out, "no drill recorded (ConfigMap %s/%s): nothing to restore\n", drill.RecordNamespace, drill.RecordName)
		return nil
	}
	if err != nil {
		return failed(ExitError, fmt.Errorf("restore: %w", err))
	}
	fmt.Fprintf(o.Out, "restored the drill of region %s (via %s, started %s): %d taints removed, record deleted\n",
		rec.Region, rec.Via, rec.Started.UTC().Format(time.RFC3339), len(rec.Taints))
	return nil
}

// prepareExecute opens the simulated cluster (--via sim) and sets the
// prediction's options for the way the region is lost.
func (o *DrillOptions) prepareExecute(m *topology.Model, po *drill.Options) (*sim.Detached, error) {
	po.Tainted = o.Via == v1alpha1.DrillViaTaint
	if o.Via != v1alpha1.DrillViaSim {
		return nil, nil
	}
	d, err := sim.Open(o.StateDir)
	if err != nil {
		return nil, failed(ExitError, fmt.Errorf("--via sim: %w", err))
	}
	if err := d.Model().CheckRegion(o.Lose); err != nil {
		return nil, failed(ExitError, fmt.Errorf("--via sim: the simulated cluster in %s: %w", o.StateDir, err))
	}
	if d.Model().Name != m.Name {
		return nil, failed(ExitError, fmt.Errorf("--via sim: the simulated cluster in %s is topology %s, not %s", o.StateDir, d.Model().Name, m.Name))
	}
	if o.graceSet == nil || !o.graceSet() {
		po.NodeMonitorGracePeriod = d.NodeMonitorGracePeriod()
	}
	return d, nil
}

// runExecute executes the predicted drill r and writes the report.
func (o *DrillOptions) runExecute(ctx context.Context, m *topology.Model, d *sim.Detached, r *drill.Report) error {
	client, err := o.kubeClient()
	if err != nil {
		return err
	}
	x := drill.Execution{Client: client, Model: m, Region: o.Lose, Via: o.Via, Fence: o.Fence,
		StateDir: o.StateDir, OpenSim: openSimRegion, Version: Version, Timeout: o.Timeout, Interval: o.Interval, Progress: o.ErrOut}
	if d != nil {
		x.Sim, x.StateDir = d, d.Dir()
	}
	if o.SpreadReturn > 0 {
		x.After = append(x.After, drill.SpreadReturnPhase(client, o.SpreadReturn, o.ErrOut))
	}
	err = drill.Execute(ctx, x, r)
	var active *drill.ActiveError
	switch {
	case errors.As(err, &active):
		return failed(ExitError, err)
	case err != nil && ctx.Err() != nil:
		return err // interrupted: Run says so
	case err != nil:
		return failed(ExitError, fmt.Errorf("drill --execute: %w", err))
	}
	if err := r.Write(o.Out, o.Output); err != nil {
		return failed(ExitError, err)
	}
	if r.Failed() {
		return silentFailure(ExitFailed)
	}
	return nil
}
