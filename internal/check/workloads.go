package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// workloadNeeds are the kinds that find the workloads and their pods.
var workloadNeeds = []Kind{KindDeployments, KindStatefulSets, KindHPAs}

// podNeeds add what maps pods to workloads and nodes.
var podNeeds = []Kind{KindDeployments, KindStatefulSets, KindHPAs, KindReplicaSets, KindPods, KindNodes}

// workloadChecks are the checks of the workloads layer. They look at
// Deployments and StatefulSets outside the system namespaces (kube-system,
// flux-system, the storage namespace, ...).
func workloadChecks() []Check {
	return []Check{
		{
			ID: "WORK001", Layer: LayerWorkloads, Severity: SeverityError,
			Title: "Workloads run at least the topology's minReplicas",
			Doc: "A workload needs a replica in each data region to keep serving while one is lost: " +
				"spec.replicas (or, for an HPA's target, the HPA's minReplicas) must be at least " +
				"workloads.minReplicas. Workloads scaled to zero or annotated stretch.dev/skip: \"true\" " +
				"are left out.",
			Needs: workloadNeeds,
			Run:   checkReplicas,
		},
		{
			ID: "WORK002", Layer: LayerWorkloads, Severity: SeverityError,
			Title: "Replicated workloads spread over the zones without blocking fail-over",
			Doc: "Every workload with two or more replicas needs a topologySpreadConstraint on " +
				"topology.kubernetes.io/zone, and a DoNotSchedule one needs nodeTaintsPolicy: Honor: with " +
				"the default (Ignore) the lost region's tainted nodes still count as a domain with zero " +
				"pods, and the replacement pods stay Pending until it returns. Opted-out workloads " +
				"(stretch.dev/skip: \"true\") are left out.",
			Needs: workloadNeeds,
			Run:   checkSpread,
		},
		{
			ID: "WORK003", Layer: LayerWorkloads, Severity: SeverityWarning,
			Title: "A PodDisruptionBudget covers every replicated workload",
			Doc: "Without a PodDisruptionBudget a node drain may evict every replica at once. Each " +
				"workload with two or more replicas needs a budget in its namespace whose selector matches " +
				"its pod template.",
			Needs: []Kind{KindDeployments, KindStatefulSets, KindHPAs, KindPDBs},
			Run:   checkPDBs,
		},
		{
			ID: "WORK004", Layer: LayerWorkloads, Severity: SeverityError,
			Title: "Replicated workloads really run in both data regions",
			Doc: "The spec is not the placement: each workload with two or more replicas must have a " +
				"Running pod on a Ready node in every data region, judged by where the node is in the " +
				"topology. A workload whose pods all sit in one region stops when that region is lost.",
			Needs: podNeeds,
			Run:   checkPodsInBothRegions,
		},
		{
			ID: "WORK005", Layer: LayerWorkloads, Severity: SeverityError,
			Title: "No workload pod runs in the arbiter region",
			Doc: "The arbiter region is sized for etcd, a Ceph mon and the control plane. Pods of user " +
				"namespaces there (other than DaemonSet pods) take what those need, and do not count as " +
				"replicas in a data region.",
			Needs: []Kind{KindPods, KindNodes},
			Run:   checkArbiterPods,
		},
		{
			ID: "WORK006", Layer: LayerWorkloads, Severity: SeverityWarning,
			Title: "Volumes use the topology's stretched StorageClasses",
			Doc: "A PersistentVolumeClaim on a StorageClass other than the topology's Ceph classes " +
				"(a local-path or cloud disk class) lives in one region: its pod cannot move to the other " +
				"region. Claims without storageClassName use the default class.",
			Needs: []Kind{KindPVCs, KindStorageClasses},
			Run:   checkClaims,
		},
	}
}

