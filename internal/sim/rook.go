package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// Ceph daemon kinds.
const (
	daemonMon = "mon"
	daemonOSD = "osd"
	daemonMgr = "mgr"
)

// What the simulated Rook reads from a CephCluster, with Rook's defaults
// (rook pkg/apis/ceph.rook.io/v1/types.go, pkg/operator/ceph/cluster/mon/
// mon.go, spec.go, mgr/spec.go, osd/spec.go, v1.20.6).
const (
	// defaultMonCount is Rook's mon count when spec.mon.count is unset.
	defaultMonCount = 3
	// defaultMgrCount is Rook's mgr count when spec.mgr.count is unset.
	defaultMgrCount = 2
	// stretchMonCount is the mon count with which Rook puts two mons in
	// each non-arbiter zone of a stretch cluster.
	stretchMonCount = 5
	// Rook's placement keys (spec.placement.<key>).
	placementAll     = "all"
	placementMon     = "mon"
	placementArbiter = "arbiter"
	placementMgr     = "mgr"
	placementOSD     = "osd"
	// annotationSpecHash records the hash of the pod spec the simulated Rook
	// built: a CephCluster change that changes it replaces the pod, as
	// Rook's Deployment update would.
	annotationSpecHash = "stretch.dev/simulated-spec-hash"
	// labelRookCluster names the CephCluster's namespace on every daemon pod.
	labelRookCluster = "rook_cluster"
)

// daemon is a Ceph daemon the simulated Rook runs for a CephCluster: one
// pod, placed by kube-scheduler.
type daemon struct {
	kind string // daemonMon, daemonOSD or daemonMgr
	id   string // a, b, ... for mons and mgrs; 0, 1, ... for OSDs
	// zone is the stretch zone Rook assigned a mon; for an OSD, the zone
	// label of its node.
	zone string
	// node is an OSD's node (spec.storage.nodes[].name).
	node string
	pod  *corev1.Pod
}

// podName is the daemon's pod name (Rook's Deployment name, without the
// ReplicaSet suffixes).
func (d daemon) podName() string { return "rook-ceph-" + d.kind + "-" + d.id }

