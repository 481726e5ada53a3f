package drill

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// node is a node as the scheduler sees it after the loss: the lost
// region's nodes carry the unreachable taints, and what runs on each
// node is counted.
type node struct {
	node   *corev1.Node
	region string
	lost   bool
	taints []corev1.Taint
	// used is the requests of the pods bound to it; pods their number.
	used corev1.ResourceList
	pods int64
}

// cluster is the snapshot's nodes and live pods after the loss; the
// replacements drill places are added to it, workload after workload.
type cluster struct {
	lost string
	// storageNamespace is Rook's: its pods are judged by the platform.
	storageNamespace string
	nodes            []*node // sorted by name
	byName           map[string]*node
	// running are the pods that count for topology spread: bound, not
	// terminating, not in the lost region, plus the replacements placed
	// (addRunning); runningIn holds the same pods by namespace.
	running   []*corev1.Pod
	runningIn map[string][]*corev1.Pod
	// bound are every pod bound to a node of the snapshot, the lost
	// region's and terminating ones included (the scheduler still sees
	// them), plus the replacements placed: inter-pod affinity counts them
	// (addBound); boundIn holds the same pods by namespace.
	bound   []*corev1.Pod
	boundIn map[string][]*corev1.Pod
	// antiPods are the bound pods with required anti-affinity terms.
	antiPods []antiPod
	// state is what the filters computed for the replacement being
	// placed: the state of its pod template (stateFor), kept up to date
	// by placed.
	state *podState
	// templates are the states of the workload being placed, one per
	// distinct pod template (index.go); place resets them per workload.
	templates []*podState
	// rejections is place's buffer of the nodes a replacement does not
	// fit on.
	rejections []rejection
	// pvcs and pvs are the snapshot's claims by namespace/name and
	// volumes by name; pvcsListed says whether the claims could be read.
	pvcs       map[string]*corev1.PersistentVolumeClaim
	pvs        map[string]*corev1.PersistentVolume
	pvcsListed bool
	// storageClasses and csiDrivers by name.
	storageClasses map[string]*storagev1.StorageClass
	csiDrivers     map[string]*storagev1.CSIDriver
	// pdbs are the snapshot's PodDisruptionBudgets (sorted by namespace
	// and name), replicas the controllers' desired replicas (replicasOf),
	// podsIn the live pods by namespace.
	pdbs     []policyv1.PodDisruptionBudget
	replicas map[string]int32
	podsIn   map[string][]*corev1.Pod
}

// podState is what the filters computed for the replacements of one pod
// template: the topology spread and inter-pod affinity counts, computed
// once and kept up to date as replacements are placed (placed), and the
// volumes of the replacement being placed (its claims' names differ from
// one StatefulSet pod to the next).
type podState struct {
	pod      *corev1.Pod // the template's first replacement
	spread   []*spreadConstraint
	affinity *affinityState
	volumes  *volumeState
}

