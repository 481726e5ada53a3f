package drill

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
)

// SpreadWorkload is a workload whose topology spread drill waits for
// after a region returns: its pods are those Selector matches in
// Namespace (a Deployment's or StatefulSet's spec.selector).
type SpreadWorkload struct {
	Kind, Namespace, Name string
	Selector              *metav1.LabelSelector
}

// SpreadSkew is one constraint's skew as last observed.
type SpreadSkew struct {
	TopologyKey string
	MaxSkew     int32
	// Skew is the most pods in an eligible domain minus the fewest; Counts
	// the pods per domain.
	Skew   int
	Counts map[string]int
}

// SpreadReturn is how long a workload's spread took to return.
type SpreadReturn struct {
	SpreadWorkload
	// Returned is true once every constraint was within its maxSkew; After
	// is then how long after WaitSpreadReturn began.
	Returned bool
	After    time.Duration
	// Skews are the constraints' skews at the last look, worst first.
	Skews []SpreadSkew
}

// Seconds is After rounded up to whole seconds, the report's
// spreadReturnSeconds; nil when the spread did not return.
func (r SpreadReturn) Seconds() *int64 {
	if !r.Returned {
		return nil
	}
	s := int64((r.After + time.Second - 1) / time.Second)
	return &s
}

// SpreadOptions configures WaitSpreadReturn.
type SpreadOptions struct {
	// Poll is how often the pods and nodes are listed (default 1s).
	Poll time.Duration
	// ScheduleAnyway also waits for the ScheduleAnyway constraints; by
	// default only DoNotSchedule ones count, as the descheduler's
	// RemovePodsViolatingTopologySpreadConstraint balances by default.
	ScheduleAnyway bool
}

// WaitSpreadReturn waits until every topology spread constraint of each
// workload's pods is within its maxSkew again and returns, per workload in
// the order given, how long that took. It reads the cluster every
// opts.Poll until all have returned or ctx ends; then the workloads whose
// spread did not return have Returned false and their last skews, and the
// error is ctx's. Skew is computed as kube-scheduler's PodTopologySpread
// does, from each running pod's own constraints: the pods its
// labelSelector (and matchLabelKeys) selects in its namespace, bound to a
// node and not terminating, counted per value of the topologyKey over the
// nodes that pass nodeAffinityPolicy (Honor by default) and
// nodeTaintsPolicy (Ignore by default); a domain with no such pod counts
// zero. Pending pods do not count.
func WaitSpreadReturn(ctx context.Context, client kubernetes.Interface, workloads []SpreadWorkload, opts SpreadOptions) ([]SpreadReturn, error) {
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	start := time.Now()
	out := make([]SpreadReturn, len(workloads))
	for i, w := range workloads {
		out[i].SpreadWorkload = w
	}
	ticker := time.NewTicker(opts.Poll)
	defer ticker.Stop()
	for {
		done := true
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return out, fmt.Errorf("spread return: list nodes: %w", err)
		}
		pods := map[string][]corev1.Pod{} // by namespace
		for i := range out {
			if out[i].Returned {
				continue
			}
			ns := out[i].Namespace
			if _, ok := pods[ns]; !ok {
				list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return out, fmt.Errorf("spread return: list pods of %s: %w", ns, err)
				}
				pods[ns] = list.Items
			}
			skews, err := workloadSkews(out[i].SpreadWorkload, pods[ns], nodes.Items, opts.ScheduleAnyway)
			if err != nil {
				return out, fmt.Errorf("spread return: %s %s/%s: %w", out[i].Kind, ns, out[i].Name, err)
			}
			out[i].Skews = skews
			if skews != nil && within(skews) {
				out[i].Returned, out[i].After = true, time.Since(start)
				continue
			}
			done = false
		}
		if done {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("spread return: %w", context.Cause(ctx))
		case <-ticker.C:
		}
	}
}

// within reports whether every skew is within its maxSkew.
func within(skews []SpreadSkew) bool {
	for _, s := range skews {
		if s.Skew > int(s.MaxSkew) {
			return false
		}
	}
	return true
}