// decodeCephCluster reads an applied CephCluster into Rook's types.
func decodeCephCluster(obj *unstructured.Unstructured) (*rook.CephCluster, error) {
	var c rook.CephCluster
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &c); err != nil {
		return nil, fmt.Errorf("read CephCluster %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return &c, nil
}

// failureDomainLabel is the node label of the mons' zones (Rook
// mon/spec.go GetFailureDomainLabel).
func failureDomainLabel(spec *rook.ClusterSpec) string {
	if sc := spec.Mon.StretchCluster; sc != nil && sc.FailureDomainLabel != "" {
		return sc.FailureDomainLabel
	}
	if len(spec.Mon.Zones) > 0 && spec.Mon.FailureDomainLabel != "" {
		return spec.Mon.FailureDomainLabel
	}
	return topology.LabelZone
}

// monZones returns the zones Rook spreads the mons over: the stretch
// cluster's, else spec.mon.zones, else none.
func monZones(spec *rook.ClusterSpec) []rook.MonZoneSpec {
	if spec.Mon.StretchCluster != nil {
		return spec.Mon.StretchCluster.Zones
	}
	return spec.Mon.Zones
}

// dataZones returns the non-arbiter zones of a stretch cluster (nil when
// the CephCluster is not stretched).
func dataZones(spec *rook.ClusterSpec) []string {
	if spec.Mon.StretchCluster == nil {
		return nil
	}
	var out []string
	for _, z := range spec.Mon.StretchCluster.Zones {
		if !z.Arbiter {
			out = append(out, z.Name)
		}
	}
	return out
}

// assignMonZones gives each of count mons a zone the way Rook's
// findAvailableZone does: in the order of the zones, the first zone without
// a mon, and with five mons in a stretch cluster a second mon in each
// non-arbiter zone. A mon for which no zone is left is not created (Rook
// fails the reconcile with "A zone is not available to assign a new mon").
// Without zones every mon gets "".
func assignMonZones(spec *rook.ClusterSpec, count int) ([]string, error) {
	zones := monZones(spec)
	if len(zones) == 0 {
		return make([]string, count), nil
	}
	stretch := spec.Mon.StretchCluster != nil
	perZone := map[string]int{}
	var out []string
	for range count {
		found := ""
		for _, z := range zones {
			n := perZone[z.Name]
			if n == 0 || stretch && count == stretchMonCount && n == 1 && !z.Arbiter {
				found = z.Name
				break
			}
		}
		if found == "" {
			return out, fmt.Errorf("no zone is left for mon %s of %d (zones %s): Rook stops here", letters(len(out)), count, zoneNames(zones))
		}
		perZone[found]++
		out = append(out, found)
	}
	return out, nil
}

func zoneNames(zones []rook.MonZoneSpec) string {
	names := make([]string, 0, len(zones))
	for _, z := range zones {
		names = append(names, z.Name)
	}
	return strings.Join(names, ", ")
}

// mergePlacement is Rook's Placement.Merge: with's node affinity, pod
// affinities and spread constraints replace p's, its tolerations are added.
func mergePlacement(p, with rook.Placement) rook.Placement {
	out := p
	if with.NodeAffinity != nil {
		out.NodeAffinity = with.NodeAffinity
	}
	if with.PodAffinity != nil {
		out.PodAffinity = with.PodAffinity
	}
	if with.PodAntiAffinity != nil {
		out.PodAntiAffinity = with.PodAntiAffinity
	}
	if with.Tolerations != nil {
		out.Tolerations = append(slices.Clone(out.Tolerations), with.Tolerations...)
	}
	if with.TopologySpreadConstraints != nil {
		out.TopologySpreadConstraints = with.TopologySpreadConstraints
	}
	return out
}

// applyPlacement is Rook's Placement.ApplyToPodSpec: p's node affinity is
// merged into the pod's (the first required terms are ANDed), its pod
// affinities and spread constraints replace the pod's, its tolerations are
// added.
func applyPlacement(p rook.Placement, spec *corev1.PodSpec) {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if p.NodeAffinity != nil {
		spec.Affinity.NodeAffinity = mergeNodeAffinity(p.NodeAffinity, spec.Affinity.NodeAffinity)
	}
	if p.PodAffinity != nil {
		spec.Affinity.PodAffinity = p.PodAffinity.DeepCopy()
	}
	if p.PodAntiAffinity != nil {
		spec.Affinity.PodAntiAffinity = p.PodAntiAffinity.DeepCopy()
	}
	if p.Tolerations != nil {
		spec.Tolerations = append(slices.Clone(p.Tolerations), spec.Tolerations...)
	}
	if p.TopologySpreadConstraints != nil {
		spec.TopologySpreadConstraints = slices.Clone(p.TopologySpreadConstraints)
	}
}

// mergeNodeAffinity is Rook's Placement.mergeNodeAffinity.
func mergeNodeAffinity(p, pod *corev1.NodeAffinity) *corev1.NodeAffinity {
	out := p.DeepCopy()
	if pod == nil {
		return out
	}
	out.PreferredDuringSchedulingIgnoredDuringExecution = append(slices.Clone(pod.PreferredDuringSchedulingIgnoredDuringExecution),
		p.PreferredDuringSchedulingIgnoredDuringExecution...)
	podReq, pReq := pod.RequiredDuringSchedulingIgnoredDuringExecution, p.RequiredDuringSchedulingIgnoredDuringExecution
	switch {
	case podReq == nil:
		return out
	case pReq == nil:
		out.RequiredDuringSchedulingIgnoredDuringExecution = podReq.DeepCopy()
		return out
	case len(podReq.NodeSelectorTerms) == 0:
		return out
	case len(pReq.NodeSelectorTerms) == 0:
		out.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = slices.Clone(podReq.NodeSelectorTerms)
		return out
	}
	out.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0] = corev1.NodeSelectorTerm{
		MatchExpressions: append(slices.Clone(podReq.NodeSelectorTerms[0].MatchExpressions), pReq.NodeSelectorTerms[0].MatchExpressions...),
		MatchFields:      append(slices.Clone(podReq.NodeSelectorTerms[0].MatchFields), pReq.NodeSelectorTerms[0].MatchFields...),
	}
	return out
}

