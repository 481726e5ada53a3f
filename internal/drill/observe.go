package drill

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// observer follows, poll after poll, the workloads of a prediction.
type observer struct {
	x *Execution
	// lost are the lost region's nodes.
	lost map[string]bool
	// watched follows r.Workloads, index for index.
	watched []*watched
	// apiDown counts the polls the API server did not answer.
	apiDown, polls int
	notReady       int // lost nodes seen NotReady at the last poll
	monsAtStart    int // the live mon pods before the outage
	nodes          []corev1.Node
	pods           []corev1.Pod
}

// watched is what was seen of one workload.
type watched struct {
	key  string // namespace/kind/name
	kind string
	// desired is its live pods before the outage; lostAtStart those in
	// the lost region.
	desired, lostAtStart int
	minReady, ready      int
	pending              int
	recovered            time.Duration // 0 until every replica is Ready outside the lost region
}

// workloadKey returns the workload a pod belongs to: its controller (a
// ReplicaSet's Deployment), or itself.
func workloadKey(p *corev1.Pod, rsOwner map[string]string) string {
	o := metav1.GetControllerOf(p)
	if o == nil {
		return p.Namespace + "/Pod/" + p.Name
	}
	if o.Kind == "ReplicaSet" {
		if d, ok := rsOwner[p.Namespace+"/"+o.Name]; ok {
			return p.Namespace + "/Deployment/" + d
		}
	}
	return p.Namespace + "/" + o.Kind + "/" + o.Name
}

// newObserver reads the cluster once before the outage: each workload's
// live pods and those in the lost region.
func newObserver(ctx context.Context, x Execution, r *Report) (*observer, error) {
	o := &observer{x: &x, lost: map[string]bool{}}
	for _, nm := range x.Model.Nodes {
		if nm.Region == x.Region {
			o.lost[nm.Name] = true
		}
	}
	byKey := map[string]*watched{}
	for _, w := range r.Workloads {
		ww := &watched{key: w.Namespace + "/" + w.Kind + "/" + w.Name, kind: w.Kind}
		o.watched = append(o.watched, ww)
		byKey[ww.key] = ww
	}
	pods, rsOwner, err := o.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the workloads before the outage: %w", err)
	}
	for i := range pods {
		p := &pods[i]
		if w := byKey[workloadKey(p, rsOwner)]; w != nil && live(p) {
			w.desired++
			if o.lost[p.Spec.NodeName] {
				w.lostAtStart++
			} else if podReady(p) {
				w.ready++
			}
		}
	}
	for _, w := range o.watched {
		w.minReady = w.ready
	}
	o.monsAtStart = o.mons(pods)
	return o, nil
}

