package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Defaults of the simulated nodes' capacity, for topology nodes that do not
// say.
const (
	DefaultNodeCPU    = "4"
	DefaultNodeMemory = "16Gi"
	// NodePods is every simulated node's pod capacity (the kubelet's
	// default --max-pods).
	NodePods = "110"
)

// LabelSimulated marks what the simulated cluster writes: its Nodes, and
// every object the simulated operators create or change. The value is
// "true".
const LabelSimulated = "stretch.dev/simulated"

// Labels the kubelet and kubeadm put on nodes, which the simulated nodes
// carry as well.
const (
	labelHostname     = "kubernetes.io/hostname"
	labelOS           = "kubernetes.io/os"
	labelArch         = "kubernetes.io/arch"
	labelControlPlane = topology.LabelControlPlane
)

// NodeObject returns the Node that the simulated cluster creates for n:
// the topology's labels plus kubernetes.io/hostname, os and arch (and their
// beta.kubernetes.io forms, and the control-plane role label on control-plane
// nodes), the taints it has once installed (NodeModel.InstalledTaints), the
// node's addresses, and its capacity (cpu and memory from the topology,
// DefaultNodeCPU and DefaultNodeMemory when unset, NodePods pods).
// kubernetesVersion, such as "1.35.4", is reported as the kubelet version.
func NodeObject(n topology.NodeModel, kubernetesVersion string) (*corev1.Node, error) {
	labels := maps.Clone(n.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelHostname] = n.Name
	labels[labelOS] = "linux"
	labels[labelArch] = "amd64"
	// kube-controller-manager adds these to match the two above.
	labels["beta."+labelOS] = "linux"
	labels["beta."+labelArch] = "amd64"
	if n.ControlPlane {
		labels[labelControlPlane] = ""
	}
	var taints []corev1.Taint
	for _, t := range n.InstalledTaints() {
		taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	cpu, memory := n.CPU, n.Memory
	if cpu == "" {
		cpu = DefaultNodeCPU
	}
	if memory == "" {
		memory = DefaultNodeMemory
	}
	capacity := corev1.ResourceList{}
	for name, value := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory, corev1.ResourcePods: NodePods,
	} {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return nil, fmt.Errorf("node %s: %s %q: %w", n.Name, name, value, err)
		}
		capacity[name] = q
	}
	addresses := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.IP}}
	if n.PublicIP != "" {
		addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: n.PublicIP})
	}
	addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: n.Name})
	version := kubernetesVersion
	if version != "" && !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.Name,
			Labels:      labels,
			Annotations: map[string]string{LabelSimulated: "true"},
		},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Addresses:   addresses,
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion:  version,
				OperatingSystem: "linux",
				Architecture:    "amd64",
			},
		},
	}, nil
}

// createNodes creates every node of the model. Their status (capacity,
// addresses) is written too; kwok then adds the conditions.
func createNodes(ctx context.Context, client kubernetes.Interface, m *topology.Model) error {
	for _, n := range m.Nodes {
		node, err := NodeObject(n, m.Kubernetes.Version)
		if err != nil {
			return err
		}
		created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{FieldManager: FieldManager})
		if err != nil {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
		if len(created.Status.Capacity) == 0 {
			created.Status = node.Status
			if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
				return fmt.Errorf("write status of node %s: %w", n.Name, err)
			}
		}
	}
	return nil
}

// regionNodes lists the names of region's nodes in topology order.
func regionNodes(m *topology.Model, region string) []string {
	for _, r := range m.Regions {
		if r.Name == region {
			return r.Nodes
		}
	}
	return nil
}

// nodeReady reports whether the node's Ready condition is True.
func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// nodeUsable reports whether the node is Ready and the node lifecycle
// controller has lifted its not-ready and unreachable taints, so that the
// scheduler places pods on it.
func nodeUsable(n *corev1.Node) bool {
	if !nodeReady(n) {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	return true
}

// nodeState is a state the nodes of a region are waited for.
type nodeState int

const (
	// nodesReady: the Ready condition is True (kwok has taken the nodes).
	nodesReady nodeState = iota
	// nodesUsable: Ready, and the node lifecycle controller has lifted the
	// not-ready and unreachable taints, so that the scheduler uses them.
	nodesUsable
	// nodesNotReady: the Ready condition is not True.
	nodesNotReady
)

func (s nodeState) String() string {
	return [...]string{"Ready", "Ready and untainted", "NotReady"}[s]
}

// in reports whether n is in state s.
func (s nodeState) in(n *corev1.Node) bool {
	switch s {
	case nodesReady:
		return nodeReady(n)
	case nodesUsable:
		return nodeUsable(n)
	default:
		return !nodeReady(n)
	}
}

// wanted is the state WaitRegion waits for.
func wanted(ready bool) nodeState {
	if ready {
		return nodesUsable
	}
	return nodesNotReady
}

// regionState returns nil when every node of region exists and is in state
// want; otherwise an error names the nodes that are not there yet.
func regionState(ctx context.Context, client kubernetes.Interface, m *topology.Model, region string, want nodeState) error {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: topology.LabelZone + "=" + region})
	if err != nil {
		return err
	}
	byName := map[string]*corev1.Node{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	var pending []string
	for _, name := range regionNodes(m, region) {
		n, ok := byName[name]
		switch {
		case !ok:
			pending = append(pending, name+" (missing)")
		case !want.in(n):
			pending = append(pending, name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("nodes of region %s not %s yet: %s", region, want, strings.Join(pending, ", "))
	}
	return nil
}

// waitRegion polls until regionState succeeds or ctx ends.
func waitRegion(ctx context.Context, client kubernetes.Interface, m *topology.Model, region string, want nodeState) error {
	return poll(ctx, func(ctx context.Context) (bool, error) {
		err := regionState(ctx, client, m, region, want)
		return err == nil, err
	})
}

// deleteLeases deletes the node leases of region's nodes. kwok only takes
// over a lease another kwok held once it has expired; a region coming back
// should not wait for that.
func deleteLeases(ctx context.Context, client kubernetes.Interface, m *topology.Model, region string) error {
	var errs []error
	for _, name := range regionNodes(m, region) {
		err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete lease %s/%s: %w", corev1.NamespaceNodeLease, name, err))
		}
	}
	return errors.Join(errs...)
}
