package fence

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// sameTaint reports whether a and b are one taint: a taint is identified by
// its key and effect, whatever its value.
func sameTaint(a, b corev1.Taint) bool {
	return a.Key == b.Key && a.Effect == b.Effect
}

// taintsPatch is a JSON merge patch of a node's taints, guarded by its
// resourceVersion: a node changed since it was read makes the API server
// answer Conflict, and the change is made again on a fresh read.
type taintsPatch struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Spec struct {
		Taints []corev1.Taint `json:"taints"`
	} `json:"spec"`
}

// SetTaint adds (present) or removes taint t on node name, keeping the
// node's other taints, and retries on conflict. It returns whether the
// node changed: adding a taint the node has (same key and effect), or
// removing one it lacks, changes nothing.
func SetTaint(ctx context.Context, c kubernetes.Interface, name string, t corev1.Taint, present bool) (bool, error) {
	changed := false
	is := func(x corev1.Taint) bool { return sameTaint(x, t) }
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if slices.ContainsFunc(n.Spec.Taints, is) == present {
			changed = false
			return nil
		}
		var p taintsPatch
		p.Metadata.ResourceVersion = n.ResourceVersion
		p.Spec.Taints = slices.DeleteFunc(slices.Clone(n.Spec.Taints), is)
		if present {
			p.Spec.Taints = append(p.Spec.Taints, t)
		}
		if p.Spec.Taints == nil {
			p.Spec.Taints = []corev1.Taint{}
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := c.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, data, metav1.PatchOptions{}); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("node %s: %w", name, err)
	}
	return changed, nil
}
