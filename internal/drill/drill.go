package drill

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// The timing of a recovery.
const (
	// DefaultTolerationSeconds is how long a pod stays bound to an
	// unreachable or not-ready node when it has no toleration of its own:
	// the DefaultTolerationSeconds admission plugin gives every pod 300 s.
	DefaultTolerationSeconds = 300
	// DefaultNodeMonitorGracePeriod is kube-controller-manager's
	// --node-monitor-grace-period on a cluster installed from the bundle:
	// how long a node may be silent before it is marked NotReady (Unknown)
	// and tainted unreachable. The bundle's Kubespray variables set
	// kube_controller_node_monitor_grace_period to it (Kubespray v2.31's
	// own default too; Kubernetes' default is 50 s since 1.32).
	DefaultNodeMonitorGracePeriod = 40 * time.Second
	// SchedulingSeconds is the time drill allows for a controller to
	// create a replacement, the scheduler to bind it and its kubelet to
	// start it. Image pulls and readiness probes may take longer.
	SchedulingSeconds = 10
)

// The taints the node lifecycle controller puts on a node that stops
// answering, and the one of non-graceful node shutdown.
const (
	TaintUnreachable  = "node.kubernetes.io/unreachable"
	TaintNotReady     = "node.kubernetes.io/not-ready"
	TaintOutOfService = "node.kubernetes.io/out-of-service"
)

// annotationMirror marks the API's copy of a kubelet's static pod.
const annotationMirror = "kubernetes.io/config.mirror"

// Options tune a prediction.
type Options struct {
	// Fence predicts the outcome once the lost region's nodes carry the
	// out-of-service taint (non-graceful node shutdown): their pods are
	// deleted at once, StatefulSets included.
	Fence bool
	// NodeMonitorGracePeriod is the controller manager's; 0 means
	// DefaultNodeMonitorGracePeriod.
	NodeMonitorGracePeriod time.Duration
	// RTO fails every workload whose predicted recovery is slower; 0 for
	// no limit.
	RTO time.Duration
	// Tainted predicts a loss by drill's own NoExecute taint (drill
	// --execute --via taint) instead of an outage: see tainted.go.
	Tainted bool
}

