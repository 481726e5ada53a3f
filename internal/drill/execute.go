package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/fence"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// The tolerance within which an observed recovery matches the predicted
// one: the larger of ToleranceSeconds and TolerancePercent of the
// prediction.
const (
	ToleranceSeconds = 15
	TolerancePercent = 25
)

// RestoreTimeout bounds the restore at the end of an execution, which runs
// on a fresh context: the execution's own may be cancelled (a signal, the
// timeout).
const RestoreTimeout = 3 * time.Minute

// DefaultInterval is how often an execution looks at the cluster.
const DefaultInterval = time.Second

// SimRegion fails and heals a region of a simulated cluster (sim.Detached
// does).
type SimRegion interface {
	Fail(ctx context.Context, region string) error
	Heal(ctx context.Context, region string) error
}

// OpenSim opens the simulated cluster of a state folder for a restore; it
// returns nil, nil when the folder holds no cluster any more (nothing to
// heal).
type OpenSim func(stateDir string) (SimRegion, error)

// Phase is an optional step run after the restore, such as measuring how
// long a topology spread takes to return to the healed region. It may add
// to the report.
type Phase struct {
	Name string
	Run  func(ctx context.Context, r *Report) error
}

// Execution configures Execute.
type Execution struct {
	Client kubernetes.Interface
	Model  *topology.Model
	// Region is the region to lose; Via how (v1alpha1.DrillViaTaint or
	// v1alpha1.DrillViaSim).
	Region, Via string
	// Fence adds the out-of-service taint to the region's nodes: at once
	// with Via taint, once they are NotReady with Via sim.
	Fence bool
	// Sim and StateDir are the simulated cluster (Via sim); StateDir is
	// recorded for drill --restore, which opens it with OpenSim.
	Sim      SimRegion
	StateDir string
	OpenSim  OpenSim
	// Version is the tool's, recorded.
	Version string
	// Timeout ends the observation; Interval is how often it looks
	// (DefaultInterval when 0).
	Timeout, Interval time.Duration
	// Progress receives one line per change.
	Progress io.Writer
	// After runs after a successful restore, in order, on Execute's
	// context (not when it was cancelled); each phase bounds its own wait.
	After []Phase
}