func checkReplicas(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	minimum := int32(m.Workloads.MinReplicas)
	var out []Result
	checked := 0
	for _, w := range idx.workloads {
		if w.optedOut() || w.Replicas == 0 {
			continue
		}
		checked++
		if w.HPA != nil {
			if n := hpaMin(w.HPA); n < minimum {
				out = append(out, fail(ref("HorizontalPodAutoscaler", w.HPA.Namespace, w.HPA.Name),
					"HorizontalPodAutoscaler %s/%s scales %s down to %d, below the topology's minReplicas %d: set spec.minReplicas: %d (kubectl stretch render does)",
					w.HPA.Namespace, w.HPA.Name, w.ref(), n, minimum, minimum))
			}
			continue
		}
		if w.Replicas < minimum {
			how := "kubectl stretch render does for the bundle's workloads"
			if w.Kind == "StatefulSet" {
				// render raises a StatefulSet only when it opts in (SPREAD022).
				how = "kubectl stretch render does for the bundle's StatefulSets annotated stretch.dev/min-replicas, when the application replicates itself"
			}
			out = append(out, fail(w.ref(), "%s runs %s, below the topology's minReplicas %d (one per data region): set spec.replicas: %d (%s)",
				w.ref(), count(int(w.Replicas), "replica", "replicas"), minimum, minimum, how))
		}
	}
	if len(out) == 0 {
		if checked == 0 {
			return []Result{pass("no workload to check in the user namespaces")}
		}
		out = append(out, pass("%s %s at least %d replicas", allOf(checked, "workload", "workloads"), plural(checked, "runs", "run"), minimum))
	}
	return out
}

// zoneConstraint returns the template's spread constraint on the zone key.
func zoneConstraint(t *corev1.PodTemplateSpec) *corev1.TopologySpreadConstraint {
	for i := range t.Spec.TopologySpreadConstraints {
		if c := &t.Spec.TopologySpreadConstraints[i]; c.TopologyKey == topology.LabelZone {
			return c
		}
	}
	return nil
}

// replicated returns the workloads with two or more replicas that are not
// opted out.
func replicated(idx *index) []*workload {
	var out []*workload
	for _, w := range idx.workloads {
		if !w.optedOut() && w.desired() >= 2 {
			out = append(out, w)
		}
	}
	return out
}

func checkSpread(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	ws := replicated(idx)
	var out []Result
	for _, w := range ws {
		c := zoneConstraint(w.Template)
		switch {
		case c == nil:
			out = append(out, fail(w.ref(), "%s has no topologySpreadConstraint on %s: the scheduler may put every replica in one region; add one with maxSkew: 1, whenUnsatisfiable: DoNotSchedule and nodeTaintsPolicy: Honor (kubectl stretch render does)",
				w.ref(), topology.LabelZone))
		case c.WhenUnsatisfiable == corev1.DoNotSchedule && (c.NodeTaintsPolicy == nil || *c.NodeTaintsPolicy != corev1.NodeInclusionPolicyHonor):
			out = append(out, fail(w.ref(), "the zone spread of %s is DoNotSchedule without nodeTaintsPolicy: Honor, so after a region loss its replacement pods stay Pending: set nodeTaintsPolicy: Honor on it",
				w.ref()))
		}
	}
	if len(out) == 0 {
		if len(ws) == 0 {
			return []Result{pass("no replicated workload to check")}
		}
		out = append(out, pass("%s %s over the zones with nodeTaintsPolicy: Honor", allOf(len(ws), "replicated workload", "replicated workloads"), plural(len(ws), "spreads", "spread")))
	}
	return out
}

// templateSelected reports whether sel selects pods with the labels of t.
func templateSelected(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(t.Labels))
}

func checkPDBs(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	ws := replicated(idx)
	var out []Result
	for _, w := range ws {
		covered := slices.ContainsFunc(s.PDBs, func(p policyv1.PodDisruptionBudget) bool {
			return p.Namespace == w.Namespace && templateSelected(p.Spec.Selector, w.Template)
		})
		if !covered {
			out = append(out, fail(w.ref(), "no PodDisruptionBudget selects the pods of %s: a drain may evict every replica at once; add one with maxUnavailable: 1 (kubectl stretch render adds %s%s)",
				w.ref(), w.Name, spread.PDBSuffix))
		}
	}
	if len(out) == 0 {
		if len(ws) == 0 {
			return []Result{pass("no replicated workload to check")}
		}
		out = append(out, pass("a PodDisruptionBudget covers %s", allOf(len(ws), "replicated workload", "replicated workloads")))
	}
	return out
}