// Predict predicts the loss of region lost. The region must be one of the
// model's (the caller checks it). The report is partial (Unavailable set)
// when a kind it reads could not be listed.
func Predict(s *check.Snapshot, m *topology.Model, lost string, o Options) *Report {
	if o.NodeMonitorGracePeriod == 0 {
		o.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	r := &Report{DrillReport: v1alpha1.DrillReport{
		APIVersion: v1alpha1.APIVersion,
		Kind:       v1alpha1.KindDrillReport,
		Topology:   m.Name,
		LostRegion: lost,
		Fenced:     o.Fence,
		RTOSeconds: int64(o.RTO / time.Second),
		Workloads:  []v1alpha1.DrillWorkload{},
	}}
	r.Unavailable = s.Unavailable()
	c := newCluster(s, m, lost)
	r.Platform = platform(s, m, c)
	for _, w := range c.workloads(s) {
		r.Workloads = append(r.Workloads, c.predict(w, o))
	}
	return r
}

// ready says whether a node's Ready condition is True.
func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podReady says whether a pod's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// platform counts etcd members, control planes and Ceph mons outside the
// lost region.
func platform(s *check.Snapshot, m *topology.Model, c *cluster) v1alpha1.DrillPlatform {
	var p v1alpha1.DrillPlatform
	up := func(name, region string) bool {
		if region == c.lost {
			return false
		}
		if n, ok := c.byName[name]; ok {
			return ready(n.node)
		}
		return true // a node of the topology the cluster does not show: the topology's word
	}
	etcd, etcdUp, cps, cpsUp := 0, 0, 0, 0
	for _, n := range m.Nodes {
		if n.Etcd {
			etcd++
			if up(n.Name, n.Region) {
				etcdUp++
			}
		}
		if n.ControlPlane {
			cps++
			if up(n.Name, n.Region) {
				cpsUp++
			}
		}
	}
	p.EtcdQuorum = etcdUp > etcd/2
	p.APIServer = cpsUp > 0 && p.EtcdQuorum
	api := fmt.Sprintf("API server: %d of %d control planes left", cpsUp, cps)
	if !p.EtcdQuorum {
		api += ", and it needs etcd's quorum"
	}
	p.Reasons = append(p.Reasons, fmt.Sprintf("etcd: %d of %d members left, %d needed", etcdUp, etcd, etcd/2+1), api)

	mons, monsUp, source := 0, 0, "mon pods"
	for i := range s.Pods {
		pod := &s.Pods[i]
		if pod.Namespace != m.Storage.Namespace || pod.Labels["app"] != rook.AppMon || pod.DeletionTimestamp != nil {
			continue
		}
		mons++
		zone := pod.Labels[rook.LabelMonZone]
		if n, ok := c.byName[pod.Spec.NodeName]; ok {
			zone = n.region
		}
		if zone != c.lost {
			monsUp++
		}
	}
	if mons == 0 {
		source = "the topology's mon placement"
		for _, rg := range m.Regions {
			mons += rules.MonsIn(rg)
			if rg.Name != c.lost {
				monsUp += rules.MonsIn(rg)
			}
		}
	}
	p.CephMonQuorum = monsUp > mons/2
	p.Reasons = append(p.Reasons, fmt.Sprintf("Ceph: %d of %d mons left, %d needed (%s)", monsUp, mons, mons/2+1, source))
	switch {
	case !p.CephMonQuorum:
		p.Reasons = append(p.Reasons, "Ceph stretch mode: without the mons' quorum no I/O is served")
	case slices.Contains(m.Data, c.lost):
		p.CephStretchDegraded = true
		p.Reasons = append(p.Reasons, fmt.Sprintf("Ceph stretch mode: DEGRADED once %s's mons and OSDs are down: the pools drop to min_size 1 and serve from the two copies in %s; no copies are added, and recovery starts when %s returns",
			c.lost, strings.Join(slices.DeleteFunc(slices.Clone(m.Data), func(r string) bool { return r == c.lost }), ", "), c.lost))
	default:
		p.Reasons = append(p.Reasons, "Ceph stretch mode: healthy: losing the arbiter only takes a mon (MON_DOWN)")
	}
	p.IngressEndpointsBefore, p.IngressEndpoints = c.ingressEndpoints(s)
	switch {
	case p.IngressEndpointsBefore == 0:
		p.Reasons = append(p.Reasons, "ingress: no Ready pod serves port 80 or 443 (a NodePort or LoadBalancer Service's, or a hostPort): not judged")
	default:
		p.Reasons = append(p.Reasons, fmt.Sprintf("ingress: %d of %d Ready endpoints left", p.IngressEndpoints, p.IngressEndpointsBefore))
	}
	return p
}

// ingressPorts are the ports the ingress host is served on.
var ingressPorts = []int32{80, 443}

// ingressEndpoints counts the ingress controller's Ready endpoints before
// and after the loss, as the EndpointSlice controller would list them:
// the Ready, not terminating pods selected by a NodePort or LoadBalancer
// Service that serves port 80 or 443, and the pods that bind one of those
// ports on their node (a hostPort, or a container port with
// hostNetwork). Each pod counts once.
func (c *cluster) ingressEndpoints(s *check.Snapshot) (before, after int) {
	type selector struct {
		ns  string
		sel labels.Selector
	}
	var sels []selector
	for _, svc := range s.Services {
		if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Spec.Selector) == 0 {
			continue
		}
		if slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return slices.Contains(ingressPorts, p.Port) }) {
			sels = append(sels, selector{svc.Namespace, labels.SelectorFromSet(svc.Spec.Selector)})
		}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.DeletionTimestamp != nil || !podReady(p) || p.Spec.NodeName == "" {
			continue
		}
		serves := slices.ContainsFunc(sels, func(x selector) bool {
			return x.ns == p.Namespace && x.sel.Matches(labels.Set(p.Labels))
		})
		if !serves {
			serves = slices.ContainsFunc(p.Spec.Containers, func(ct corev1.Container) bool {
				return slices.ContainsFunc(ct.Ports, func(port corev1.ContainerPort) bool {
					return slices.Contains(ingressPorts, port.HostPort) || (p.Spec.HostNetwork && slices.Contains(ingressPorts, port.ContainerPort))
				})
			})
		}
		if !serves {
			continue
		}
		before++
		if !c.isLost(p.Spec.NodeName) {
			after++
		}
	}
	return before, after
}

