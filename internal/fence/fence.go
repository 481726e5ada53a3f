// Package fence applies and removes Kubernetes' non-graceful node shutdown
// taint, node.kubernetes.io/out-of-service=nodeshutdown:NoExecute, on the
// nodes of a lost region: the kube-controller-manager then force-deletes
// their pods (StatefulSet pods included) and detaches their volumes, so
// that the surviving region takes over.
package fence

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// The out-of-service taint of Kubernetes' non-graceful node shutdown (GA
// in 1.28).
const (
	TaintKey    = "node.kubernetes.io/out-of-service"
	TaintValue  = "nodeshutdown"
	TaintEffect = corev1.TaintEffectNoExecute
)

// ErrReady is the error of Fence when a node of the region is still Ready
// and force is false: it may still be running its pods and writing.
var ErrReady = errors.New("nodes are Ready")

// Change is what happened to one node.
type Change struct {
	// Node is the node's name.
	Node string
	// Changed is false when the node already had (Fence) or lacked
	// (Unfence) the taint.
	Changed bool
}

// Result is the outcome of Fence or Unfence, one Change per node of the
// region, sorted by name.
type Result struct {
	Changes []Change
}

// Count returns how many nodes were changed and how many were left as
// they were.
func (r Result) Count() (changed, unchanged int) {
	for _, c := range r.Changes {
		if c.Changed {
			changed++
		} else {
			unchanged++
		}
	}
	return changed, unchanged
}

// Region selects a region's nodes: those whose zoneKey label is name.
type Region struct {
	ZoneKey, Name string
}

// Nodes lists the region's nodes, sorted by name. A region without nodes
// is an error: the zone label or the region name is wrong.
func (r Region) Nodes(ctx context.Context, c kubernetes.Interface) ([]corev1.Node, error) {
	sel := labels.Set{r.ZoneKey: r.Name}.String()
	list, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list the nodes of region %s: %w", r.Name, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("region %s has no nodes labelled %s", r.Name, sel)
	}
	nodes := list.Items
	slices.SortFunc(nodes, func(a, b corev1.Node) int { return cmp.Compare(a.Name, b.Name) })
	return nodes, nil
}

// Ready reports whether the node's Ready condition is True.
func Ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ReadyError names the Ready nodes that stop Fence.
type ReadyError struct {
	Region string
	Nodes  []string
}

func (e *ReadyError) Error() string {
	return fmt.Sprintf("region %s: %d %s Ready (%s): fencing a running node force-deletes pods that may still "+
		"be running and writing; stop the region first, or give --force", e.Region, len(e.Nodes), plural(len(e.Nodes), "node is", "nodes are"), strings.Join(e.Nodes, ", "))
}

// Is makes errors.Is(err, ErrReady) true.
func (e *ReadyError) Is(target error) bool { return target == ErrReady }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Fence taints every node of the region out-of-service. Unless force, it
// first checks that none is Ready and returns a *ReadyError naming those
// that are, changing nothing. A node already tainted is left as it is.
// report, when not nil, is called after each node is handled.
func Fence(ctx context.Context, c kubernetes.Interface, r Region, force bool, report func(Change)) (Result, error) {
	nodes, err := r.Nodes(ctx, c)
	if err != nil {
		return Result{}, err
	}
	if !force {
		var ready []string
		for i := range nodes {
			if Ready(&nodes[i]) {
				ready = append(ready, nodes[i].Name)
			}
		}
		if len(ready) > 0 {
			return Result{}, &ReadyError{Region: r.Name, Nodes: ready}
		}
	}
	return apply(ctx, c, nodes, true, report)
}

// Unfence removes the out-of-service taint, and only it, from every node of
// the region. A node without it is left as it is.
func Unfence(ctx context.Context, c kubernetes.Interface, r Region, report func(Change)) (Result, error) {
	nodes, err := r.Nodes(ctx, c)
	if err != nil {
		return Result{}, err
	}
	return apply(ctx, c, nodes, false, report)
}

// apply adds (fence) or removes the taint on each node, in name order.
func apply(ctx context.Context, c kubernetes.Interface, nodes []corev1.Node, fence bool, report func(Change)) (Result, error) {
	var res Result
	for _, n := range nodes {
		changed, err := setTaint(ctx, c, n.Name, fence)
		if err != nil {
			return res, err
		}
		ch := Change{Node: n.Name, Changed: changed}
		res.Changes = append(res.Changes, ch)
		if report != nil {
			report(ch)
		}
	}
	return res, nil
}

// setTaint adds or removes the out-of-service taint on one node, keeping
// its other taints. It returns whether the node changed.
func setTaint(ctx context.Context, c kubernetes.Interface, name string, fence bool) (bool, error) {
	return SetTaint(ctx, c, name, corev1.Taint{Key: TaintKey, Value: TaintValue, Effect: TaintEffect}, fence)
}