func checkPodsInBothRegions(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	ws := replicated(idx)
	up := map[string]bool{} // regions with a Ready node
	for name, node := range idx.nodes {
		if ready(node) {
			up[idx.regions[name]] = true
		}
	}
	var out []Result
	for _, w := range ws {
		perRegion := map[string]int{}
		running := 0
		for _, p := range w.Pods {
			node := idx.nodes[p.Spec.NodeName]
			if p.Status.Phase != corev1.PodRunning || node == nil || !ready(node) {
				continue
			}
			running++
			perRegion[idx.regions[p.Spec.NodeName]]++
		}
		var where, missing []string
		for _, r := range m.Data {
			where = append(where, fmt.Sprintf("%s: %d", r, perRegion[r]))
			if perRegion[r] == 0 {
				missing = append(missing, r)
			}
		}
		switch {
		case running == 0:
			out = append(out, fail(w.ref(), "%s has no Running pod on a Ready node (want %d): see \"kubectl describe %s -n %s\" and its pods' events",
				w.ref(), w.desired(), strings.ToLower(w.Kind)+"/"+w.Name, w.Namespace))
		case len(missing) > 0 && !slices.ContainsFunc(missing, func(r string) bool { return up[r] }):
			out = append(out, fail(w.ref(), "%s runs no pod in %s (%s): %s no Ready node (NODE007), so the workload hangs on the other region until it is back",
				w.ref(), strings.Join(missing, " and "), strings.Join(where, ", "), plural(len(missing), "that region has", "those regions have")))
		case len(missing) > 0:
			out = append(out, fail(w.ref(), "%s runs no pod in %s (%s): losing the other region stops it; check its zone spread (WORK002) and the room in %s (CAP001), then restart it (\"kubectl rollout restart %s -n %s\") so that the scheduler spreads it",
				w.ref(), strings.Join(missing, " and "), strings.Join(where, ", "), strings.Join(missing, " and "),
				strings.ToLower(w.Kind)+"/"+w.Name, w.Namespace))
		}
	}
	if len(out) == 0 {
		if len(ws) == 0 {
			return []Result{pass("no replicated workload to check")}
		}
		out = append(out, pass("%s %s pods in %s", allOf(len(ws), "replicated workload", "replicated workloads"), plural(len(ws), "runs", "run"), strings.Join(m.Data, " and ")))
	}
	return out
}

func checkArbiterPods(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	for i := range s.Pods {
		p := &s.Pods[i]
		if !userNamespace(p.Namespace, m) || !live(p) || p.Spec.NodeName == "" || daemonSetPod(p) {
			continue
		}
		if idx.regions[p.Spec.NodeName] == m.Arbiter {
			out = append(out, fail(ref("Pod", p.Namespace, p.Name), "pod %s/%s runs on %s in the arbiter region %s: remove its toleration of %s, or add a required node affinity to %s (kubectl stretch render does), and delete the pod",
				p.Namespace, p.Name, p.Spec.NodeName, m.Arbiter, topology.TaintArbiter, strings.Join(m.Data, " and ")))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("no workload pod runs in the arbiter region %s", m.Arbiter))
	}
	return out
}

func checkClaims(s *Snapshot, m *topology.Model) []Result {
	var stretched []string
	for _, bp := range m.Storage.Pools {
		if bp.StorageClass != "" {
			stretched = append(stretched, bp.StorageClass)
		}
	}
	defaultClass := ""
	for i := range s.StorageClasses {
		sc := &s.StorageClasses[i]
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			defaultClass = sc.Name
		}
	}
	var out []Result
	claims := 0
	for i := range s.PVCs {
		c := &s.PVCs[i]
		if !userNamespace(c.Namespace, m) {
			continue
		}
		claims++
		class := defaultClass
		if c.Spec.StorageClassName != nil {
			class = *c.Spec.StorageClassName
		}
		if class == "" && c.Spec.VolumeName != "" {
			continue // bound to a pre-provisioned volume: SPREAD014 territory
		}
		if !slices.Contains(stretched, class) {
			name := class
			if name == "" {
				name = "(none, and no default class)"
			}
			target := "a StorageClass of the topology's block pools"
			if len(stretched) > 0 {
				target = strings.Join(stretched, " or ")
			}
			out = append(out, fail(ref("PersistentVolumeClaim", c.Namespace, c.Name), "PersistentVolumeClaim %s/%s uses StorageClass %s, not one of the topology's stretched classes: its volume lives in one region and its pod cannot fail over; move the data to a claim on %s",
				c.Namespace, c.Name, name, target))
		}
	}
	if len(out) == 0 {
		if claims == 0 {
			return []Result{pass("no PersistentVolumeClaim in the user namespaces")}
		}
		out = append(out, pass("%s %s %s", plural(claims, "the claim", "all "+strconv.Itoa(claims)+" claims"), plural(claims, "uses", "use"), strings.Join(stretched, " or ")))
	}
	return out
}
