package drill

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
)

// replicasOf returns the snapshot's desired replicas of the Deployments,
// StatefulSets and ReplicaSets, by kind/namespace/name.
func replicasOf(s *check.Snapshot) map[string]int32 {
	out := map[string]int32{}
	for _, d := range s.Deployments {
		out["Deployment/"+d.Namespace+"/"+d.Name] = ptrOr(d.Spec.Replicas, 1)
	}
	for _, st := range s.StatefulSets {
		out["StatefulSet/"+st.Namespace+"/"+st.Name] = ptrOr(st.Spec.Replicas, 1)
	}
	for _, rs := range s.ReplicaSets {
		out["ReplicaSet/"+rs.Namespace+"/"+rs.Name] = ptrOr(rs.Spec.Replicas, 1)
	}
	return out
}

// judgePDB finds the first PodDisruptionBudget (by name) of the
// workload's namespace that selects one of its pods, and says whether the
// outage violates it: the disruption controller's desired healthy count
// (minAvailable, or the expected pods minus maxUnavailable, percentages
// of the expected pods rounded up) against the Ready pods it selects
// outside the lost region. The node lifecycle controller's taint-based
// eviction deletes pods without the Eviction API, so no PDB stops it; a
// PDB that allows no disruption only blocks kubectl drain.
func (c *cluster) judgePDB(w *workload, d *v1alpha1.DrillWorkload) {
	for i := range c.pdbs {
		pdb := &c.pdbs[i]
		if pdb.Namespace != w.namespace || pdb.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() {
			continue // an empty selector selects nothing in policy/v1
		}
		mine := false
		for _, p := range w.pods {
			if sel.Matches(labels.Set(p.Labels)) {
				mine = true
				break
			}
		}
		if !mine {
			continue
		}
		selected, healthy := 0, 0
		for _, p := range c.podsIn[w.namespace] {
			if !sel.Matches(labels.Set(p.Labels)) {
				continue
			}
			selected++
			if !c.isLost(p.Spec.NodeName) && p.DeletionTimestamp == nil && podReady(p) {
				healthy++
			}
		}
		expected := selected
		if r, ok := c.replicas[w.kind+"/"+w.namespace+"/"+w.name]; ok {
			expected = int(r)
		}
		var desired int
		var rule string
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, expected, true)
			if err != nil {
				continue
			}
			desired = max(0, expected-maxUnavailable)
			rule = "maxUnavailable " + pdb.Spec.MaxUnavailable.String()
		case pdb.Spec.MinAvailable != nil:
			if pdb.Spec.MinAvailable.Type == intstr.Int {
				expected = selected
			}
			minAvailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, expected, true)
			if err != nil {
				continue
			}
			desired = minAvailable
			rule = "minAvailable " + pdb.Spec.MinAvailable.String()
		default:
			continue
		}
		d.PDB = pdb.Namespace + "/" + pdb.Name
		if healthy < desired {
			d.PDBViolated = true
			d.Reason += fmt.Sprintf("; PDB %s (%s) is violated during the outage: %d of the %d pods it wants Ready (taint-based eviction does not honour PDBs)", d.PDB, rule, healthy, desired)
		} else {
			d.Reason += fmt.Sprintf("; PDB %s (%s) holds during the outage: %d Ready, %d wanted", d.PDB, rule, healthy, desired)
		}
		if pdb.Status.DisruptionsAllowed == 0 && pdb.Status.ObservedGeneration > 0 {
			d.Reason += "; it allows 0 disruptions now, which blocks kubectl drain of these nodes but not the node lifecycle controller"
		}
		return
	}
}

// podsByNamespace groups the snapshot's live pods by namespace.
func podsByNamespace(s *check.Snapshot) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		out[p.Namespace] = append(out[p.Namespace], p)
	}
	return out
}