func newCluster(s *check.Snapshot, m *topology.Model, lost string) *cluster {
	c := &cluster{lost: lost, storageNamespace: m.Storage.Namespace, byName: map[string]*node{},
		runningIn: map[string][]*corev1.Pod{}, boundIn: map[string][]*corev1.Pod{}, state: &podState{}}
	regions := modelRegions(m)
	for i := range s.Nodes {
		n := &s.Nodes[i]
		nd := &node{node: n, region: regions.of(n), taints: slices.Clone(n.Spec.Taints), used: corev1.ResourceList{}}
		if nd.region == lost {
			nd.lost = true
			nd.taints = append(nd.taints,
				corev1.Taint{Key: TaintUnreachable, Effect: corev1.TaintEffectNoSchedule},
				corev1.Taint{Key: TaintUnreachable, Effect: corev1.TaintEffectNoExecute})
		}
		c.nodes = append(c.nodes, nd)
		c.byName[n.Name] = nd
	}
	slices.SortFunc(c.nodes, func(a, b *node) int { return strings.Compare(a.node.Name, b.node.Name) })
	c.pvcs, c.pvs = map[string]*corev1.PersistentVolumeClaim{}, map[string]*corev1.PersistentVolume{}
	c.storageClasses, c.csiDrivers = map[string]*storagev1.StorageClass{}, map[string]*storagev1.CSIDriver{}
	c.pvcsListed = s.Errors[check.KindPVCs] == nil && s.Errors[check.KindPersistentVolumes] == nil
	c.pdbs, c.replicas, c.podsIn = s.PDBs, replicasOf(s), podsByNamespace(s)
	for i := range s.PVCs {
		c.pvcs[s.PVCs[i].Namespace+"/"+s.PVCs[i].Name] = &s.PVCs[i]
	}
	for i := range s.PersistentVolumes {
		c.pvs[s.PersistentVolumes[i].Name] = &s.PersistentVolumes[i]
	}
	for i := range s.StorageClasses {
		c.storageClasses[s.StorageClasses[i].Name] = &s.StorageClasses[i]
	}
	for i := range s.CSIDrivers {
		c.csiDrivers[s.CSIDrivers[i].Name] = &s.CSIDrivers[i]
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.Spec.NodeName == "" {
			continue
		}
		if n := c.byName[p.Spec.NodeName]; n != nil {
			n.add(p)
			c.addBound(p)
			if !n.lost && p.DeletionTimestamp == nil {
				c.addRunning(p)
			}
		}
	}
	return c
}

// isLost says whether a node is in the lost region.
func (c *cluster) isLost(name string) bool {
	n := c.byName[name]
	return n != nil && n.lost
}

// add counts a pod's requests on the node.
func (n *node) add(p *corev1.Pod) {
	for k, q := range requests(p) {
		sum := n.used[k]
		sum.Add(q)
		n.used[k] = sum
	}
	n.pods++
}

// requests is a pod's effective requests: the larger of its containers'
// sum and its largest init container, plus its overhead.
func requests(p *corev1.Pod) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, ct := range p.Spec.Containers {
		for k, q := range ct.Resources.Requests {
			sum := out[k]
			sum.Add(q)
			out[k] = sum
		}
	}
	for _, ct := range p.Spec.InitContainers {
		for k, q := range ct.Resources.Requests {
			if cur := out[k]; q.Cmp(cur) > 0 {
				out[k] = q.DeepCopy()
			}
		}
	}
	for k, q := range p.Spec.Overhead {
		sum := out[k]
		sum.Add(q)
		out[k] = sum
	}
	return out
}

// place places replacements of the lost pods, one by one, on the
// surviving nodes (the first that passes every filter, by name), and
// returns the nodes used, or why a replacement fits nowhere.
func (c *cluster) place(lost []*corev1.Pod) (on []string, why string) {
	c.templates = nil // the states of the previous workload
	for _, p := range lost {
		// A shallow copy: nothing changes a replacement but its node.
		repl := new(corev1.Pod)
		*repl = *p
		repl.Spec.NodeName = ""
		reasons := c.rejections[:0]
		var chosen *node
		c.stateFor(repl)
		for _, n := range c.nodes {
			if msg := c.filter(repl, n); msg != "" {
				reasons = append(reasons, rejection{node: n.node.Name, msg: msg})
				continue
			}
			chosen = n
			break
		}
		c.rejections = reasons
		if chosen == nil {
			return on, fmt.Sprintf("a replacement of pod %s fits on none of the %d nodes: %s", p.Name, len(c.nodes), summarize(reasons))
		}
		repl.Spec.NodeName = chosen.node.Name
		chosen.add(repl)
		c.placed(repl, chosen)
		if !slices.Contains(on, chosen.node.Name) {
			on = append(on, chosen.node.Name)
		}
	}
	return on, ""
}

// rejection is why a replacement does not fit on a node.
type rejection struct{ node, msg string }

