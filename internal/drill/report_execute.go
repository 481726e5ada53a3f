package drill

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// observedFailed says whether an execution saw a workload not recover
// (observed hangs, pending or lost) or differ from its prediction.
func (r *Report) observedFailed() bool {
	if r.Execution == nil {
		return false
	}
	return slices.ContainsFunc(r.Workloads, observedFailure)
}

// observedFailure says whether one workload failed the execution.
func observedFailure(w v1alpha1.DrillWorkload) bool {
	if w.Observed == nil {
		return false
	}
	v := w.Observed.Verdict
	return (v != v1alpha1.VerdictRecovers && v != v1alpha1.VerdictUnaffected) || (w.Match != nil && !*w.Match)
}

// predictedCell is a verdict and its recovery for the table.
func predictedCell(v v1alpha1.Verdict, secs int64) string {
	if secs > 0 {
		return fmt.Sprintf("%s %ds", v, secs)
	}
	return string(v)
}

// writeExecutionTable writes an executed drill: the platform predicted and
// observed, one row per workload with PREDICTED, OBSERVED and MATCH, and
// the summary lines.
func (r *Report) writeExecutionTable(w io.Writer) error {
	x := r.Execution
	p := r.Platform
	fmt.Fprintf(w, "platform predicted: etcd quorum %s, API server %s, Ceph mon quorum %s\n", yesNo(p.EtcdQuorum), yesNo(p.APIServer), yesNo(p.CephMonQuorum))
	op := x.Platform
	observed := func(b *bool) string {
		if b == nil {
			return "not observed"
		}
		return yesNo(*b)
	}
	fmt.Fprintf(w, "platform observed: etcd quorum %s, API server %s, Ceph mon quorum %s\n", observed(op.EtcdQuorum), yesNo(op.APIServer), observed(op.CephMonQuorum))
	for _, reason := range op.Reasons {
		fmt.Fprintf(w, "  %s\n", reason)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tLOST\tPREDICTED\tOBSERVED\tMATCH\tREASON")
	for _, d := range r.Workloads {
		obs, match, reason := "-", "-", d.Reason
		if d.Observed != nil {
			obs = predictedCell(d.Observed.Verdict, d.Observed.RecoverySeconds)
			if !d.Observed.Available {
				obs += " (unavailable)"
			}
		}
		if d.Match != nil {
			match = yesNo(*d.Match)
			if !*d.Match {
				reason = d.Difference
			}
		}
		pred := predictedCell(d.Verdict, d.RecoverySeconds)
		if !d.Available {
			pred += " (unavailable)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.Kind, d.Namespace, d.Name, d.PodsLost, pred, obs, match, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range r.Workloads {
		if d.SpreadReturnSeconds != nil {
			fmt.Fprintf(w, "%s %s/%s: topology spread back within maxSkew %ds after the restore\n", d.Kind, d.Namespace, d.Name, *d.SpreadReturnSeconds)
		}
	}
	differ, notRecovered := 0, 0
	for _, d := range r.Workloads {
		if d.Match != nil && !*d.Match {
			differ++
		}
		if d.Observed != nil && d.Observed.Verdict != v1alpha1.VerdictRecovers && d.Observed.Verdict != v1alpha1.VerdictUnaffected {
			notRecovered++
		}
	}
	end := "every workload settled"
	if x.TimedOut {
		end = fmt.Sprintf("stopped at --timeout %ds", x.TimeoutSeconds)
	}
	restored := "restored"
	if !x.Restored {
		restored = "NOT RESTORED: run kubectl stretch drill --restore"
	}
	_, err := fmt.Fprintf(w, "%s\nexecuted via %s: observed %d s, %s, %s; %d did not recover, %d differ from the prediction (tolerance max(%d s, %d%%))\n",
		r.SummaryLine(), x.Via, x.ObservedSeconds, end, restored, notRecovered, differ, x.ToleranceSeconds, x.TolerancePercent)
	return err
}