// workload is a pod owner and its pods.
type workload struct {
	kind, namespace, name string
	bare                  bool
	pods                  []*corev1.Pod
}

// workloads groups the snapshot's live pods by owner: a ReplicaSet's pods
// by its Deployment, a pod without a controller by itself. Sorted by
// namespace, kind and name.
func (c *cluster) workloads(s *check.Snapshot) []*workload {
	rsOwner := map[string]*metav1.OwnerReference{}
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		if o := metav1.GetControllerOf(rs); o != nil && o.Kind == "Deployment" {
			rsOwner[rs.Namespace+"/"+rs.Name] = o
		}
	}
	byKey := map[string]*workload{}
	var out []*workload
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if p.Namespace == c.storageNamespace {
			continue // the Ceph daemons: the platform's mon quorum judges them
		}
		if _, mirror := p.Annotations[annotationMirror]; mirror {
			continue // a static pod: the node's own, gone with it
		}
		w := workload{kind: "Pod", namespace: p.Namespace, name: p.Name, bare: true}
		if o := metav1.GetControllerOf(p); o != nil {
			if o.Kind == "Node" {
				continue // a static pod: the node's own, gone with it
			}
			w = workload{kind: o.Kind, namespace: p.Namespace, name: o.Name}
			if o.Kind == "ReplicaSet" {
				if d := rsOwner[p.Namespace+"/"+o.Name]; d != nil {
					w.kind, w.name = d.Kind, d.Name
				}
			}
		}
		key := w.namespace + "/" + w.kind + "/" + w.name
		if byKey[key] == nil {
			byKey[key] = &w
			out = append(out, &w)
		}
		byKey[key].pods = append(byKey[key].pods, p)
	}
	slices.SortFunc(out, func(a, b *workload) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name))
	})
	return out
}

