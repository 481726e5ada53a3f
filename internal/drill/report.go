package drill

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/report"
)

// Report is a DrillReport with its output formats.
type Report struct {
	v1alpha1.DrillReport
}

// Formats lists the output formats, the first being the default.
var Formats = slices.Clone(report.Formats)

// Write writes the report in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	return report.Write(w, format, r)
}

// Failed says whether anything would not recover: a workload that fails
// (its verdict, or --rto), a platform quorum lost, or every ingress
// endpoint.
func (r *Report) Failed() bool {
	p := r.Platform
	if !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum || ingressLost(p) {
		return true
	}
	return slices.ContainsFunc(r.Workloads, func(w v1alpha1.DrillWorkload) bool { return w.Failed }) || r.observedFailed()
}

// Partial says whether a kind could not be listed.
func (r *Report) Partial() bool { return len(r.Unavailable) > 0 }

// SummaryLine counts the workloads by verdict.
func (r *Report) SummaryLine() string {
	n := map[v1alpha1.Verdict]int{}
	failed := 0
	for _, w := range r.Workloads {
		n[w.Verdict]++
		if w.Failed {
			failed++
		}
	}
	line := fmt.Sprintf("losing %s: %d workloads: %d recover, %d hang, %d pending, %d lost, %d unaffected; %d fail",
		r.LostRegion, len(r.Workloads), n[v1alpha1.VerdictRecovers], n[v1alpha1.VerdictHangs], n[v1alpha1.VerdictPending],
		n[v1alpha1.VerdictLost], n[v1alpha1.VerdictUnaffected], failed)
	if r.Partial() {
		line += "; PARTIAL REPORT: some kinds could not be listed"
	}
	return line
}

// ingressLost says whether the ingress had Ready endpoints and none is
// left.
func ingressLost(p v1alpha1.DrillPlatform) bool {
	return p.IngressEndpointsBefore > 0 && p.IngressEndpoints == 0
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// WriteTable writes why kinds could not be listed, the platform, one row
// per workload and the summary line.
func (r *Report) WriteTable(w io.Writer) error {
	if r.Execution != nil {
		return r.writeExecutionTable(w)
	}
	for _, u := range r.Unavailable {
		if _, err := fmt.Fprintf(w, "unavailable: %s\n", u.Message); err != nil {
			return err
		}
	}
	p := r.Platform
	stretch := "healthy"
	if p.CephStretchDegraded {
		stretch = "degraded"
	}
	fmt.Fprintf(w, "platform: etcd quorum %s, API server %s, Ceph mon quorum %s, Ceph stretch mode %s, ingress endpoints %d of %d\n",
		yesNo(p.EtcdQuorum), yesNo(p.APIServer), yesNo(p.CephMonQuorum), stretch, p.IngressEndpoints, p.IngressEndpointsBefore)
	for _, reason := range p.Reasons {
		fmt.Fprintf(w, "  %s\n", reason)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tLOST\tVERDICT\tAVAILABLE\tRECOVERY\tREASON")
	for _, x := range r.Workloads {
		rec := "-"
		if x.RecoverySeconds > 0 {
			rec = fmt.Sprintf("%ds", x.RecoverySeconds)
		}
		verdict := string(x.Verdict)
		if x.Failed {
			verdict += " (FAIL)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", x.Kind, x.Namespace, x.Name, x.PodsLost, verdict, yesNo(x.Available), rec, x.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.SummaryLine())
	return err
}

// JUnit returns one case per platform service and per workload: a failed
// workload is a failure, a lost quorum too.
func (r *Report) JUnit() report.Suite {
	suite := report.Suite{Name: "kubectl-stretch drill " + r.Topology + " --lose " + r.LostRegion}
	p := r.Platform
	for _, c := range []struct {
		name string
		ok   bool
	}{{"etcd quorum", p.EtcdQuorum}, {"API server", p.APIServer}, {"Ceph mon quorum", p.CephMonQuorum}, {"ingress endpoints", !ingressLost(p)}} {
		tc := report.Case{Name: c.name, Classname: "platform"}
		if !c.ok {
			tc.Failure = &report.Problem{Message: c.name + " lost", Type: "platform"}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	for _, x := range r.Workloads {
		tc := report.Case{Name: x.Kind + "/" + x.Namespace + "/" + x.Name, Classname: "workloads", SystemOut: string(x.Verdict) + ": " + x.Reason}
		if x.Failed {
			tc.Failure = &report.Problem{Message: x.Reason, Type: string(x.Verdict)}
		} else if observedFailure(x) {
			tc.Failure = &report.Problem{Message: "observed " + string(x.Observed.Verdict) + ": " + x.Difference, Type: "observed"}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return suite
}
