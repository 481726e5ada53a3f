package drill

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// A loss by drill's own taint (drill --execute --via taint) is not an
// outage: the region's nodes stay Ready and their kubelets keep running.
// The taint manager evicts at once every pod that does not tolerate the
// NoExecute taint DrillTaint, and a tolerating pod after its
// tolerationSeconds for it; the kubelet then stops the pod and confirms its
// deletion, so a StatefulSet recreates it elsewhere without a fence. There
// is no node-monitor grace period and the unreachable taint's
// tolerationSeconds (spec.workloads.evictionSeconds) play no part. Predict
// with Options.Tainted follows these rules.

// DrillTaint is the taint drill --execute --via taint puts on every node of
// the lost region.
var DrillTaint = corev1.Taint{Key: v1alpha1.DrillTaintKey, Value: "true", Effect: corev1.TaintEffectNoExecute}

// taintedEvictionSeconds is evictionSeconds for a loss by DrillTaint: the
// longest tolerationSeconds of the pods for it (0 for a pod that does not
// tolerate it), whether a pod tolerates it for ever, and the grace period
// before the taint counts (none: it is put on at once).
func taintedEvictionSeconds(pods []*corev1.Pod) (secs int64, forever bool, grace int64) {
	for _, p := range pods {
		for _, t := range p.Spec.Tolerations {
			if !tolerates(t, DrillTaint) {
				continue
			}
			if t.TolerationSeconds == nil {
				return 0, true, 0
			}
			secs = max(secs, *t.TolerationSeconds)
			break
		}
	}
	return secs, false, 0
}
