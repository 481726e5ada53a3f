package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
)

// SpreadReturnPhase is the Phase drill --execute runs after the restore
// when asked to (--spread-return): it waits at most wait for the topology
// spread of every Deployment and StatefulSet that lost pods in the drill
// to be within its maxSkew again, and records each one's
// spreadReturnSeconds, counted from the end of the restore. A spread that
// does not return in time is reported as such and is not an error:
// Kubernetes never moves a running pod back by itself, and only a
// descheduler (the topology's spec.workloads.rebalance) or a new rollout
// does.
func SpreadReturnPhase(client kubernetes.Interface, wait time.Duration, progress io.Writer) Phase {
	return Phase{Name: "spread return", Run: func(ctx context.Context, r *Report) error {
		moved := movedWorkloads(r)
		if len(moved) == 0 {
			return nil
		}
		var namespaces []string
		for _, w := range moved {
			if !slices.Contains(namespaces, w.Namespace) {
				namespaces = append(namespaces, w.Namespace)
			}
		}
		slices.Sort(namespaces)
		all, err := SpreadWorkloads(ctx, client, namespaces)
		if err != nil {
			return err
		}
		var ws []SpreadWorkload
		for _, w := range all {
			if slices.ContainsFunc(moved, func(m SpreadWorkload) bool {
				return m.Kind == w.Kind && m.Namespace == w.Namespace && m.Name == w.Name
			}) {
				ws = append(ws, w)
			}
		}
		if len(ws) == 0 {
			return nil
		}
		if progress != nil {
			fmt.Fprintf(progress, "drill: waiting up to %s for the topology spread of %d workload(s) to return\n", wait, len(ws))
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		rs, err := WaitSpreadReturn(wctx, client, ws, SpreadOptions{})
		r.SetSpreadReturns(rs)
		for _, s := range rs {
			if progress == nil {
				continue
			}
			if s.Returned {
				fmt.Fprintf(progress, "drill: %s %s/%s spread back within maxSkew after %s\n", s.Kind, s.Namespace, s.Name, s.After.Round(time.Second))
			} else {
				fmt.Fprintf(progress, "drill: %s %s/%s still skewed after %s (nothing moves pods back without a descheduler)\n", s.Kind, s.Namespace, s.Name, wait)
			}
		}
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil // the wait ended: recorded as not returned
		}
		return err
	}}
}

// movedWorkloads are the report's Deployments and StatefulSets that had
// pods in the lost region.
func movedWorkloads(r *Report) []SpreadWorkload {
	var out []SpreadWorkload
	for _, w := range r.Workloads {
		if w.PodsLost > 0 && (w.Kind == "Deployment" || w.Kind == "StatefulSet") {
			out = append(out, SpreadWorkload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name})
		}
	}
	return out
}
