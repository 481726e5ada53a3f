package drill

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// affinityTerm is a required pod affinity or anti-affinity term: the pods
// it selects and the topology key. The scheduler resolves a
// namespaceSelector through the namespaces' labels, which the snapshot
// does not hold: an empty one ({}) selects every namespace, and drill
// leaves the others out (docs/DRILL.md says so).
type affinityTerm struct {
	namespaces    []string
	allNamespaces bool
	sel           labels.Selector
	key           string
}

// newAffinityTerm reads a term of pod p, as kube-scheduler does: no
// namespaces and no namespaceSelector mean p's own namespace.
func newAffinityTerm(p *corev1.Pod, t corev1.PodAffinityTerm) affinityTerm {
	at := affinityTerm{namespaces: t.Namespaces, key: t.TopologyKey, sel: labels.Nothing()}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		at.namespaces = []string{p.Namespace}
	}
	if t.NamespaceSelector != nil && len(t.NamespaceSelector.MatchLabels) == 0 && len(t.NamespaceSelector.MatchExpressions) == 0 {
		at.allNamespaces = true
	}
	if sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector); err == nil {
		at.sel = sel
	}
	return at
}

// matches says whether the term selects pod q.
func (t affinityTerm) matches(q *corev1.Pod) bool {
	if !t.allNamespaces && !slices.Contains(t.namespaces, q.Namespace) {
		return false
	}
	return t.sel.Matches(labels.Set(q.Labels))
}

// requiredTerms returns a pod's required affinity and anti-affinity terms.
func requiredTerms(p *corev1.Pod) (affinity, anti []affinityTerm) {
	a := p.Spec.Affinity
	if a == nil {
		return nil, nil
	}
	if a.PodAffinity != nil {
		for _, t := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			affinity = append(affinity, newAffinityTerm(p, t))
		}
	}
	if a.PodAntiAffinity != nil {
		for _, t := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			anti = append(anti, newAffinityTerm(p, t))
		}
	}
	return affinity, anti
}

// topologyPair is one value of one topology key.
type topologyPair struct{ key, value string }

// affinityState is the InterPodAffinity filter's pre-computed state for
// the replacement being placed.
type affinityState struct {
	affinity, anti []affinityTerm
	// affinityCounts counts, per topology pair, the pods that match every
	// affinity term; antiCounts the pods that match an anti-affinity
	// term; existingAnti names the pods whose own anti-affinity selects
	// the replacement.
	affinityCounts map[topologyPair]int
	antiCounts     map[topologyPair]int
	existingAnti   map[topologyPair][]string
}

// antiPod is a bound pod with required anti-affinity terms.
type antiPod struct {
	pod   *corev1.Pod
	terms []affinityTerm
}

// addBound counts a pod the scheduler sees: bound to a node of the
// snapshot, whether lost, terminating or a replacement.
func (c *cluster) addBound(p *corev1.Pod) {
	c.bound = append(c.bound, p)
	c.boundIn[p.Namespace] = append(c.boundIn[p.Namespace], p)
	if _, anti := requiredTerms(p); len(anti) > 0 {
		c.antiPods = append(c.antiPods, antiPod{pod: p, terms: anti})
	}
}

// affinityOf returns the replacement's state: computed once per pod
// template and kept up to date by placed.
func (c *cluster) affinityOf(p *corev1.Pod) *affinityState {
	if c.state.affinity == nil {
		c.state.affinity = c.countAffinity(p)
	}
	return c.state.affinity
}

// countAffinity computes p's state over every pod the scheduler sees: the
// bound pods, the lost region's and terminating ones included, and the
// replacements placed before. A term selects pods of its namespaces only,
// so only those namespaces' pods are read, unless a term selects every
// namespace.
func (c *cluster) countAffinity(p *corev1.Pod) *affinityState {
	s := &affinityState{affinityCounts: map[topologyPair]int{}, antiCounts: map[topologyPair]int{}, existingAnti: map[topologyPair][]string{}}
	s.affinity, s.anti = requiredTerms(p)
	if len(s.affinity) > 0 || len(s.anti) > 0 {
		for _, q := range c.boundSelectable(append(slices.Clip(s.affinity), s.anti...)) {
			s.count(c.byName[q.Spec.NodeName], q)
		}
	}
	for _, ap := range c.antiPods {
		s.addExisting(c.byName[ap.pod.Spec.NodeName], ap, p)
	}
	return s
}

