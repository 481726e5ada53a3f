// Package drilltest generates the large clusters of drill's benchmarks and
// scale tests: a topology of three regions, its nodes, and workloads of
// every kind drill judges (Deployments with their ReplicaSets,
// StatefulSets, DaemonSets and bare pods) with spread constraints,
// tolerations and requests, their pods bound and Ready. The same objects
// serve as an in-memory snapshot (Snapshot) and, through Load, as the
// content of a real kube-apiserver. Only tests and benchmarks import it.
package drilltest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Shape sizes a generated cluster.
type Shape struct {
	// Workers is the number of workers in each data region. Each data
	// region also has a control plane and four storage nodes; the arbiter
	// has a control plane and a worker.
	Workers int
	// Namespaces holds the workloads, in turn.
	Namespaces int
	// Deployments of DeploymentReplicas pods, half in each data region.
	// Every NaiveEvery-th has the zone spread without nodeTaintsPolicy
	// Honor nor node affinity (0: none); every fourth tolerates the
	// unreachable and not-ready taints for 30 s; the others are as
	// render's patch leaves them.
	Deployments, DeploymentReplicas, NaiveEvery int
	// StatefulSets of StatefulSetReplicas pods, with a zone spread and a
	// DoNotSchedule hostname spread.
	StatefulSets, StatefulSetReplicas int
	// DaemonSets, each with a pod on every node.
	DaemonSets int
	// BarePods are pods without a controller, half in each data region.
	BarePods int
	// PodAffinity gives every StatefulSet's pods a required pod
	// anti-affinity on the hostname against each other, and every
	// eighth Deployment's pods a required pod affinity on the zone with
	// their own (what drill's InterPodAffinity filter reads).
	PodAffinity bool
}

// Scale is the shape of issue 11's target: 1,000 nodes and 20,000 pods
// (16,000 of 320 Deployments, 1,000 of 50 StatefulSets, 2,000 of two
// DaemonSets, 1,000 bare), with pod affinity and anti-affinity.
func Scale() Shape {
	return Shape{Workers: 494, Namespaces: 20, Deployments: 320, DeploymentReplicas: 50, NaiveEvery: 16,
		StatefulSets: 50, StatefulSetReplicas: 20, DaemonSets: 2, BarePods: 1000, PodAffinity: true}
}

// Nodes is the number of nodes of the shape.
func (s Shape) Nodes() int { return 2*(1+4+s.Workers) + 2 }

// Pods is the number of pods of the shape.
func (s Shape) Pods() int {
	return s.Deployments*s.DeploymentReplicas + s.StatefulSets*s.StatefulSetReplicas + s.DaemonSets*s.Nodes() + s.BarePods
}

// Cluster is a generated cluster: its topology and the objects of each
// kind, as the API would return them (sorted by namespace and name within
// each kind).
type Cluster struct {
	// Topology is the topology file's content.
	Topology []byte
	Model    *topology.Model

	Namespaces   []corev1.Namespace
	Nodes        []corev1.Node
	Deployments  []appsv1.Deployment
	ReplicaSets  []appsv1.ReplicaSet
	StatefulSets []appsv1.StatefulSet
	DaemonSets   []appsv1.DaemonSet
	Pods         []corev1.Pod
}

// DataRegions are the generated topology's data regions; Arbiter is its
// arbiter.
var (
	DataRegions = []string{"sto1", "sto2"}
	Arbiter     = "osl1"
)

// topologyYAML writes the topology of the shape.
func topologyYAML(s Shape) []byte {
	var y strings.Builder
	fmt.Fprintf(&y, "apiVersion: %s\nkind: %s\n", v1alpha1.APIVersion, v1alpha1.KindTopology)
	y.WriteString(`metadata:
  name: drill-scale
spec:
  kubernetes:
    version: "1.35.4"
    apiEndpoint: api.drill.example.eu
  network:
    interRegionRTTms: 12
  adminCIDRs: [198.51.100.0/28]
  regions:
`)
	for r, region := range DataRegions {
		net := 10 * (r + 1)
		fmt.Fprintf(&y, "  - name: %s\n    role: data\n    nodes:\n", region)
		fmt.Fprintf(&y, "    - {name: %s-cp-0, ip: 10.%d.0.10, roles: [control-plane, etcd]}\n", region, net)
		for i := range 4 {
			fmt.Fprintf(&y, "    - {name: %s-s-%d, ip: 10.%d.0.%d, roles: [storage], devices: [vdb], cpu: \"8\", memory: 32Gi}\n", region, i, net, 30+i)
		}
		for w := range s.Workers {
			fmt.Fprintf(&y, "    - {name: %s-w-%03d, ip: 10.%d.%d.%d, roles: [worker], cpu: \"16\", memory: 64Gi}\n",
				region, w, net, 1+w/200, 10+w%200)
		}
	}
	fmt.Fprintf(&y, `  - name: %s
    role: arbiter
    nodes:
    - {name: %s-cp-0, ip: 10.30.0.10, roles: [control-plane, etcd]}
    - {name: %s-w-0, ip: 10.30.0.20, roles: [worker]}
  storage:
    blockPools:
    - {name: replicapool, storageClass: ceph-block, default: true}
  workloads:
    minReplicas: 2
`, Arbiter, Arbiter, Arbiter)
	return []byte(y.String())
}