// setAntiAffinity is Rook's k8sutil.SetNodeAntiAffinityForPod: keep pods
// with the labels apart over topologyKey, required or preferred.
func setAntiAffinity(spec *corev1.PodSpec, required bool, topologyKey string, labels map[string]string) {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	term := corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: topologyKey}
	anti := spec.Affinity.PodAntiAffinity
	if required {
		anti.RequiredDuringSchedulingIgnoredDuringExecution = append(anti.RequiredDuringSchedulingIgnoredDuringExecution, term)
		return
	}
	anti.PreferredDuringSchedulingIgnoredDuringExecution = append(anti.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: 50, PodAffinityTerm: term})
}

// planDaemons returns the daemons Rook runs for an applied CephCluster:
// spec.mon.count mons (default 3) named a, b, ... with the zones Rook
// assigns them, spec.mgr.count mgrs (default 2), and one OSD per device of
// each spec.storage.nodes entry whose node exists (numbered in node and
// device order), each with the pod Rook would run, without a node: the
// scheduler places it. The second result says what Rook would refuse
// (mons without a zone, OSD nodes that do not exist), for the log.
func planDaemons(c *rook.CephCluster, nodes map[string]*corev1.Node) ([]daemon, []string) {
	spec := &c.Spec
	var out []daemon
	var problems []string
	monCount := spec.Mon.Count
	if monCount == 0 {
		monCount = defaultMonCount
	}
	zones, err := assignMonZones(spec, monCount)
	if err != nil {
		problems = append(problems, err.Error())
	}
	for i, zone := range zones {
		d := daemon{kind: daemonMon, id: letters(i), zone: zone}
		d.pod = daemonPod(c, d)
		out = append(out, d)
	}
	mgrCount := spec.Mgr.Count
	if mgrCount == 0 {
		mgrCount = defaultMgrCount
	}
	for i := range mgrCount {
		d := daemon{kind: daemonMgr, id: letters(i)}
		d.pod = daemonPod(c, d)
		out = append(out, d)
	}
	if spec.Storage.UseAllNodes {
		problems = append(problems, "spec.storage.useAllNodes is not simulated: only spec.storage.nodes get OSDs")
	}
	osdID := 0
	for _, sn := range spec.Storage.Nodes {
		node, ok := nodes[sn.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("storage node %s is not a node of the cluster: no OSD there", sn.Name))
			continue
		}
		for range sn.Devices {
			d := daemon{kind: daemonOSD, id: strconv.Itoa(osdID), node: sn.Name, zone: node.Labels[topology.LabelZone]}
			d.pod = daemonPod(c, d)
			if region := node.Labels[topology.LabelRegion]; region != "" {
				d.pod.Labels["topology-location-region"] = region
			}
			out = append(out, d)
			osdID++
		}
	}
	return out, problems
}

// daemonLabels returns the labels Rook puts on the daemon's pod.
func daemonLabels(ns string, d daemon) map[string]string {
	labels := map[string]string{
		rook.LabelApp:      "rook-ceph-" + d.kind, // rook.AppMon, AppOSD, AppMgr
		"ceph_daemon_type": d.kind,
		"ceph_daemon_id":   d.id,
		labelRookCluster:   ns,
		LabelSimulated:     "true",
	}
	switch d.kind {
	case daemonMon:
		labels[rook.LabelMonID] = d.id
		labels["mon_cluster"] = ns
		if d.zone != "" {
			labels[rook.LabelMonZone] = d.zone
		}
	case daemonOSD:
		labels["osd"] = d.id
		labels[rook.LabelOSDID] = d.id
		if d.zone != "" {
			labels[rook.LabelOSDZone] = d.zone
		}
		labels[rook.LabelOSDHost] = strings.ReplaceAll(d.node, ".", "-")
	case daemonMgr:
		labels["mgr"] = d.id
		labels["instance"] = d.id
	}
	return labels
}