// live says whether a pod counts: not finished, not being deleted.
func live(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// list reads the pods and maps each ReplicaSet to its Deployment.
func (o *observer) list(ctx context.Context) ([]corev1.Pod, map[string]string, error) {
	c := o.x.Client
	pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	rss, err := c.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	rsOwner := map[string]string{}
	for i := range rss.Items {
		if ow := metav1.GetControllerOf(&rss.Items[i]); ow != nil && ow.Kind == "Deployment" {
			rsOwner[rss.Items[i].Namespace+"/"+rss.Items[i].Name] = ow.Name
		}
	}
	return pods.Items, rsOwner, nil
}

// poll looks at the cluster once, prints what changed, and says whether
// every workload that lost pods has recovered and whether every lost node
// is NotReady.
func (o *observer) poll(ctx context.Context, start time.Time) (done, notReady bool) {
	o.polls++
	since := time.Since(start).Round(time.Second)
	pods, rsOwner, err := o.list(ctx)
	var nodes *corev1.NodeList
	if err == nil {
		nodes, err = o.x.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	}
	if err != nil {
		if ctx.Err() == nil {
			o.apiDown++
			o.x.progressf("%s: the API server did not answer: %v", since, err)
		}
		return false, false
	}
	o.pods, o.nodes = pods, nodes.Items
	down := 0
	for i := range nodes.Items {
		if o.lost[nodes.Items[i].Name] && !ready(&nodes.Items[i]) {
			down++
		}
	}
	if down != o.notReady {
		o.x.progressf("%s: %d of %d nodes of %s NotReady", since, down, len(o.lost), o.x.Region)
		o.notReady = down
	}
	byKey := map[string]*watched{}
	readyNow, pendingNow := map[string]int{}, map[string]int{}
	for _, w := range o.watched {
		byKey[w.key] = w
	}
	for i := range pods {
		p := &pods[i]
		k := workloadKey(p, rsOwner)
		if byKey[k] == nil || !live(p) {
			continue
		}
		switch {
		case p.Spec.NodeName == "":
			pendingNow[k]++
		case !o.lost[p.Spec.NodeName] && podReady(p):
			readyNow[k]++
		}
	}
	done = true
	for _, w := range o.watched {
		if w.ready != readyNow[w.key] {
			o.x.progressf("%s: %s: %d of %d Ready outside %s", since, w.key, readyNow[w.key], w.desired, o.x.Region)
		}
		w.ready = readyNow[w.key]
		w.minReady = min(w.minReady, w.ready)
		if w.pending != pendingNow[w.key] {
			o.x.progressf("%s: %s: %d pending", since, w.key, pendingNow[w.key])
		}
		w.pending = pendingNow[w.key]
		if w.lostAtStart == 0 || w.kind == "DaemonSet" {
			continue
		}
		if w.recovered == 0 && w.ready >= w.desired {
			w.recovered = max(since, time.Second)
			o.x.progressf("%s: %s Ready again after %s", since, w.key, since)
		}
		if w.recovered == 0 {
			done = false
		}
	}
	return done, down == len(o.lost)
}

// finish writes each workload's observation and whether it matches the
// prediction, and the platform as last seen.
func (o *observer) finish(_ context.Context, r *Report) {
	for i, w := range o.watched {
		d := &r.Workloads[i]
		ob := &v1alpha1.DrillObservation{Available: w.minReady > 0, MinReady: w.minReady}
		switch {
		case w.lostAtStart == 0 || d.Kind == "DaemonSet":
			ob.Verdict = v1alpha1.VerdictUnaffected
		case w.recovered > 0:
			ob.Verdict = v1alpha1.VerdictRecovers
			ob.RecoverySeconds = int64(w.recovered / time.Second)
		case d.Kind == "Pod":
			ob.Verdict = v1alpha1.VerdictLost
		case w.pending > 0:
			ob.Verdict = v1alpha1.VerdictPending
		default:
			ob.Verdict = v1alpha1.VerdictHangs
		}
		if d.Kind == "DaemonSet" || w.lostAtStart == 0 {
			// Not meant to move: available when a pod stays Ready outside.
			ob.Available = w.minReady > 0
		}
		d.Observed = ob
		diff := difference(d, ob)
		match := diff == ""
		d.Match, d.Difference = &match, diff
	}
	r.Execution.Platform = o.platform()
}

// difference says how an observation differs from its prediction, "" when
// they match.
func difference(d *v1alpha1.DrillWorkload, ob *v1alpha1.DrillObservation) string {
	switch {
	case d.Verdict != ob.Verdict:
		return fmt.Sprintf("predicted %s, observed %s", d.Verdict, ob.Verdict)
	case d.Available != ob.Available:
		return fmt.Sprintf("predicted available %t, observed %t (at least %d Ready outside the lost region)", d.Available, ob.Available, ob.MinReady)
	case d.Verdict == v1alpha1.VerdictRecovers:
		tol := Tolerance(d.RecoverySeconds)
		if delta := ob.RecoverySeconds - d.RecoverySeconds; delta > tol || -delta > tol {
			return fmt.Sprintf("recovered after %d s, predicted %d s: more than the tolerance of %d s apart", ob.RecoverySeconds, d.RecoverySeconds, tol)
		}
	}
	return ""
}

// Tolerance is how far, in seconds, an observed recovery may be from the
// predicted one and still match: the larger of ToleranceSeconds and
// TolerancePercent of the prediction.
func Tolerance(predicted int64) int64 {
	return max(ToleranceSeconds, predicted*TolerancePercent/100)
}

// platform counts what the last poll saw: the API server answered every
// poll; the etcd members of the topology on Ready nodes (not with --via
// taint, whose nodes stay Ready); the Ready mon pods.
func (o *observer) platform() v1alpha1.DrillPlatformObservation {
	p := v1alpha1.DrillPlatformObservation{APIServer: o.apiDown == 0}
	p.Reasons = append(p.Reasons, fmt.Sprintf("API server: answered %d of %d polls", o.polls-o.apiDown, o.polls))
	readyNode := map[string]bool{}
	for i := range o.nodes {
		readyNode[o.nodes[i].Name] = ready(&o.nodes[i])
	}
	if o.x.Via == v1alpha1.DrillViaSim {
		members, up := 0, 0
		for _, n := range o.x.Model.Nodes {
			if n.Etcd {
				members++
				if readyNode[n.Name] {
					up++
				}
			}
		}
		q := up > members/2
		p.EtcdQuorum = &q
		p.Reasons = append(p.Reasons, fmt.Sprintf("etcd: %d of %d members on Ready nodes", up, members))
	} else {
		p.Reasons = append(p.Reasons, "etcd: not observed: with --via taint every node stays Ready")
	}
	mons, up := o.monsAtStart, 0
	for i := range o.pods {
		pod := &o.pods[i]
		if o.isMon(pod) && podReady(pod) && readyNode[pod.Spec.NodeName] {
			up++
		}
	}
	if mons > 0 {
		q := up > mons/2
		p.CephMonQuorum = &q
		p.Reasons = append(p.Reasons, fmt.Sprintf("Ceph: %d of the %d mon pods of before the outage Ready", up, mons))
	} else {
		p.Reasons = append(p.Reasons, "Ceph: not observed: no mon pod")
	}
	return p
}

// isMon says whether a pod is a live Ceph mon.
func (o *observer) isMon(p *corev1.Pod) bool {
	return p.Namespace == o.x.Model.Storage.Namespace && p.Labels["app"] == rook.AppMon && live(p)
}

// mons counts the live mon pods.
func (o *observer) mons(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		if o.isMon(&pods[i]) {
			n++
		}
	}
	return n
}