// Generate generates the cluster of the shape. dir receives the topology
// file (topology.Load reads a path); Cluster.Topology holds its content.
func Generate(s Shape, dir string) (*Cluster, string, error) {
	c := &Cluster{Topology: topologyYAML(s)}
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, c.Topology, 0o644); err != nil {
		return nil, "", err
	}
	f, err := topology.Load(path)
	if err != nil {
		return nil, "", fmt.Errorf("generated topology: %w", err)
	}
	c.Model = topology.NewModel(f.Topology)
	if got := len(c.Model.Nodes); got != s.Nodes() {
		return nil, "", fmt.Errorf("generated topology has %d nodes, want %d", got, s.Nodes())
	}

	var workers [2][]string // by data region
	for _, n := range c.Model.Nodes {
		node, err := sim.NodeObject(n, c.Model.Kubernetes.Version)
		if err != nil {
			return nil, "", err
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
		c.Nodes = append(c.Nodes, *node)
		for r, region := range DataRegions {
			if n.Region == region && n.Worker && !n.ControlPlane && !n.Storage {
				workers[r] = append(workers[r], n.Name)
			}
		}
	}
	for i := range s.Namespaces {
		name := fmt.Sprintf("team-%02d", i)
		c.Namespaces = append(c.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"team": name}}})
	}
	namespace := func(i int) string { return c.Namespaces[i%len(c.Namespaces)].Name }
	// slot spreads a workload's pods: replica r of workload w goes to data
	// region r%2, on the region's workers in turn.
	slot := func(w, replicas, r int) string {
		region := workers[r%2]
		return region[(w*replicas/2+r/2)%len(region)]
	}

	for d := range s.Deployments {
		ns, name := namespace(d), fmt.Sprintf("web-%03d", d)
		tmpl := template(name, "100m", "128Mi")
		switch {
		case s.NaiveEvery > 0 && d%s.NaiveEvery == s.NaiveEvery-1:
			tmpl.Spec.Affinity = nil
			tmpl.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = nil
		case d%4 == 0:
			tmpl.Spec.Tolerations = fastEviction(30)
		}
		if s.PodAffinity && d%8 == 7 {
			if tmpl.Spec.Affinity == nil {
				tmpl.Spec.Affinity = &corev1.Affinity{}
			}
			tmpl.Spec.Affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, TopologyKey: topology.LabelZone}}}
		}
		dep := appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("Deployment", ns, name), Labels: map[string]string{"app": name}},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(s.DeploymentReplicas)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: tmpl},
		}
		hash := digest(ns + "/" + name)[:10]
		rs := appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-" + hash, UID: uid("ReplicaSet", ns, name+"-"+hash),
				Labels:          map[string]string{"app": name, "pod-template-hash": hash},
				OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", name, dep.UID)}},
			Spec: appsv1.ReplicaSetSpec{Replicas: dep.Spec.Replicas,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name, "pod-template-hash": hash}},
				Template: *tmpl.DeepCopy()},
		}
		rs.Spec.Template.Labels = rs.Labels
		c.Deployments = append(c.Deployments, dep)
		c.ReplicaSets = append(c.ReplicaSets, rs)
		for r := range s.DeploymentReplicas {
			c.Pods = append(c.Pods, podOf(rs.Spec.Template, ns, fmt.Sprintf("%s-%s", rs.Name, digest(fmt.Sprint(d, "/", r))[:8]),
				slot(d, s.DeploymentReplicas, r), controllerRef("ReplicaSet", rs.Name, rs.UID)))
		}
	}
	for i := range s.StatefulSets {
		ns, name := namespace(i), fmt.Sprintf("db-%03d", i)
		tmpl := template(name, "500m", "1Gi")
		tmpl.Spec.TopologySpreadConstraints[1].WhenUnsatisfiable = corev1.DoNotSchedule
		if s.PodAffinity {
			tmpl.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, TopologyKey: "kubernetes.io/hostname"}}}
		}
		sts := appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("StatefulSet", ns, name), Labels: map[string]string{"app": name}},
			Spec: appsv1.StatefulSetSpec{Replicas: new(int32(s.StatefulSetReplicas)), ServiceName: name,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: tmpl},
		}
		c.StatefulSets = append(c.StatefulSets, sts)
		for r := range s.StatefulSetReplicas {
			pod := podOf(tmpl, ns, fmt.Sprintf("%s-%d", name, r),
				slot(s.Deployments+i, s.StatefulSetReplicas, r), controllerRef("StatefulSet", name, sts.UID))
			// The labels the StatefulSet controller gives each pod of its
			// own: no two pods of a StatefulSet have the same.
			pod.Labels = maps.Clone(pod.Labels)
			pod.Labels["statefulset.kubernetes.io/pod-name"] = pod.Name
			pod.Labels["apps.kubernetes.io/pod-index"] = strconv.Itoa(r)
			c.Pods = append(c.Pods, pod)
		}
	}
	for i := range s.DaemonSets {
		ns, name := "kube-system", fmt.Sprintf("agent-%d", i)
		tmpl := template(name, "50m", "64Mi")
		tmpl.Spec.Affinity, tmpl.Spec.TopologySpreadConstraints = nil, nil
		tmpl.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		ds := appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("DaemonSet", ns, name), Labels: map[string]string{"app": name}},
			Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: tmpl},
		}
		c.DaemonSets = append(c.DaemonSets, ds)
		for _, n := range c.Nodes {
			c.Pods = append(c.Pods, podOf(tmpl, ns, name+"-"+digest(n.Name)[:8], n.Name, metav1.OwnerReference{}))
			p := &c.Pods[len(c.Pods)-1]
			p.OwnerReferences = []metav1.OwnerReference{controllerRef("DaemonSet", name, ds.UID)}
		}
	}
	for i := range s.BarePods {
		ns, name := namespace(i), fmt.Sprintf("job-%04d", i)
		tmpl := template(name, "200m", "256Mi")
		tmpl.Spec.TopologySpreadConstraints = nil
		c.Pods = append(c.Pods, podOf(tmpl, ns, name, slot(0, s.BarePods, i), metav1.OwnerReference{}))
	}
	if len(c.Pods) != s.Pods() {
		return nil, "", fmt.Errorf("generated %d pods, want %d", len(c.Pods), s.Pods())
	}
	sortByName(c)
	for i := 1; i < len(c.Pods); i++ {
		if a, b := &c.Pods[i-1], &c.Pods[i]; a.Namespace == b.Namespace && a.Name == b.Name {
			return nil, "", fmt.Errorf("generated pod %s/%s twice", a.Namespace, a.Name)
		}
	}
	return c, path, nil
}

