package drill

import (
	"maps"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// What keeps a prediction near linear in the cluster's size (1,000 nodes
// and 20,000 pods in docs/BENCHMARKS.md): the running and bound pods by
// namespace; topology spread and inter-pod affinity counted once per
// workload and pod template and then kept up to date as replacements are
// placed, instead of once per replacement over every pod; explain's
// domains remembered until a count changes; and the topology's regions by
// node name. None of it changes a prediction: the counts are those a
// recount would give (TestStateKeptUpToDate).

// nodeRegions is the topology's region of each of its nodes.
type nodeRegions map[string]string

func modelRegions(m *topology.Model) nodeRegions {
	r := make(nodeRegions, len(m.Nodes))
	for _, n := range m.Nodes {
		r[n.Name] = n.Region
	}
	return r
}

// of returns a node's region: the model's for the topology's nodes, else
// the node's zone label.
func (r nodeRegions) of(n *corev1.Node) string {
	if region, ok := r[n.Name]; ok {
		return region
	}
	return n.Labels[topology.LabelZone]
}

// addRunning records a pod that counts for topology spread.
func (c *cluster) addRunning(p *corev1.Pod) {
	c.running = append(c.running, p)
	c.runningIn[p.Namespace] = append(c.runningIn[p.Namespace], p)
}

// stateFor makes c.state the state of replacement p's pod template: that
// of an earlier replacement of the workload with the same template, or a
// new one. The volumes are the replacement's own.
func (c *cluster) stateFor(p *corev1.Pod) {
	for _, st := range c.templates {
		if sameTemplate(st.pod, p) {
			st.volumes = nil
			c.state = st
			return
		}
	}
	c.state = &podState{pod: p}
	c.templates = append(c.templates, c.state)
}

// sameTemplate says whether the filters' counts of two pods are the same:
// their namespace, labels, node selection, tolerations, affinities and
// spread constraints are (a Deployment's pods of one ReplicaSet; a
// StatefulSet's pods differ by their pod-name label). reflect.DeepEqual
// is stricter than apimachinery's semantic equality (a nil slice is not
// an empty one) and faster: a false "different" only costs another count.
func sameTemplate(a, b *corev1.Pod) bool {
	return a.Namespace == b.Namespace &&
		maps.Equal(a.Labels, b.Labels) &&
		maps.Equal(a.Spec.NodeSelector, b.Spec.NodeSelector) &&
		reflect.DeepEqual(a.Spec.Affinity, b.Spec.Affinity) &&
		reflect.DeepEqual(a.Spec.Tolerations, b.Spec.Tolerations) &&
		reflect.DeepEqual(a.Spec.TopologySpreadConstraints, b.Spec.TopologySpreadConstraints)
}

// placed records replacement q on node on: it runs there from now on, and
// every count of the workload's templates that countSpread or
// countAffinity would count it in goes up by one.
func (c *cluster) placed(q *corev1.Pod, on *node) {
	c.addRunning(q)
	c.addBound(q)
	set := labels.Set(q.Labels)
	_, qAnti := requiredTerms(q)
	for _, st := range c.templates {
		if q.Namespace == st.pod.Namespace {
			for _, sc := range st.spread {
				if sc.sel.Empty() || !sc.sel.Matches(set) || !hasKeys(st.spread, on) || !c.eligible(st.pod, on, sc.tsc) {
					continue
				}
				v := on.node.Labels[sc.tsc.TopologyKey]
				sc.counts[v]++
				if sc.counts[v]-1 == sc.min || len(sc.counts) < sc.minDomains {
					sc.setMin()
				}
				sc.least = nil
			}
		}
		if s := st.affinity; s != nil {
			if len(s.affinity) > 0 || len(s.anti) > 0 {
				s.count(on, q)
			}
			if len(qAnti) > 0 {
				s.addExisting(on, antiPod{pod: q, terms: qAnti}, st.pod)
			}
		}
	}
}

// leastDomains are the domains with the fewest matching pods, joined for
// a message, and those of them where the pod tolerates no node's taints.
type leastDomains struct {
	least   string
	blocked []string
}

// leastDomains returns the domains with the fewest pods, remembered until
// placed changes a count. p is a replacement of the template the counts
// are for.
func (sc *spreadConstraint) leastDomains(c *cluster, p *corev1.Pod) *leastDomains {
	if sc.least != nil {
		return sc.least
	}
	least := -1
	for _, n := range sc.counts {
		if least < 0 || n < least {
			least = n
		}
	}
	var names []string
	ld := &leastDomains{}
	for _, d := range sortedKeys(sc.counts) {
		if sc.counts[d] == least {
			names = append(names, d)
			if !sc.schedulable(c, p, d) {
				ld.blocked = append(ld.blocked, d)
			}
		}
	}
	ld.least = strings.Join(names, ", ")
	sc.least = ld
	return ld
}

// schedulable says whether a domain has a node whose taints p tolerates,
// computed for every domain in one pass over the nodes the first time: p
// is a replacement of the template the counts are for, and neither the
// nodes nor their taints change during a prediction.
func (sc *spreadConstraint) schedulable(c *cluster, p *corev1.Pod, domain string) bool {
	if sc.schedulableIn == nil {
		sc.schedulableIn = map[string]bool{}
		for _, n := range c.nodes {
			v := n.node.Labels[sc.tsc.TopologyKey]
			if sc.schedulableIn[v] {
				continue
			}
			_, bad := untolerated(p, n.taints)
			sc.schedulableIn[v] = !bad
		}
	}
	return sc.schedulableIn[domain]
}