// summarize groups the filters' reasons by message, as the scheduler's
// FailedScheduling event does, the surviving nodes' reasons first, each
// with the nodes it concerns.
func summarize(reasons []rejection) string {
	var msgs []string
	nodes := map[string][]string{}
	for _, r := range reasons {
		if nodes[r.msg] == nil {
			msgs = append(msgs, r.msg)
		}
		nodes[r.msg] = append(nodes[r.msg], r.node)
	}
	// The lost region's nodes say nothing new: last.
	slices.SortStableFunc(msgs, func(a, b string) int {
		return cmpBool(a == msgLost, b == msgLost)
	})
	parts := make([]string, len(msgs))
	for i, msg := range msgs {
		parts[i] = fmt.Sprintf("%s (%s)", msg, strings.Join(nodes[msg], ", "))
	}
	return strings.Join(parts, "; ")
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// msgLost is the filters' reason for a node of the lost region.
const msgLost = "in the lost region"

// filter says why p cannot run on n, or "" when it can: the lost region,
// an unschedulable or NotReady node, node affinity, taints, resources,
// volumes' node affinity, topology spread and inter-pod affinity, in that
// order.
func (c *cluster) filter(p *corev1.Pod, n *node) string {
	switch {
	case n.lost:
		return msgLost
	case n.node.Spec.Unschedulable:
		return "cordoned"
	case !ready(n.node):
		return "not Ready"
	}
	if !matchesAffinity(p, n.node) {
		return "node affinity or nodeSelector does not match"
	}
	if t, ok := untolerated(p, n.taints); ok {
		return "taint " + taintString(t) + " not tolerated"
	}
	if msg := fits(p, n); msg != "" {
		return msg
	}
	if msg := c.volumeAffinity(p, n); msg != "" {
		return msg
	}
	if msg := c.spread(p, n); msg != "" {
		return msg
	}
	return c.interPodAffinity(p, n)
}

// fits checks requests against allocatable minus what runs on the node.
func fits(p *corev1.Pod, n *node) string {
	alloc := n.node.Status.Allocatable
	if q, ok := alloc[corev1.ResourcePods]; ok && n.pods+1 > q.Value() {
		return "too many pods"
	}
	req := requests(p)
	keys := make([]corev1.ResourceName, 0, len(req))
	for k := range req {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		q := req[k]
		if q.IsZero() {
			continue
		}
		free := alloc[k].DeepCopy()
		free.Sub(n.used[k])
		if q.Cmp(free) > 0 {
			return fmt.Sprintf("insufficient %s (requests %s, free %s)", k, q.String(), quantity(free))
		}
	}
	return ""
}

func quantity(q resource.Quantity) string {
	if q.Sign() < 0 {
		return "0"
	}
	return q.String()
}

// untolerated returns the first NoSchedule or NoExecute taint p does not
// tolerate.
func untolerated(p *corev1.Pod, taints []corev1.Taint) (corev1.Taint, bool) {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !slices.ContainsFunc(p.Spec.Tolerations, func(tol corev1.Toleration) bool { return tolerates(tol, t) }) {
			return t, true
		}
	}
	return corev1.Taint{}, false
}

