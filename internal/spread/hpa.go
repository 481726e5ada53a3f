package spread

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// hpa is a HorizontalPodAutoscaler (autoscaling/v1 or v2; both have
// scaleTargetRef, minReplicas and maxReplicas).
type hpa struct {
	obj                    *object
	spec                   *yaml.Node // nil once stripped
	hasSpec                bool       // spec is a mapping
	targetGroup            string     // "" when scaleTargetRef has no apiVersion
	targetKind, targetName string
	minNode, maxNode       *yaml.Node // possibly null; nil when missing
	min, max               int
	minSet, maxSet         bool
	target                 *workload // the target, when it is in the input
}

func readHPA(r *reader, o *object) *hpa {
	h := &hpa{obj: o}
	h.spec = r.mapping(o.node, "", "spec")
	h.hasSpec = h.spec != nil
	ref := r.mapping(h.spec, "spec", "scaleTargetRef")
	h.targetGroup, _, _ = strings.Cut(r.str(ref, "spec.scaleTargetRef", "apiVersion"), "/")
	h.targetKind = r.str(ref, "spec.scaleTargetRef", "kind")
	h.targetName = r.str(ref, "spec.scaleTargetRef", "name")
	h.minNode, h.min, h.minSet = r.count(h.spec, "spec", "minReplicas")
	h.maxNode, h.max, h.maxSet = r.count(h.spec, "spec", "maxReplicas")
	if !h.minSet {
		h.min = 1
	}
	if r.err != nil {
		return nil
	}
	return h
}

// strip drops the autoscaler's nodes, keeping what the patch of its
// target reads.
func (h *hpa) strip() {
	h.spec, h.minNode, h.maxNode = nil, nil, nil
}

// scalesReplicated reports whether the autoscaler targets a kind the
// patcher spreads: an apps/v1 Deployment, StatefulSet or ReplicaSet.
func (h *hpa) scalesReplicated() bool {
	if h.targetGroup != "apps" && h.targetGroup != "" {
		return false
	}
	switch h.targetKind {
	case "Deployment", "StatefulSet", "ReplicaSet":
		return true
	}
	return false
}

// raised reports whether the patcher raises the autoscaler's minReplicas:
// never for a StatefulSet that has not opted in (workload.held), nor for
// one that is not in the input, whose opt-in cannot be seen.
func (h *hpa) raised(p Policy) bool {
	if !h.hasSpec || !h.scalesReplicated() || h.obj.skip || h.heldOutOfSight() {
		return false
	}
	if h.target != nil && (h.target.obj.skip || h.target.held()) {
		return false
	}
	return h.min < h.want(p)
}

// heldOutOfSight reports whether the autoscaler targets a StatefulSet that
// is not in the input.
func (h *hpa) heldOutOfSight() bool {
	return h.target == nil && h.targetKind == "StatefulSet"
}

// want is the minReplicas the autoscaler is raised to: its target's, or
// the policy minimum when the target is not in the input.
func (h *hpa) want(p Policy) int {
	if h.target != nil {
		return h.target.want(p)
	}
	return p.MinReplicas
}

// minAfter is the autoscaler's minReplicas after patching.
func (h *hpa) minAfter(p Policy) int {
	if h.raised(p) {
		return h.want(p)
	}
	return h.min
}

// linkHPAs finds the target of every autoscaler among the workloads, and
// returns the autoscalers of each workload.
func (pt *patcher) linkHPAs() map[*workload][]*hpa {
	if len(pt.hpas) == 0 {
		return nil
	}
	byKey := make(map[string]*workload, len(pt.workloads))
	for _, w := range pt.workloads {
		if w.class == classReplicated {
			byKey[w.obj.namespace+"\x00"+w.obj.kind+"\x00"+w.obj.name] = w
		}
	}
	targets := map[*workload][]*hpa{}
	for _, h := range pt.hpas {
		if w := byKey[h.obj.namespace+"\x00"+h.targetKind+"\x00"+h.targetName]; w != nil && h.scalesReplicated() {
			h.target = w
			targets[w] = append(targets[w], h)
		}
	}
	return targets
}

// patchHPA raises an autoscaler's minReplicas (and its maxReplicas, when
// lower) to the policy minimum.
func (pt *patcher) patchHPA(h *hpa) {
	if !h.scalesReplicated() {
		return
	}
	if h.obj.skip {
		pt.optedOut(h.obj)
		return
	}
	if h.heldOutOfSight() && h.hasSpec && h.min < pt.p.MinReplicas {
		pt.risk(h.obj, ruleStatefulSetNotRaised,
			"%s and is not raised: it scales StatefulSet %s, which is not in the input, and a StatefulSet's "+
				"replicas are raised only when it is annotated %s", belowMinimum("minReplicas", h.min, h.minSet, pt.p.MinReplicas),
			h.targetName, AnnotationMinReplicas)
	}
	if !h.raised(pt.p) {
		return
	}
	want := h.want(pt.p)
	problem := belowMinimum("minReplicas", h.min, h.minSet, want)
	was := fmt.Sprint(h.min)
	if !h.minSet {
		was = "unset (1)"
	}
	if h.minNode != nil {
		setInt(h.minNode, want)
	} else {
		pt.insertBefore(h.spec, "maxReplicas", newStr("minReplicas"), newInt(want))
	}
	msg := fmt.Sprintf("minReplicas %s raised to %d", was, want)
	if h.maxSet && h.max < want {
		setInt(h.maxNode, want)
		problem += fmt.Sprintf(", and so is maxReplicas %d", h.max)
		msg += fmt.Sprintf(", and maxReplicas %d to %d", h.max, want)
	}
	pt.report(h.obj, ruleHPAMinReplicas, true, problem, msg)
}

// belowMinimum says that a count field is below the policy minimum, for
// Finding.Problem: "replicas 1 is below the minimum 2", or "replicas is
// unset (1), below the minimum 2".
func belowMinimum(field string, n int, set bool, want int) string {
	if !set {
		return fmt.Sprintf("%s is unset (1), below the minimum %d", field, want)
	}
	return fmt.Sprintf("%s %d is below the minimum %d", field, n, want)
}

// insertBefore inserts a key and value into mapping m before key before, or
// at the end when before is missing.
func (pt *patcher) insertBefore(m *yaml.Node, before string, k, v *yaml.Node) {
	c := m.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Kind == yaml.ScalarNode && c[i].Value == before {
			m.Content = append(c[:i:i], append([]*yaml.Node{k, v}, c[i:]...)...)
			return
		}
	}
	m.Content = append(c, k, v)
}