// boundSelectable returns the bound pods the terms can select: those of
// the terms' namespaces, or all when a term selects every namespace.
func (c *cluster) boundSelectable(terms []affinityTerm) []*corev1.Pod {
	var namespaces []string
	for _, t := range terms {
		if t.allNamespaces {
			return c.bound
		}
		for _, ns := range t.namespaces {
			if !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
	}
	if len(namespaces) == 1 {
		return c.boundIn[namespaces[0]]
	}
	var out []*corev1.Pod
	for _, ns := range namespaces {
		out = append(out, c.boundIn[ns]...)
	}
	return out
}

// count counts bound pod q, on node n, for the replacement's affinity
// and anti-affinity terms.
func (s *affinityState) count(n *node, q *corev1.Pod) {
	if matchesAll(s.affinity, q) {
		for _, t := range s.affinity {
			if v, ok := n.node.Labels[t.key]; ok {
				s.affinityCounts[topologyPair{t.key, v}]++
			}
		}
	}
	for _, t := range s.anti {
		if v, ok := n.node.Labels[t.key]; ok && t.matches(q) {
			s.antiCounts[topologyPair{t.key, v}]++
		}
	}
}

// addExisting notes the terms of ap, a bound pod on node n, that select
// replacement p.
func (s *affinityState) addExisting(n *node, ap antiPod, p *corev1.Pod) {
	for _, t := range ap.terms {
		if v, ok := n.node.Labels[t.key]; ok && t.matches(p) {
			pair := topologyPair{t.key, v}
			s.existingAnti[pair] = append(s.existingAnti[pair], ap.pod.Namespace+"/"+ap.pod.Name)
		}
	}
}

func matchesAll(terms []affinityTerm, q *corev1.Pod) bool {
	for _, t := range terms {
		if !t.matches(q) {
			return false
		}
	}
	return len(terms) > 0
}

// interPodAffinity is kube-scheduler's InterPodAffinity filter: every
// required affinity term must find, in the node's domain of its key, a pod
// that matches all the terms (or no such pod exists anywhere and the
// replacement matches its own terms: the first pod of a group); no
// required anti-affinity term may find a pod in the node's domain; and no
// existing pod's required anti-affinity may select the replacement in the
// node's domain.
func (c *cluster) interPodAffinity(p *corev1.Pod, n *node) string {
	s := c.affinityOf(p)
	if len(s.affinity) == 0 && len(s.anti) == 0 && len(s.existingAnti) == 0 {
		return ""
	}
	if len(s.affinity) > 0 {
		found := true
		for _, t := range s.affinity {
			v, ok := n.node.Labels[t.key]
			if !ok {
				return "no " + t.key + " label (pod affinity)"
			}
			if s.affinityCounts[topologyPair{t.key, v}] <= 0 {
				found = false
			}
		}
		if !found && !(len(s.affinityCounts) == 0 && matchesAll(s.affinity, p)) {
			keys := make([]string, len(s.affinity))
			for i, t := range s.affinity {
				keys[i] = t.key
			}
			return fmt.Sprintf("pod affinity: no pod it must run with in this node's %s", strings.Join(keys, ", "))
		}
	}
	for _, t := range s.anti {
		if v, ok := n.node.Labels[t.key]; ok && s.antiCounts[topologyPair{t.key, v}] > 0 {
			return fmt.Sprintf("pod anti-affinity: a pod it must avoid runs in %s=%s", t.key, v)
		}
	}
	for _, k := range sortedLabelKeys(n.node.Labels) {
		if who := s.existingAnti[topologyPair{k, n.node.Labels[k]}]; len(who) > 0 {
			return fmt.Sprintf("the anti-affinity of pod %s forbids %s=%s", who[0], k, n.node.Labels[k])
		}
	}
	return ""
}

func sortedLabelKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