// predict gives one workload's verdict.
func (c *cluster) predict(w *workload, o Options) v1alpha1.DrillWorkload {
	d := v1alpha1.DrillWorkload{Kind: w.kind, Namespace: w.namespace, Name: w.name}
	var lost []*corev1.Pod
	readyLeft := 0
	for _, p := range w.pods {
		if c.isLost(p.Spec.NodeName) {
			lost = append(lost, p)
		} else if podReady(p) && p.DeletionTimestamp == nil {
			readyLeft++
		}
	}
	d.PodsLost = len(lost)
	d.Available = readyLeft > 0
	grace := int64(o.NodeMonitorGracePeriod / time.Second)
	switch {
	case len(lost) == 0:
		d.Verdict, d.Reason = v1alpha1.VerdictUnaffected, "no pod in "+c.lost
	case w.kind == "DaemonSet":
		d.Verdict = v1alpha1.VerdictUnaffected
		d.Reason = fmt.Sprintf("%d pod(s) on %s's nodes go with them and are not recreated elsewhere: a DaemonSet runs one pod per node, so this is not a failure", len(lost), c.lost)
	case w.bare:
		d.Verdict = v1alpha1.VerdictLost
		d.Reason = "a Pod without a controller is never recreated: run it from a Deployment or StatefulSet"
	case w.kind == "StatefulSet" && !o.Fence && !o.Tainted:
		// Placement is not judged: nothing is created until the old pods
		// are gone.
		d.Verdict = v1alpha1.VerdictHangs
		d.Reason = fmt.Sprintf("%d pod(s) stay Terminating on unreachable nodes: a StatefulSet never runs two pods of one identity, so it waits until the nodes are fenced (kubectl stretch fence %s, or drill --fence to predict it)", len(lost), c.lost)
	default:
		secs, forever := evictionSeconds(lost)
		if o.Tainted {
			secs, forever, grace = taintedEvictionSeconds(lost)
		}
		if o.Fence {
			secs, forever = 0, false // the out-of-service taint evicts at once
		}
		if forever {
			d.Verdict = v1alpha1.VerdictHangs
			d.Reason = "its pods tolerate " + TaintUnreachable + " without tolerationSeconds: they are never evicted; set tolerationSeconds or fence the region"
			break
		}
		on, msg := c.place(lost)
		if msg != "" {
			d.Verdict, d.Reason = v1alpha1.VerdictPending, msg
			break
		}
		vf := c.volumeFacts(lost)
		// Drill's own taint leaves the node Ready: its kubelet confirms the
		// pod's end and the volume is detached, as with a fence.
		if len(vf.held) > 0 && !o.Fence && !o.Tainted {
			d.Verdict = v1alpha1.VerdictHangs
			d.Reason = fmt.Sprintf("%d replacement(s) fit on %s, but volume(s) %s stay attached to the lost node(s): the attach-detach controller detaches a volume only once its pod has terminated, and a pod on an unreachable node never confirms it, so the replacement waits (Multi-Attach error); fence the region (kubectl stretch fence %s, or drill --fence to predict it)",
				len(lost), strings.Join(on, ", "), strings.Join(vf.held, ", "), c.lost)
			break
		}
		d.Verdict = v1alpha1.VerdictRecovers
		d.RecoverySeconds = grace + secs + SchedulingSeconds
		how := fmt.Sprintf("evicted after tolerationSeconds %d", secs)
		if o.Tainted && !o.Fence {
			how = fmt.Sprintf("evicted by the %s taint after %d s", v1alpha1.DrillTaintKey, secs)
		}
		if o.Fence {
			how = "deleted once fenced (out-of-service taint)"
		}
		d.Reason = fmt.Sprintf("%d pod(s) %s, replaced on %s", len(lost), how, strings.Join(on, ", "))
		if len(vf.follow) > 0 {
			d.Reason += fmt.Sprintf("; volume(s) %s have no node affinity and follow the pod, detached from the fenced nodes at once", strings.Join(vf.follow, ", "))
		}
	}
	if d.Verdict != v1alpha1.VerdictUnaffected && len(lost) > 0 {
		if vf := c.volumeFacts(lost); len(vf.waiting) > 0 {
			d.Reason += fmt.Sprintf("; claim(s) %s are not bound yet and wait for their first consumer: the volume is provisioned where the replacement is scheduled, if the StorageClass allows that region", strings.Join(vf.waiting, ", "))
		}
	}
	if len(lost) > 0 && w.kind != "DaemonSet" {
		c.judgePDB(w, &d)
	}
	d.Failed = d.Verdict != v1alpha1.VerdictRecovers && d.Verdict != v1alpha1.VerdictUnaffected
	if !d.Failed && o.RTO > 0 && d.RecoverySeconds > int64(o.RTO/time.Second) {
		d.Failed = true
		d.Reason += fmt.Sprintf("; predicted recovery %d s is slower than --rto %s", d.RecoverySeconds, o.RTO)
	}
	return d
}

// evictionSeconds is the longest tolerationSeconds of the pods for the
// unreachable and not-ready NoExecute taints (DefaultTolerationSeconds for
// a pod without one), and whether a pod tolerates them forever.
func evictionSeconds(pods []*corev1.Pod) (secs int64, forever bool) {
	for _, p := range pods {
		s := int64(DefaultTolerationSeconds)
		for _, t := range p.Spec.Tolerations {
			taint := corev1.Taint{Key: TaintUnreachable, Effect: corev1.TaintEffectNoExecute}
			if !tolerates(t, taint) {
				continue
			}
			if t.TolerationSeconds == nil {
				return 0, true
			}
			s = max(0, *t.TolerationSeconds)
			break
		}
		secs = max(secs, s)
	}
	return secs, false
}