// running reports whether p counts for topology spread: bound to a node
// and not terminating.
func running(p *corev1.Pod) bool {
	return p.Spec.NodeName != "" && p.DeletionTimestamp == nil &&
		p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// workloadSkews returns the skews of w's constraints, seen from each of
// its running pods, worst first; nil when none of its pods runs (nothing
// to judge yet).
func workloadSkews(w SpreadWorkload, pods []corev1.Pod, nodes []corev1.Node, scheduleAnyway bool) ([]SpreadSkew, error) {
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	if w.Selector == nil {
		sel = labels.Nothing()
	}
	byNode := map[string]*corev1.Node{}
	for i := range nodes {
		byNode[nodes[i].Name] = &nodes[i]
	}
	var out []SpreadSkew
	seen := false
	for i := range pods {
		p := &pods[i]
		if !running(p) || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		seen = true
		for _, tsc := range p.Spec.TopologySpreadConstraints {
			if tsc.WhenUnsatisfiable != corev1.DoNotSchedule && !scheduleAnyway {
				continue
			}
			s, err := skewOf(p, tsc, pods, nodes, byNode)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	if !seen {
		return nil, nil
	}
	slices.SortStableFunc(out, func(a, b SpreadSkew) int { return (b.Skew - int(b.MaxSkew)) - (a.Skew - int(a.MaxSkew)) })
	if out == nil {
		out = []SpreadSkew{} // running pods without constraints: nothing to wait for
	}
	return out, nil
}

// skewOf computes one constraint's skew for pod p, as PodTopologySpread
// does.
func skewOf(p *corev1.Pod, tsc corev1.TopologySpreadConstraint, pods []corev1.Pod, nodes []corev1.Node, byNode map[string]*corev1.Node) (SpreadSkew, error) {
	sel := labels.Nothing()
	if tsc.LabelSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if err != nil {
			return SpreadSkew{}, fmt.Errorf("topology spread on %s: labelSelector: %w", tsc.TopologyKey, err)
		}
		sel = s
		for _, key := range tsc.MatchLabelKeys {
			v, ok := p.Labels[key]
			if !ok {
				continue
			}
			r, err := labels.NewRequirement(key, selection.Equals, []string{v})
			if err != nil {
				return SpreadSkew{}, fmt.Errorf("topology spread on %s: matchLabelKeys: %w", tsc.TopologyKey, err)
			}
			sel = sel.Add(*r)
		}
	}
	eligible := func(n *corev1.Node) bool {
		if _, ok := n.Labels[tsc.TopologyKey]; !ok {
			return false
		}
		if policyOf(tsc.NodeAffinityPolicy, corev1.NodeInclusionPolicyHonor) == corev1.NodeInclusionPolicyHonor && !matchesAffinity(p, n) {
			return false
		}
		if policyOf(tsc.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore) == corev1.NodeInclusionPolicyHonor {
			if _, bad := untolerated(p, n.Spec.Taints); bad {
				return false
			}
		}
		return true
	}
	counts := map[string]int{}
	for i := range nodes {
		if eligible(&nodes[i]) {
			counts[nodes[i].Labels[tsc.TopologyKey]] += 0
		}
	}
	for i := range pods {
		q := &pods[i]
		if q.Namespace != p.Namespace || !running(q) || !sel.Matches(labels.Set(q.Labels)) {
			continue
		}
		n := byNode[q.Spec.NodeName]
		if n == nil || !eligible(n) {
			continue
		}
		counts[n.Labels[tsc.TopologyKey]]++
	}
	s := SpreadSkew{TopologyKey: tsc.TopologyKey, MaxSkew: tsc.MaxSkew, Counts: counts}
	if len(counts) == 0 {
		return s, nil
	}
	lo, hi := -1, 0
	for _, d := range sortedKeys(counts) {
		c := counts[d]
		if lo < 0 || c < lo {
			lo = c
		}
		hi = max(hi, c)
	}
	if tsc.MinDomains != nil && len(counts) < int(*tsc.MinDomains) {
		lo = 0 // fewer domains than minDomains: the global minimum is 0
	}
	s.Skew = hi - lo
	return s, nil
}

// SpreadWorkloads lists the Deployments and StatefulSets of namespaces
// whose pod template has topology spread constraints, sorted by kind,
// namespace and name: the workloads WaitSpreadReturn waits for.
func SpreadWorkloads(ctx context.Context, client kubernetes.Interface, namespaces []string) ([]SpreadWorkload, error) {
	var out []SpreadWorkload
	for _, ns := range namespaces {
		deps, err := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("spread workloads: list Deployments of %s: %w", ns, err)
		}
		for _, d := range deps.Items {
			if len(d.Spec.Template.Spec.TopologySpreadConstraints) > 0 {
				out = append(out, SpreadWorkload{Kind: "Deployment", Namespace: ns, Name: d.Name, Selector: d.Spec.Selector})
			}
		}
		sets, err := client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("spread workloads: list StatefulSets of %s: %w", ns, err)
		}
		for _, s := range sets.Items {
			if len(s.Spec.Template.Spec.TopologySpreadConstraints) > 0 {
				out = append(out, SpreadWorkload{Kind: "StatefulSet", Namespace: ns, Name: s.Name, Selector: s.Spec.Selector})
			}
		}
	}
	slices.SortFunc(out, func(a, b SpreadWorkload) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// SetSpreadReturns records the measured spread returns on the report's
// workloads of the same kind, namespace and name (spreadReturnSeconds).
func (r *Report) SetSpreadReturns(rs []SpreadReturn) {
	for i := range r.Workloads {
		w := &r.Workloads[i]
		for _, s := range rs {
			if s.Kind == w.Kind && s.Namespace == w.Namespace && s.Name == w.Name {
				w.SpreadReturnSeconds = s.Seconds()
			}
		}
	}
}
