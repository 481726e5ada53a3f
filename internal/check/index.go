package check

import (
	"iter"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// systemNamespaces hold the platform, not the user's workloads: the
// workload and capacity checks leave them out (with the model's storage
// namespace).
var systemNamespaces = []string{
	"calico-apiserver", "calico-system", "flux-system", "kube-node-lease", "kube-public", "kube-system", "tigera-operator",
}

// Kubernetes labels, taints and annotations the checks read.
const (
	labelControlPlane  = topology.LabelControlPlane
	labelComponent     = "component" // kubeadm's static pods: component=kube-apiserver, etcd
	transientTaintPref = "node.kubernetes.io/"
)

// index holds what several checks derive from the snapshot, computed once.
type index struct {
	nodes map[string]*corev1.Node
	topo  map[string]*topology.NodeModel
	// regions maps a node name to its region: the topology's for topology
	// nodes (where the node really is), else its zone label.
	regions   map[string]string
	workloads []*workload
	// owner maps a pod's UID to the workload it belongs to.
	owner map[types.UID]*workload
}

// present yields the topology's nodes that are in the cluster, in topology
// order, with their Node. A node that is missing is NODE001's to report.
func (idx *index) present(m *topology.Model) iter.Seq2[topology.NodeModel, *corev1.Node] {
	return func(yield func(topology.NodeModel, *corev1.Node) bool) {
		for _, n := range m.Nodes {
			if node := idx.nodes[n.Name]; node != nil && !yield(n, node) {
				return
			}
		}
	}
}

// workload is a Deployment or StatefulSet in a user namespace.
type workload struct {
	Kind        string
	Namespace   string
	Name        string
	UID         types.UID
	Annotations map[string]string
	Replicas    int32
	Template    *corev1.PodTemplateSpec
	Selector    *metav1.LabelSelector
	HPA         *autoscalingv2.HorizontalPodAutoscaler
	// Pods are the workload's pods that are not terminating or finished.
	Pods []*corev1.Pod
}

func (w *workload) ref() string { return ref(w.Kind, w.Namespace, w.Name) }

// optedOut reports whether the user opted the workload (or its HPA) out of
// spreading with stretch.dev/skip: "true".
func (w *workload) optedOut() bool {
	return w.Annotations[spread.AnnotationSkip] == "true" ||
		w.HPA != nil && w.HPA.Annotations[spread.AnnotationSkip] == "true"
}

// desired is the number of replicas the workload runs at least: its
// spec.replicas, or its HPA's minReplicas when that is higher.
func (w *workload) desired() int32 {
	n := w.Replicas
	if w.HPA != nil {
		n = max(n, hpaMin(w.HPA))
	}
	return n
}

func hpaMin(h *autoscalingv2.HorizontalPodAutoscaler) int32 {
	if h.Spec.MinReplicas == nil {
		return 1
	}
	return *h.Spec.MinReplicas
}

// index returns the snapshot's index for m, building it on first use (and
// again for another model).
func (s *Snapshot) index(m *topology.Model) *index {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if s.idx == nil || s.idxModel != m {
		s.idx, s.idxModel = buildIndex(s, m), m
	}
	return s.idx
}

func buildIndex(s *Snapshot, m *topology.Model) *index {
	idx := &index{
		nodes:   make(map[string]*corev1.Node, len(s.Nodes)),
		topo:    make(map[string]*topology.NodeModel, len(m.Nodes)),
		regions: make(map[string]string, len(s.Nodes)),
		owner:   map[types.UID]*workload{},
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		idx.nodes[n.Name] = n
		idx.regions[n.Name] = n.Labels[topology.LabelZone]
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		idx.topo[n.Name] = n
		idx.regions[n.Name] = n.Region
	}
	byUID := map[types.UID]*workload{}
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for i := range s.HPAs {
		h := &s.HPAs[i]
		hpas[h.Namespace+"/"+h.Spec.ScaleTargetRef.Kind+"/"+h.Spec.ScaleTargetRef.Name] = h
	}
	add := func(w *workload) {
		if !userNamespace(w.Namespace, m) {
			return
		}
		w.HPA = hpas[w.Namespace+"/"+w.Kind+"/"+w.Name]
		idx.workloads = append(idx.workloads, w)
		byUID[w.UID] = w
	}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		add(&workload{Kind: "Deployment", Namespace: d.Namespace, Name: d.Name, UID: d.UID, Annotations: d.Annotations,
			Replicas: replicas(d.Spec.Replicas), Template: &d.Spec.Template, Selector: d.Spec.Selector})
	}
	for i := range s.StatefulSets {
		st := &s.StatefulSets[i]
		add(&workload{Kind: "StatefulSet", Namespace: st.Namespace, Name: st.Name, UID: st.UID, Annotations: st.Annotations,
			Replicas: replicas(st.Spec.Replicas), Template: &st.Spec.Template, Selector: st.Spec.Selector})
	}
	slices.SortStableFunc(idx.workloads, func(a, b *workload) int {
		return strings.Compare(a.Namespace+"/"+a.Name+"/"+a.Kind, b.Namespace+"/"+b.Name+"/"+b.Kind)
	})
	rsOwner := map[types.UID]types.UID{}
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		if c := metav1.GetControllerOf(rs); c != nil && c.Kind == "Deployment" {
			rsOwner[rs.UID] = c.UID
		}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if !live(p) {
			continue
		}
		c := metav1.GetControllerOf(p)
		if c == nil {
			continue
		}
		uid := c.UID
		if c.Kind == "ReplicaSet" {
			uid = rsOwner[c.UID]
		}
		if w := byUID[uid]; w != nil {
			w.Pods = append(w.Pods, p)
			idx.owner[p.UID] = w
		}
	}
	return idx
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// userNamespace reports whether ns holds user workloads.
func userNamespace(ns string, m *topology.Model) bool {
	return ns != m.Storage.Namespace && !slices.Contains(systemNamespaces, ns)
}

