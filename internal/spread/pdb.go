package spread

import (
	"fmt"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// pdb is a PodDisruptionBudget of the input, or one the patcher added.
type pdb struct {
	obj *object
	sel *selector
}

// claim is a PersistentVolumeClaim of the input.
type claim struct {
	obj   *object
	class string
	modes []string
}

// many reports whether pods on several nodes can mount the claim.
func (c *claim) many() bool {
	return slices.Contains(c.modes, "ReadWriteMany") || slices.Contains(c.modes, "ReadOnlyMany")
}

// budgets indexes PodDisruptionBudgets by namespace and one of their
// matchLabels, so that finding the budgets of a pod does not scan them all.
type budgets struct {
	byPair map[string][]*pdb // namespace \x00 key=value
	rest   map[string][]*pdb // by namespace: no matchLabels
	names  map[string]bool   // namespace \x00 name
}

func newBudgets(all []*pdb) *budgets {
	b := &budgets{byPair: map[string][]*pdb{}, rest: map[string][]*pdb{}, names: map[string]bool{}}
	for _, p := range all {
		b.add(p)
	}
	return b
}

func (b *budgets) add(p *pdb) {
	ns := p.obj.namespace
	b.names[ns+"\x00"+p.obj.name] = true
	if kv, ok := p.sel.pair(); ok {
		b.byPair[ns+"\x00"+kv] = append(b.byPair[ns+"\x00"+kv], p)
	} else if p.sel != nil {
		b.rest[ns] = append(b.rest[ns], p)
	}
}

// covers reports whether a budget selects pods with these labels in
// namespace ns.
func (b *budgets) covers(ns string, labels map[string]string) bool {
	for k, v := range labels {
		for _, p := range b.byPair[ns+"\x00"+k+"="+v] {
			if p.sel.matches(labels) {
				return true
			}
		}
	}
	for _, p := range b.rest[ns] {
		if p.sel.matches(labels) {
			return true
		}
	}
	return false
}

// podIndex indexes the replicated workloads by namespace and template label,
// to find the workloads a new budget's selector would select.
type podIndex struct {
	byPair map[string][]*workload // namespace \x00 key=value
	byNS   map[string][]*workload
}

func newPodIndex(ws []*workload) *podIndex {
	ix := &podIndex{byPair: map[string][]*workload{}, byNS: map[string][]*workload{}}
	for _, w := range ws {
		if w.class != classReplicated {
			continue
		}
		ns := w.obj.namespace
		ix.byNS[ns] = append(ix.byNS[ns], w)
		for k, v := range w.labels {
			ix.byPair[ns+"\x00"+k+"="+v] = append(ix.byPair[ns+"\x00"+k+"="+v], w)
		}
	}
	return ix
}

// selected returns the workloads in ns whose pods sel selects, in input
// order.
func (ix *podIndex) selected(ns string, sel *selector) []*workload {
	cands := ix.byNS[ns]
	if kv, ok := sel.pair(); ok {
		cands = ix.byPair[ns+"\x00"+kv]
	}
	var out []*workload
	for _, w := range cands {
		if sel.matches(w.labels) {
			out = append(out, w)
		}
	}
	return out
}

// addPDBs adds a PodDisruptionBudget for every spread workload whose pods no
// budget selects, unless the new budget would also select pods that
// another budget covers: the eviction API refuses to evict a pod with two.
func (pt *patcher) addPDBs() {
	b := newBudgets(pt.pdbs)
	ix := newPodIndex(pt.workloads)
	for _, w := range pt.workloads {
		o := w.obj
		if w.class != classReplicated || o.skip {
			continue
		}
		selNode, sel := w.podSelector()
		if selNode == nil || b.covers(o.namespace, w.labels) {
			continue
		}
		name := o.name + PDBSuffix
		why := ""
		switch {
		case o.name == "":
			why = "the workload has no name"
		case b.names[o.namespace+"\x00"+name]:
			why = fmt.Sprintf("PodDisruptionBudget %s exists and selects other pods", name)
		default:
			if other := pt.overlap(b, ix, w, sel); other != "" {
				why = fmt.Sprintf("its selector would also select the pods of %s, which already have one", other)
			}
		}
		if why != "" {
			pt.report(o, rulePDB, false,
				noPDB+" (none can be added automatically: "+why+")", noPDB+"; none added: "+why)
			continue
		}
		if w.stripped {
			w.budgetSlot = selNode
		}
		pt.added = append(pt.added, addedPDB{name: name, namespace: o.namespace, selector: selNode})
		b.add(&pdb{obj: &object{doc: o.doc, kind: "PodDisruptionBudget", name: name, namespace: o.namespace}, sel: sel})
		pt.report(o, rulePDB, true, noPDB, noPDB+"; added "+name+" with maxUnavailable 1")
	}
}

// addedPDB is a PodDisruptionBudget that the patcher adds, built when it
// is returned or encoded.
type addedPDB struct {
	name, namespace string
	selector        *yaml.Node
}

// node builds the budget.
func (a addedPDB) node() *yaml.Node {
	meta := newMap(newStr("name"), newStr(a.name))
	if a.namespace != "" {
		meta.Content = append(meta.Content, newStr("namespace"), newStr(a.namespace))
	}
	return newMap(
		newStr("apiVersion"), newStr("policy/v1"),
		newStr("kind"), newStr("PodDisruptionBudget"),
		newStr("metadata"), meta,
		newStr("spec"), newMap(
			newStr("maxUnavailable"), newInt(1),
			newStr("selector"), a.selector,
		),
	)
}

// noPDB is the problem of a rulePDB finding.
const noPDB = "no PodDisruptionBudget selects the pods"

// overlap names a workload, other than w, whose pods sel selects and that a
// budget already covers; "" when there is none.
func (pt *patcher) overlap(b *budgets, ix *podIndex, w *workload, sel *selector) string {
	var names []string
	for _, v := range ix.selected(w.obj.namespace, sel) {
		if v != w && b.covers(v.obj.namespace, v.labels) {
			names = append(names, v.obj.kind+" "+v.obj.name)
		}
	}
	return strings.Join(names, ", ")
}