// daemonPod returns the pod Rook would run for d, as Rook builds its
// Deployment's pod template:
//
//   - mons: node affinity on the failure domain label for the mon's zone,
//     merged with the arbiter's placement (the arbiter zone's mon, when
//     spec.placement.arbiter is set) or spec.placement.all merged with
//     .mon; anti-affinity on kubernetes.io/hostname, required unless
//     spec.mon.allowMultiplePerNode;
//   - mgrs: spec.placement.all merged with .mgr; anti-affinity over the
//     failure domain label (kubernetes.io/hostname without zones),
//     required unless spec.mgr.allowMultiplePerNode;
//   - OSDs: a nodeSelector on kubernetes.io/hostname for its node, then
//     spec.placement.all and .osd applied.
//
// It never sets spec.nodeName: kube-scheduler places the pod. The pods
// also tolerate the unreachable and not-ready NoExecute taints, so that
// they stay on a lost region's nodes as Rook's daemons stay put (Rook's
// mon failover is not simulated).
func daemonPod(c *rook.CephCluster, d daemon) *corev1.Pod {
	spec := &c.Spec
	ns := c.Namespace
	image := spec.CephVersion.Image
	if image == "" {
		image = "quay.io/ceph/ceph"
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      d.podName(),
			Namespace: ns,
			Labels:    daemonLabels(ns, d),
			Annotations: map[string]string{
				LabelSimulated: "true",
				"kubernetes.io/description": "Simulated Ceph " + d.kind + " " + d.id +
					" (kubectl stretch sim --operators): no Ceph runs here",
			},
		},
		Spec: corev1.PodSpec{
			PriorityClassName:             spec.PriorityClassNames[d.kind],
			AutomountServiceAccountToken:  new(false),
			EnableServiceLinks:            new(false),
			TerminationGracePeriodSeconds: new(int64(0)),
			Containers:                    []corev1.Container{{Name: d.kind, Image: image}},
		},
	}
	ps := &pod.Spec
	all := spec.Placement[placementAll]
	switch d.kind {
	case daemonMon:
		if d.zone != "" {
			ps.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{
						Key: failureDomainLabel(spec), Operator: corev1.NodeSelectorOpIn, Values: []string{d.zone},
					}},
				}}},
			}}
		}
		p := mergePlacement(all, spec.Placement[placementMon])
		if arbiter, ok := spec.Placement[placementArbiter]; ok && isArbiterZone(spec, d.zone) && !emptyPlacement(arbiter) {
			p = arbiter
		}
		applyPlacement(p, ps)
		setAntiAffinity(ps, !spec.Mon.AllowMultiplePerNode, labelHostname, map[string]string{rook.LabelApp: rook.AppMon})
	case daemonMgr:
		applyPlacement(mergePlacement(all, spec.Placement[placementMgr]), ps)
		key := labelHostname
		if len(monZones(spec)) > 0 {
			key = failureDomainLabel(spec)
		}
		setAntiAffinity(ps, !spec.Mgr.AllowMultiplePerNode, key, map[string]string{rook.LabelApp: rook.AppMgr})
	case daemonOSD:
		applyPlacement(all, ps)
		applyPlacement(spec.Placement[placementOSD], ps)
		ps.NodeSelector = map[string]string{labelHostname: d.node}
	}
	for _, key := range []string{corev1.TaintNodeUnreachable, corev1.TaintNodeNotReady} {
		ps.Tolerations = append(ps.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	}
	pod.Annotations[annotationSpecHash] = specHash(ps)
	return pod
}

func isArbiterZone(spec *rook.ClusterSpec, zone string) bool {
	if spec.Mon.StretchCluster == nil || zone == "" {
		return false
	}
	return slices.ContainsFunc(spec.Mon.StretchCluster.Zones, func(z rook.MonZoneSpec) bool { return z.Arbiter && z.Name == zone })
}