// template is a pod template as render's patch leaves it: requests, node
// affinity to the data regions, a DoNotSchedule zone spread with
// nodeTaintsPolicy Honor and a ScheduleAnyway hostname spread.
func template(app, cpu, memory string) corev1.PodTemplateSpec {
	labels := map[string]string{"app": app}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.example/" + app + ":1.4.2",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)},
				},
			}},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: DataRegions}},
				}}},
			}},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: topology.LabelZone, WhenUnsatisfiable: corev1.DoNotSchedule,
					NodeTaintsPolicy: new(corev1.NodeInclusionPolicyHonor), LabelSelector: selector},
				{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: selector},
			},
		},
	}
}

// fastEviction tolerates the unreachable and not-ready taints for secs
// seconds, as spec.workloads.evictionSeconds patches.
func fastEviction(secs int64) []corev1.Toleration {
	return []corev1.Toleration{
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(secs)},
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(secs)},
	}
}

// podOf is a pod of tmpl bound to node, Running and Ready, owned by owner
// (none when owner has no kind).
func podOf(tmpl corev1.PodTemplateSpec, ns, name, node string, owner metav1.OwnerReference) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("Pod", ns, name), Labels: tmpl.Labels},
		Spec:       *tmpl.Spec.DeepCopy(),
		Status:     RunningStatus(),
	}
	if owner.Kind != "" {
		p.OwnerReferences = []metav1.OwnerReference{owner}
	}
	p.Spec.NodeName = node
	return p
}

// RunningStatus is the status a kubelet gives a started, Ready pod.
func RunningStatus() corev1.PodStatus {
	var conditions []corev1.PodCondition
	for _, c := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		conditions = append(conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return corev1.PodStatus{Phase: corev1.PodRunning, Conditions: conditions}
}

func controllerRef(kind, name string, id types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: id, Controller: new(true), BlockOwnerDeletion: new(true)}
}

func uid(kind, ns, name string) types.UID {
	d := digest(kind + "/" + ns + "/" + name)
	return types.UID(d[:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32])
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Snapshot is the cluster as check.Take would read it.
func (c *Cluster) Snapshot() *check.Snapshot {
	return &check.Snapshot{
		Nodes:        c.Nodes,
		Pods:         c.Pods,
		Deployments:  c.Deployments,
		ReplicaSets:  c.ReplicaSets,
		StatefulSets: c.StatefulSets,
		DaemonSets:   c.DaemonSets,
	}
}
