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
// and 20,000 pods in docs/BENCHMARKS.md): the running pods by namespace,
// topology spread counted once per workload and pod template and then
// kept up to date as replacements are placed, instead of once per
// replacement over every running pod, and the topology's regions by node
// name. None of it changes a prediction: the counts are those a
// recount would give.

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

// spreadEntry holds the domain counts, by constraint index, of the
// replacements that share what the counts depend on (spreadInputsEqual).
type spreadEntry struct {
	pod    *corev1.Pod // the first of them
	counts map[int]*domainCounts
}

// spreadFor makes c.spreadCache the counts of replacement p: those of an
// earlier replacement of the workload with the same template, or new
// ones.
func (c *cluster) spreadFor(p *corev1.Pod) {
	for _, e := range c.spreadEntries {
		if spreadInputsEqual(e.pod, p) {
			c.spreadCache = e.counts
			return
		}
	}
	e := &spreadEntry{pod: p, counts: map[int]*domainCounts{}}
	c.spreadEntries = append(c.spreadEntries, e)
	c.spreadCache = e.counts
}

// spreadInputsEqual says whether two pods' spread counts are the same:
// their namespace, labels, node selection, tolerations and constraints
// are (a Deployment's pods of one ReplicaSet, a StatefulSet's pods).
// reflect.DeepEqual is stricter than apimachinery's semantic equality (a
// nil slice is not an empty one) and faster: a false "different" only
// costs another count.
func spreadInputsEqual(a, b *corev1.Pod) bool {
	return a.Namespace == b.Namespace &&
		maps.Equal(a.Labels, b.Labels) &&
		maps.Equal(a.Spec.NodeSelector, b.Spec.NodeSelector) &&
		reflect.DeepEqual(a.Spec.Affinity, b.Spec.Affinity) &&
		reflect.DeepEqual(a.Spec.Tolerations, b.Spec.Tolerations) &&
		reflect.DeepEqual(a.Spec.TopologySpreadConstraints, b.Spec.TopologySpreadConstraints)
}

// placed records replacement p on node on: it runs there from now on,
// and every count of the workload's templates that spreadCounts would
// count it in goes up by one.
func (c *cluster) placed(p *corev1.Pod, on *node) {
	c.addRunning(p)
	set := labels.Set(p.Labels)
	for _, e := range c.spreadEntries {
		if p.Namespace != e.pod.Namespace {
			continue
		}
		for i, dc := range e.counts {
			tsc := e.pod.Spec.TopologySpreadConstraints[i]
			if !dc.sel.Matches(set) {
				continue
			}
			v := on.node.Labels[tsc.TopologyKey]
			if _, domain := dc.counts[v]; domain && c.eligible(e.pod, on, tsc) {
				dc.counts[v]++
				dc.min = leastCount(dc.counts)
				dc.least = nil
			}
		}
	}
}

// leastCount is the smallest count, 0 when there is none.
func leastCount(counts map[string]int) int {
	least := -1
	for _, n := range counts {
		if least < 0 || n < least {
			least = n
		}
	}
	return max(least, 0)
}

// leastDomains are the domains with the fewest matching pods, joined for
// a message, and those of them where the pod tolerates no node's taints.
type leastDomains struct {
	least   string
	blocked []string
}

// leastDomains returns the domains with dc.min pods, remembered until
// placed changes a count. p is a replacement of the template the counts
// are for; key is the constraint's topology key.
func (dc *domainCounts) leastDomains(c *cluster, p *corev1.Pod, key string) *leastDomains {
	if dc.least != nil {
		return dc.least
	}
	var least []string
	ld := &leastDomains{}
	for _, d := range sortedKeys(dc.counts) {
		if dc.counts[d] == dc.min {
			least = append(least, d)
			if !dc.schedulable(c, p, key, d) {
				ld.blocked = append(ld.blocked, d)
			}
		}
	}
	ld.least = strings.Join(least, ", ")
	dc.least = ld
	return ld
}

// schedulable says whether a domain has a node whose taints p tolerates,
// computed for every domain in one pass over the nodes the first time: p
// is a replacement of the template the counts are for, and neither the
// nodes nor their taints change during a prediction.
func (dc *domainCounts) schedulable(c *cluster, p *corev1.Pod, key, domain string) bool {
	if dc.schedulableIn == nil {
		dc.schedulableIn = map[string]bool{}
		for _, n := range c.nodes {
			v := n.node.Labels[key]
			if dc.schedulableIn[v] {
				continue
			}
			_, bad := untolerated(p, n.taints)
			dc.schedulableIn[v] = !bad
		}
	}
	return dc.schedulableIn[domain]
}