// tolerates is Kubernetes' toleration matching: an empty key with Exists
// matches every key, an empty effect every effect.
func tolerates(tol corev1.Toleration, t corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case corev1.TolerationOpEqual, "":
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

func taintString(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// matchesAffinity checks the pod's nodeSelector and its required node
// affinity.
func matchesAffinity(p *corev1.Pod, n *corev1.Node) bool {
	for k, v := range p.Spec.NodeSelector {
		if got, ok := n.Labels[k]; !ok || got != v {
			return false
		}
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if matchesTerm(term, n) {
			return true
		}
	}
	return false
}

// matchesTerm ANDs a term's expressions; a term without any matches no
// node.
func matchesTerm(term corev1.NodeSelectorTerm, n *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, e := range term.MatchExpressions {
		v, ok := n.Labels[e.Key]
		if !matchesRequirement(e, v, ok) {
			return false
		}
	}
	for _, e := range term.MatchFields {
		if e.Key != "metadata.name" || !matchesRequirement(e, n.Name, true) {
			return false
		}
	}
	return true
}

func matchesRequirement(e corev1.NodeSelectorRequirement, v string, ok bool) bool {
	switch e.Operator {
	case corev1.NodeSelectorOpIn:
		return ok && slices.Contains(e.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !ok || !slices.Contains(e.Values, v)
	case corev1.NodeSelectorOpExists:
		return ok
	case corev1.NodeSelectorOpDoesNotExist:
		return !ok
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !ok || len(e.Values) != 1 {
			return false
		}
		got, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(e.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return (e.Operator == corev1.NodeSelectorOpGt && got > want) || (e.Operator == corev1.NodeSelectorOpLt && got < want)
	}
	return false
}

// spread checks the DoNotSchedule topology spread constraints as
// kube-scheduler's PodTopologySpread filter does: a constraint's selector
// is its labelSelector plus, for each of its matchLabelKeys, the pod's own
// value; the domains are the topologyKey values of the nodes that carry
// every constraint's key and pass the constraint's nodeAffinityPolicy
// (Honor by default) and nodeTaintsPolicy (Ignore by default, so tainted
// nodes, the lost region's included, count as domains); terminating pods
// and the lost region's pods do not count; when fewer domains than
// minDomains are left, the global minimum is 0.
func (c *cluster) spread(p *corev1.Pod, n *node) string {
	cs := c.spreadConstraints(p)
	for _, sc := range cs {
		if _, ok := n.node.Labels[sc.tsc.TopologyKey]; !ok {
			return "no " + sc.tsc.TopologyKey + " label (topology spread)"
		}
	}
	for _, sc := range cs {
		tsc := sc.tsc
		value := n.node.Labels[tsc.TopologyKey]
		self := 0
		if sc.sel.Matches(labels.Set(p.Labels)) {
			self = 1
		}
		if skew := sc.counts[value] + self - sc.min; skew > int(tsc.MaxSkew) {
			return sc.explain(c, p, skew)
		}
	}
	return ""
}

// spreadConstraint is one DoNotSchedule constraint of the replacement
// being placed, with its pods per domain and the global minimum.
type spreadConstraint struct {
	tsc    corev1.TopologySpreadConstraint
	sel    labels.Selector
	counts map[string]int
	// min is the least count, or 0 when fewer domains than minDomains
	// are left.
	min        int
	minDomains int
	// least caches explain's domains with the fewest pods until placed
	// changes a count; schedulableIn says, by domain, whether the pod
	// tolerates a node's taints there (index.go).
	least         *leastDomains
	schedulableIn map[string]bool
}

// explain says why a skew is too large, naming the domains with the
// fewest pods, the ones the pod cannot run in, and minDomains.
func (sc *spreadConstraint) explain(c *cluster, p *corev1.Pod, skew int) string {
	tsc := sc.tsc
	ld := sc.leastDomains(c, p)
	against := fmt.Sprintf("against %s with %d pods", ld.least, sc.min)
	hint := ""
	if len(sc.counts) < sc.minDomains {
		against = fmt.Sprintf("against a minimum of 0: %d domain(s) left (%s), fewer than minDomains %d", len(sc.counts), strings.Join(sortedKeys(sc.counts), ", "), sc.minDomains)
	} else if len(ld.blocked) > 0 && policyOf(tsc.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore) == corev1.NodeInclusionPolicyIgnore {
		hint = fmt.Sprintf("; %s count as domains although the pod tolerates none of their nodes' taints (nodeTaintsPolicy Ignore, the default): set nodeTaintsPolicy: Honor", strings.Join(ld.blocked, ", "))
	}
	return fmt.Sprintf("topology spread on %s: skew %d > maxSkew %d %s%s", tsc.TopologyKey, skew, tsc.MaxSkew, against, hint)
}

// spreadConstraints returns the replacement's DoNotSchedule constraints
// with their pods per domain: counted once per pod template (the counts
// do not depend on the candidate node) and kept up to date by placed.
func (c *cluster) spreadConstraints(p *corev1.Pod) []*spreadConstraint {
	if c.state.spread == nil {
		c.state.spread = c.countSpread(p)
	}
	return c.state.spread
}

// countSpread counts, from the running pods, p's DoNotSchedule constraints'
// pods per domain.
func (c *cluster) countSpread(p *corev1.Pod) []*spreadConstraint {
	cs := []*spreadConstraint{}
	for _, tsc := range p.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		sel := spreadSelector(p, tsc)
		cs = append(cs, &spreadConstraint{tsc: tsc, sel: sel, counts: map[string]int{}, minDomains: int(ptrOr(tsc.MinDomains, 1))})
	}
	for _, sc := range cs {
		for _, other := range c.nodes {
			if hasKeys(cs, other) && c.eligible(p, other, sc.tsc) {
				v := other.node.Labels[sc.tsc.TopologyKey]
				sc.counts[v] += 0
			}
		}
		if !sc.sel.Empty() {
			for _, q := range c.runningIn[p.Namespace] {
				if !sc.sel.Matches(labels.Set(q.Labels)) {
					continue
				}
				on := c.byName[q.Spec.NodeName]
				if on == nil || !hasKeys(cs, on) || !c.eligible(p, on, sc.tsc) {
					continue
				}
				sc.counts[on.node.Labels[sc.tsc.TopologyKey]]++
			}
		}
		sc.setMin()
	}
	return cs
}

// hasKeys says whether a node carries every constraint's key: only such
// a node counts.
func hasKeys(cs []*spreadConstraint, n *node) bool {
	for _, sc := range cs {
		if _, ok := n.node.Labels[sc.tsc.TopologyKey]; !ok {
			return false
		}
	}
	return true
}

// setMin sets the global minimum: the least count, or 0 when there is no
// domain or fewer than minDomains.
func (sc *spreadConstraint) setMin() {
	sc.min = -1
	for _, n := range sc.counts {
		if sc.min < 0 || n < sc.min {
			sc.min = n
		}
	}
	if sc.min < 0 || len(sc.counts) < sc.minDomains {
		sc.min = 0
	}
}

// spreadSelector is a constraint's labelSelector with, for each of its
// matchLabelKeys the pod has, a requirement on the pod's value. A
// constraint without a selector matches no pod.
func spreadSelector(p *corev1.Pod, tsc corev1.TopologySpreadConstraint) labels.Selector {
	if tsc.LabelSelector == nil {
		return labels.Nothing()
	}
	sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
	if err != nil {
		return labels.Nothing()
	}
	for _, k := range tsc.MatchLabelKeys {
		v, ok := p.Labels[k]
		if !ok {
			continue
		}
		r, err := labels.NewRequirement(k, selection.Equals, []string{v})
		if err != nil {
			return labels.Nothing()
		}
		sel = sel.Add(*r)
	}
	return sel
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// eligible says whether a node's domain counts for a constraint.
func (c *cluster) eligible(p *corev1.Pod, n *node, tsc corev1.TopologySpreadConstraint) bool {
	if policyOf(tsc.NodeAffinityPolicy, corev1.NodeInclusionPolicyHonor) == corev1.NodeInclusionPolicyHonor && !matchesAffinity(p, n.node) {
		return false
	}
	if policyOf(tsc.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore) == corev1.NodeInclusionPolicyHonor {
		if _, bad := untolerated(p, n.taints); bad {
			return false
		}
	}
	return true
}

func policyOf(p *corev1.NodeInclusionPolicy, def corev1.NodeInclusionPolicy) corev1.NodeInclusionPolicy {
	if p == nil {
		return def
	}
	return *p
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