// Execute loses the region for real, observes each workload of the
// prediction r until every one has recovered or the timeout (or ctx)
// ends, restores the cluster, and fills in r's observation. It records
// what restoring needs before it changes anything; when a record exists
// already it returns an *ActiveError and changes nothing. The restore
// runs on every return after the record is written, on a fresh context
// bounded by RestoreTimeout. ctx cancelled (a signal) stops the
// observation: Execute restores and returns ctx's cause.
func Execute(ctx context.Context, x Execution, r *Report) (err error) {
	if x.Interval == 0 {
		x.Interval = DefaultInterval
	}
	if x.Via == v1alpha1.DrillViaSim && x.Sim == nil {
		return errors.New("--via sim without a simulated cluster")
	}
	region := fence.Region{ZoneKey: x.Model.Labels.Zone, Name: x.Region}
	nodes, err := region.Nodes(ctx, x.Client)
	if err != nil {
		return err
	}
	rec := &Record{Region: x.Region, Via: x.Via, StateDir: x.StateDir, Version: x.Version, Started: time.Now()}
	outOfService := corev1.Taint{Key: fence.TaintKey, Value: fence.TaintValue, Effect: fence.TaintEffect}
	for _, n := range nodes {
		rec.Nodes = append(rec.Nodes, n.Name)
		var want []corev1.Taint
		if x.Via == v1alpha1.DrillViaTaint {
			want = append(want, DrillTaint)
		}
		if x.Fence {
			want = append(want, outOfService)
		}
		for _, t := range want {
			if !hasTaint(&n, t) {
				rec.Taints = append(rec.Taints, RecordedTaint{Node: n.Name, Key: t.Key, Value: t.Value, Effect: string(t.Effect)})
			}
		}
	}
	if err := CreateRecord(ctx, x.Client, rec); err != nil {
		return err
	}
	x.progressf("recorded the drill in ConfigMap %s/%s: drill --restore undoes it", RecordNamespace, RecordName)
	r.Execution = &v1alpha1.DrillExecution{Via: x.Via, TimeoutSeconds: int64(x.Timeout / time.Second),
		ToleranceSeconds: ToleranceSeconds, TolerancePercent: TolerancePercent}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RestoreTimeout)
		defer cancel()
		restoring := time.Now()
		_, rerr := Restore(rctx, x.Client, x.OpenSim, x.Progress)
		r.Execution.RestoreSeconds = int64(time.Since(restoring).Round(time.Second) / time.Second)
		if errors.Is(rerr, ErrNoRecord) {
			// drill --restore, run meanwhile, did it: the record goes last.
			x.progressf("restore: the record is gone: restored by another command")
			rerr = nil
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore: %w (run kubectl stretch drill --restore)", rerr))
			return
		}
		r.Execution.Restored = true
		if ctx.Err() != nil {
			return // interrupted: restored, nothing more is measured
		}
		for _, p := range x.After {
			if perr := p.Run(ctx, r); perr != nil {
				err = errors.Join(err, fmt.Errorf("%s: %w", p.Name, perr))
			}
		}
	}()

	obs, err := newObserver(ctx, x, r)
	if err != nil {
		return err
	}
	start := time.Now()
	switch x.Via {
	case v1alpha1.DrillViaSim:
		if err := x.Sim.Fail(ctx, x.Region); err != nil {
			return err
		}
		x.progressf("region %s failed (its simulated kubelets stopped): its nodes turn NotReady after the node monitor grace period", x.Region)
	default:
		for _, t := range rec.Taints {
			if t.Key != DrillTaint.Key {
				continue
			}
			if _, err := fence.SetTaint(ctx, x.Client, t.Node, DrillTaint, true); err != nil {
				return fmt.Errorf("taint: %w", err)
			}
		}
		x.progressf("region %s lost: its %d nodes tainted %s", x.Region, len(nodes), taintString(DrillTaint))
	}
	fenced := !x.Fence
	if x.Fence && x.Via != v1alpha1.DrillViaSim {
		if err := x.fence(ctx, rec); err != nil {
			return err
		}
		fenced = true
	}
	deadline := start.Add(x.Timeout)
	tick := time.NewTicker(x.Interval)
	defer tick.Stop()
	for {
		done, notReady := obs.poll(ctx, start)
		if !fenced && notReady {
			if err := x.fence(ctx, rec); err != nil {
				return err
			}
			fenced = true
		}
		// A simulated outage is complete once every lost node is NotReady:
		// the platform is observed then.
		if done && fenced && (notReady || x.Via != v1alpha1.DrillViaSim) {
			break
		}
		if !time.Now().Before(deadline) {
			r.Execution.TimedOut = true
			x.progressf("--timeout %s reached", x.Timeout)
			break
		}
		select {
		case <-ctx.Done():
			x.progressf("interrupted: restoring")
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
	r.Execution.ObservedSeconds = int64(time.Since(start).Round(time.Second) / time.Second)
	obs.finish(ctx, r)
	return nil
}

// fence adds the recorded out-of-service taints.
func (x *Execution) fence(ctx context.Context, rec *Record) error {
	for _, t := range rec.Taints {
		if t.Key != fence.TaintKey {
			continue
		}
		if _, err := fence.SetTaint(ctx, x.Client, t.Node, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}, true); err != nil {
			return fmt.Errorf("fence: %w", err)
		}
	}
	x.progressf("region %s fenced: %s on its nodes", x.Region, fence.TaintKey)
	return nil
}

func (x *Execution) progressf(format string, args ...any) {
	if x.Progress != nil {
		fmt.Fprintf(x.Progress, "drill: "+format+"\n", args...)
	}
}

// hasTaint says whether the node has t (same key and effect).
func hasTaint(n *corev1.Node, t corev1.Taint) bool {
	for _, x := range n.Spec.Taints {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// Restore undoes a recorded drill: it removes the taints the drill added
// (and only them), heals the simulated region, and deletes the record
// last. It returns the record, or ErrNoRecord when there is none; running
// it twice is safe.
func Restore(ctx context.Context, c kubernetes.Interface, open OpenSim, progress io.Writer) (*Record, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, "drill: "+format+"\n", args...)
		}
	}
	rec, err := ReadRecord(ctx, c)
	if err != nil {
		return nil, err
	}
	removed := 0
	for _, t := range rec.Taints {
		changed, err := fence.SetTaint(ctx, c, t.Node, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}, false)
		if err != nil && !apierrors.IsNotFound(err) {
			return rec, err
		}
		if changed {
			removed++
		}
	}
	say("restore: %d of the drill's %d taints removed from the nodes of %s", removed, len(rec.Taints), rec.Region)
	if rec.Via == v1alpha1.DrillViaSim {
		if open == nil {
			return rec, errors.New("the drill failed a simulated region and no simulated cluster can be opened to heal it")
		}
		s, err := open(rec.StateDir)
		if err != nil {
			return rec, err
		}
		if s != nil {
			if err := s.Heal(ctx, rec.Region); err != nil {
				return rec, err
			}
			say("restore: region %s healed", rec.Region)
		} else {
			say("restore: no simulated cluster in %s any more: nothing to heal", rec.StateDir)
		}
	}
	if err := deleteRecord(ctx, c); err != nil {
		return rec, err
	}
	say("restore: ConfigMap %s/%s deleted", RecordNamespace, RecordName)
	return rec, nil
}