func emptyPlacement(p rook.Placement) bool {
	return p.NodeAffinity == nil && p.PodAffinity == nil && p.PodAntiAffinity == nil &&
		len(p.Tolerations) == 0 && len(p.TopologySpreadConstraints) == 0
}

// specHash is the hash of a pod spec the simulated Rook built.
func specHash(spec *corev1.PodSpec) string {
	data, err := json.Marshal(spec)
	if err != nil {
		// A PodSpec always marshals; a constant keeps the pod as it is.
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// rookCluster is an applied CephCluster and the daemons Rook runs for it.
type rookCluster struct {
	obj     *unstructured.Unstructured
	spec    *rook.CephCluster
	daemons []daemon
}

// rookClusters reads every applied CephCluster (one per namespace, the
// first by name, as Rook allows) and plans its daemons. The problems are
// what Rook would refuse, by CephCluster.
func rookClusters(list *unstructured.UnstructuredList, nodes map[string]*corev1.Node) ([]rookCluster, []string, error) {
	var out []rookCluster
	var problems []string
	var errs []error
	seen := map[string]bool{}
	items := slices.Clone(list.Items)
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	for i := range items {
		obj := &items[i]
		key := obj.GetNamespace() + "/" + obj.GetName()
		if seen[obj.GetNamespace()] {
			problems = append(problems, fmt.Sprintf("CephCluster %s: a second CephCluster in namespace %s, which Rook does not run", key, obj.GetNamespace()))
			continue
		}
		seen[obj.GetNamespace()] = true
		c, err := decodeCephCluster(obj)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		daemons, why := planDaemons(c, nodes)
		for _, w := range why {
			problems = append(problems, "CephCluster "+key+": "+w)
		}
		out = append(out, rookCluster{obj: obj, spec: c, daemons: daemons})
	}
	return out, problems, errors.Join(errs...)
}

// reconcilePods makes the simulated daemon pods those of the applied
// CephClusters: it creates every missing pod, replaces a pod whose spec
// the CephCluster changed, and deletes the simulated daemon pods no
// CephCluster wants any more. It returns the simulated daemon pods by
// namespace/name.
func (o *Operators) reconcilePods(ctx context.Context, clusters []rookCluster) (map[string]*corev1.Pod, error) {
	list, err := o.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: LabelSimulated + "=true," + labelRookCluster})
	if err != nil {
		return nil, fmt.Errorf("list the simulated Ceph pods: %w", err)
	}
	pods := map[string]*corev1.Pod{}
	for i := range list.Items {
		p := &list.Items[i]
		pods[p.Namespace+"/"+p.Name] = p
	}
	want := map[string]*corev1.Pod{}
	for _, c := range clusters {
		for _, d := range c.daemons {
			want[d.pod.Namespace+"/"+d.pod.Name] = d.pod
		}
	}
	var errs []error
	zero := int64(0)
	for _, key := range slices.Sorted(maps.Keys(pods)) {
		p := pods[key]
		w, ok := want[key]
		if ok && p.Annotations[annotationSpecHash] == w.Annotations[annotationSpecHash] || ignored(p.Annotations) {
			continue
		}
		if p.DeletionTimestamp == nil {
			err := o.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete pod %s: %w", key, err))
				continue
			}
			why := "no CephCluster wants it"
			if ok {
				why = "its CephCluster changed"
			}
			o.logf("pod %s deleted: %s", key, why)
		}
		delete(pods, key)
	}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		if _, ok := pods[key]; ok {
			continue
		}
		w := want[key]
		pod, err := o.client.CoreV1().Pods(w.Namespace).Create(ctx, w, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			// The old pod is still going away; the next pass creates it.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("create pod %s: %w", key, err))
			continue
		}
		pods[key] = pod
		o.logf("pod %s created, for kube-scheduler to place", key)
	}
	return pods, errors.Join(errs...)
}