// live reports whether a pod is neither terminating nor finished.
func live(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// ready reports whether a node's Ready condition is True.
func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readyReason describes a node that is not Ready.
func readyReason(n *corev1.Node) string {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Reason != "" {
				return "Ready=" + string(c.Status) + " (" + c.Reason + ")"
			}
			return "Ready=" + string(c.Status)
		}
	}
	return "no Ready condition"
}

// schedulable reports whether workload pods can be placed on the node: it
// is not cordoned and has no NoSchedule or NoExecute taint except the
// node.kubernetes.io/ ones that come and go with its conditions (the
// capacity checks plan for the node being back).
func schedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect != corev1.TaintEffectPreferNoSchedule && !strings.HasPrefix(t.Key, transientTaintPref) {
			return false
		}
	}
	return true
}

// podRequests is what the scheduler reserves for a pod: the sum of its
// containers' and sidecars' requests, or the largest init container's when
// higher, plus the pod overhead. Only cpu and memory.
func podRequests(spec *corev1.PodSpec) corev1.ResourceList {
	sum := corev1.ResourceList{}
	addTo(sum, spec.Containers...)
	sidecars := corev1.ResourceList{}
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addTo(sum, c)
			addTo(sidecars, c)
			continue
		}
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			q := c.Resources.Requests[name].DeepCopy()
			q.Add(sidecars[name]) // sidecars started before it run alongside
			if s := sum[name]; q.Cmp(s) > 0 {
				sum[name] = q
			}
		}
	}
	for name, q := range spec.Overhead {
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			v := sum[name]
			v.Add(q)
			sum[name] = v
		}
	}
	return sum
}

func addTo(sum corev1.ResourceList, containers ...corev1.Container) {
	for _, c := range containers {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := c.Resources.Requests[name]; ok {
				v := sum[name]
				v.Add(q)
				sum[name] = v
			}
		}
	}
}

// quantity returns a copy of the named quantity of a list (zero if unset).
func quantity(l corev1.ResourceList, name corev1.ResourceName) resource.Quantity {
	q, ok := l[name]
	if !ok {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

// podsOnNodes groups the live pods of the snapshot by node name.
func podsOnNodes(s *Snapshot) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Spec.NodeName != "" && live(p) {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out
}

// daemonSetPod reports whether a DaemonSet controls the pod.
func daemonSetPod(p *corev1.Pod) bool {
	c := metav1.GetControllerOf(p)
	return c != nil && c.Kind == "DaemonSet" && c.APIVersion == appsv1.SchemeGroupVersion.String()
}
