package sim

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// Ceph health states and the health checks the simulation raises (Ceph
// health-check codes, as Rook copies them into status.ceph.details). The
// strings live in internal/upstream/rook, which verify reads too.
const (
	HealthOK   = rook.HealthOK
	HealthWarn = rook.HealthWarn
	HealthErr  = rook.HealthErr

	CheckMonDown              = rook.CheckMonDown
	CheckOSDDown              = rook.CheckOSDDown
	CheckOSDHostDown          = rook.CheckOSDHostDown
	CheckOSDZoneDown          = rook.CheckOSDZoneDown
	CheckDegradedStretchMode  = rook.CheckDegradedStretchMode
	degradedStretchModeReason = "We are missing stretch mode buckets, only requiring 1 of 2 buckets to peer"
)

// statusRefresh is how often an unchanged CephCluster status gets a new
// lastChecked (Rook's default health check interval).
const statusRefresh = 60 * time.Second

var (
	cephClusterResource   = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters"}
	cephBlockPoolResource = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephblockpools"}
)

// healthMessage is one entry of a CephCluster's status.ceph.details.
type healthMessage struct {
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// cephHealth is the health the simulated Ceph reports.
type cephHealth struct {
	health  string                   // HealthOK, HealthWarn or HealthErr
	details map[string]healthMessage // the raised health checks by code
}

// daemonState is where a daemon of a CephCluster runs, and whether it is
// up.
type daemonState struct {
	kind, id string
	// zone is the failure-domain label of the node the pod runs on; for a
	// pod that does not run, the zone Rook assigned it.
	zone string
	host string // the pod's node ("" when not scheduled)
	up   bool
}

// daemonStates reads the daemons of c from the pods that exist: a daemon
// is up when its pod exists, is not being deleted, has been scheduled and
// its node is Ready; its zone is then its node's failure-domain label.
func daemonStates(c rookCluster, pods map[string]*corev1.Pod, nodes map[string]*corev1.Node) []daemonState {
	label := failureDomainLabel(&c.spec.Spec)
	out := make([]daemonState, 0, len(c.daemons))
	for _, d := range c.daemons {
		st := daemonState{kind: d.kind, id: d.id, zone: d.zone}
		pod, ok := pods[d.pod.Namespace+"/"+d.pod.Name]
		if ok && pod.Spec.NodeName != "" {
			st.host = pod.Spec.NodeName
			if node, ok := nodes[pod.Spec.NodeName]; ok {
				if z := node.Labels[label]; z != "" {
					st.zone = z
				}
				st.up = pod.DeletionTimestamp == nil && nodeReady(node)
			}
		}
		if d.kind == daemonOSD && st.host == "" {
			st.host = d.node
		}
		out = append(out, st)
	}
	return out
}

// assessCeph computes Ceph's health from where the daemons run and which
// are up. dataZones are the stretch cluster's non-arbiter zones (none for
// a cluster that is not stretched).
func assessCeph(dataZones []string, daemons []daemonState) cephHealth {
	type count struct{ total, down int }
	var mons, quorum, monsDown []string
	osdsDown := 0
	hosts := map[string]*count{}
	zones := map[string]*count{}
	monsByZone := map[string]*count{}
	for _, d := range daemons {
		switch d.kind {
		case daemonMon:
			mons = append(mons, d.id)
			if monsByZone[d.zone] == nil {
				monsByZone[d.zone] = &count{}
			}
			monsByZone[d.zone].total++
			if d.up {
				quorum = append(quorum, d.id)
			} else {
				monsDown = append(monsDown, d.id)
				monsByZone[d.zone].down++
			}
		case daemonOSD:
			for key, set := range map[string]map[string]*count{d.host: hosts, d.zone: zones} {
				if set[key] == nil {
					set[key] = &count{}
				}
				set[key].total++
				if !d.up {
					set[key].down++
				}
			}
			if !d.up {
				osdsDown++
			}
		}
	}
	h := cephHealth{health: HealthOK, details: map[string]healthMessage{}}
	raise := func(code, severity, message string) {
		h.details[code] = healthMessage{Severity: severity, Message: message}
		if severity == HealthErr || h.health == HealthOK {
			h.health = severity
		}
	}
	hasQuorum := len(quorum) > len(mons)/2
	if len(monsDown) > 0 {
		if hasQuorum {
			raise(CheckMonDown, HealthWarn, fmt.Sprintf("%d/%d mons down, quorum %s", len(monsDown), len(mons), strings.Join(quorum, ",")))
		} else {
			raise(CheckMonDown, HealthErr, fmt.Sprintf("%d/%d mons down, no quorum (a real cluster would not answer at all)", len(monsDown), len(mons)))
		}
	}
	if osdsDown > 0 {
		raise(CheckOSDDown, HealthWarn, fmt.Sprintf("%d osds down", osdsDown))
	}
	downIn := func(set map[string]*count) (buckets, osds int) {
		for _, c := range set {
			if c.total > 0 && c.down == c.total {
				buckets++
				osds += c.down
			}
		}
		return buckets, osds
	}
	if n, osds := downIn(hosts); n > 0 {
		raise(CheckOSDHostDown, HealthWarn, fmt.Sprintf("%d %s (%d osds) down", n, plural(n, "host", "hosts"), osds))
	}
	if n, osds := downIn(zones); n > 0 {
		raise(CheckOSDZoneDown, HealthWarn, fmt.Sprintf("%d %s (%d osds) down", n, plural(n, "zone", "zones"), osds))
	}
	// Degraded stretch mode: the mons keep quorum, and one data zone has
	// lost all its mons and all its OSDs while the other still serves.
	if hasQuorum && len(dataZones) == 2 {
		lost := 0
		for _, r := range dataZones {
			mz, oz := monsByZone[r], zones[r]
			if mz != nil && oz != nil && mz.down == mz.total && oz.down == oz.total {
				lost++
			}
		}
		if lost == 1 {
			raise(CheckDegradedStretchMode, HealthWarn, degradedStretchModeReason)
		}
	}
	return h
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// clusterHealth is the health the simulated Ceph of c reports now.
func clusterHealth(c rookCluster, pods map[string]*corev1.Pod, nodes map[string]*corev1.Node) cephHealth {
	return assessCeph(dataZones(&c.spec.Spec), daemonStates(c, pods, nodes))
}

// reconcileCeph writes the status of every CephCluster from its daemons,
// and of every CephBlockPool.
func (o *Operators) reconcileCeph(ctx context.Context, clusters []rookCluster, pods map[string]*corev1.Pod, nodes map[string]*corev1.Node) error {
	var errs []error
	namespaces := map[string]bool{}
	for _, c := range clusters {
		namespaces[c.obj.GetNamespace()] = true
		if ignored(c.obj.GetAnnotations()) {
			continue
		}
		if err := o.markSimulated(ctx, cephClusterResource, c.obj); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, o.writeClusterStatus(ctx, c.obj, clusterHealth(c, pods, nodes)))
	}
	errs = append(errs, o.reconcilePools(ctx, namespaces))
	return errors.Join(errs...)
}

// list lists res in every namespace, or returns nil when its CRD is not
// installed (logged once).
func (o *Operators) list(ctx context.Context, res schema.GroupVersionResource) (*unstructured.UnstructuredList, error) {
	list, err := o.dyn.Resource(res).List(ctx, metav1.ListOptions{})
	o.mu.Lock()
	defer o.mu.Unlock()
	if apierrors.IsNotFound(err) {
		if !o.noCRD[res.Resource] {
			o.noCRD[res.Resource] = true
			o.logf("no %s CRD installed: nothing to write there", res.GroupResource())
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", res.GroupResource(), err)
	}
	delete(o.noCRD, res.Resource)
	return list, nil
}

// markSimulated adds the stretch.dev/simulated annotation to an object the
// simulated operators write the status of.
func (o *Operators) markSimulated(ctx context.Context, res schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	if obj.GetAnnotations()[LabelSimulated] == "true" {
		return nil
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{LabelSimulated: "true"}}})
	if err != nil {
		return err
	}
	patched, err := o.dyn.Resource(res).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.MergePatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return fmt.Errorf("annotate %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	*obj = *patched
	return nil
}

// writeClusterStatus writes what Rook would write into a CephCluster's
// status for health, when it differs from what is there or was last
// checked more than statusRefresh ago.
func (o *Operators) writeClusterStatus(ctx context.Context, obj *unstructured.Unstructured, health cephHealth) error {
	now := o.now().UTC()
	stamp := now.Format(time.RFC3339)
	old, _, _ := unstructured.NestedMap(obj.Object, "status")
	oldHealth, _, _ := unstructured.NestedString(old, "ceph", "health")
	oldDetails, _, _ := unstructured.NestedMap(old, "ceph", "details")
	oldPhase, _, _ := unstructured.NestedString(old, "phase")
	oldGen, _, _ := unstructured.NestedInt64(old, "observedGeneration")
	lastChecked, _, _ := unstructured.NestedString(old, "ceph", "lastChecked")
	details := map[string]any{}
	for code, msg := range health.details {
		details[code] = map[string]any{"severity": msg.Severity, "message": msg.Message}
	}
	checked, err := time.Parse(time.RFC3339, lastChecked)
	same := oldPhase == "Ready" && oldHealth == health.health && oldGen == obj.GetGeneration() &&
		(len(oldDetails) == 0 && len(details) == 0 || reflect.DeepEqual(oldDetails, details))
	if same && err == nil && now.Sub(checked) < statusRefresh {
		return nil
	}

	lastChanged, _, _ := unstructured.NestedString(old, "ceph", "lastChanged")
	previous, _, _ := unstructured.NestedString(old, "ceph", "previousHealth")
	if oldHealth != health.health {
		lastChanged, previous = stamp, oldHealth
	}
	if lastChanged == "" {
		lastChanged = stamp
	}
	transition := stamp
	if conds, _, _ := unstructured.NestedSlice(old, "conditions"); len(conds) > 0 {
		if c, ok := conds[0].(map[string]any); ok && c["type"] == "Ready" && c["status"] == "True" {
			if t, ok := c["lastTransitionTime"].(string); ok && t != "" {
				transition = t
			}
		}
	}
	image, _, _ := unstructured.NestedString(obj.Object, "spec", "cephVersion", "image")
	ceph := map[string]any{
		"health":      health.health,
		"lastChecked": stamp,
		"lastChanged": lastChanged,
		"fsid":        fsid(obj.GetNamespace() + "/" + obj.GetName()),
	}
	if previous != "" {
		ceph["previousHealth"] = previous
	}
	if len(details) > 0 {
		ceph["details"] = details
	}
	status := map[string]any{
		"phase":              "Ready",
		"state":              "Created",
		"message":            "Cluster created successfully",
		"observedGeneration": obj.GetGeneration(),
		"conditions": []any{map[string]any{
			"type":               "Ready",
			"status":             "True",
			"reason":             "ClusterCreated",
			"message":            "Cluster created successfully",
			"lastHeartbeatTime":  stamp,
			"lastTransitionTime": transition,
		}},
		"ceph":    ceph,
		"version": map[string]any{"image": image, "version": cephVersion(image)},
	}
	obj = obj.DeepCopy()
	if err := unstructured.SetNestedField(obj.Object, status, "status"); err != nil {
		return err
	}
	if _, err := o.dyn.Resource(cephClusterResource).Namespace(obj.GetNamespace()).UpdateStatus(ctx, obj,
		metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("write status of CephCluster %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	key := obj.GetNamespace() + "/" + obj.GetName()
	o.mu.Lock()
	before := o.health[key]
	o.health[key] = health.health + " " + strings.Join(slices.Sorted(maps.Keys(health.details)), ",")
	changed := before != o.health[key]
	o.mu.Unlock()
	if changed {
		codes := slices.Sorted(maps.Keys(health.details))
		msg := health.health
		if len(codes) > 0 {
			msg += " (" + strings.Join(codes, ", ") + ")"
		}
		o.logf("CephCluster %s: %s", key, msg)
	}
	return nil
}

// reconcilePools sets status.phase Ready on every CephBlockPool in a
// namespace with a CephCluster (clusters), with a pool ID (.mgr first, then
// by namespace and name).
func (o *Operators) reconcilePools(ctx context.Context, clusters map[string]bool) error {
	list, err := o.list(ctx, cephBlockPoolResource)
	if err != nil || list == nil {
		return err
	}
	// Rook creates a pool in Ceph only once the namespace's CephCluster
	// runs: until then the pool has no status.
	items := slices.DeleteFunc(slices.Clone(list.Items), func(u unstructured.Unstructured) bool {
		return !clusters[u.GetNamespace()]
	})
	poolName := func(u *unstructured.Unstructured) string {
		if name, _, _ := unstructured.NestedString(u.Object, "spec", "name"); name != "" {
			return name
		}
		return u.GetName()
	}
	slices.SortStableFunc(items, func(a, b unstructured.Unstructured) int {
		am, bm := poolName(&a) == rules.MgrPoolName, poolName(&b) == rules.MgrPoolName
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	var errs []error
	for i := range items {
		obj := &items[i]
		if ignored(obj.GetAnnotations()) {
			continue
		}
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		gen, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
		id, _, _ := unstructured.NestedInt64(obj.Object, "status", "poolID")
		info, _, _ := unstructured.NestedStringMap(obj.Object, "status", "info")
		wantInfo := poolInfo(obj)
		if phase == "Ready" && gen == obj.GetGeneration() && id == int64(i+1) && maps.Equal(info, wantInfo) {
			continue
		}
		if err := o.markSimulated(ctx, cephBlockPoolResource, obj); err != nil {
			errs = append(errs, err)
			continue
		}
		infoAny := map[string]any{}
		for k, v := range wantInfo {
			infoAny[k] = v
		}
		status := map[string]any{"phase": "Ready", "observedGeneration": obj.GetGeneration(), "poolID": int64(i + 1), "info": infoAny}
		if err := unstructured.SetNestedField(obj.Object, status, "status"); err != nil {
			return err
		}
		if _, err := o.dyn.Resource(cephBlockPoolResource).Namespace(obj.GetNamespace()).UpdateStatus(ctx, obj,
			metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
			errs = append(errs, fmt.Errorf("write status of CephBlockPool %s/%s: %w", obj.GetNamespace(), obj.GetName(), err))
			continue
		}
		o.logf("CephBlockPool %s/%s (%s): Ready", obj.GetNamespace(), obj.GetName(), poolName(obj))
	}
	return errors.Join(errs...)
}

// poolInfo is what Rook reports in a pool's status.info (kubectl's TYPE and
// FAILUREDOMAIN columns).
func poolInfo(obj *unstructured.Unstructured) map[string]string {
	kind := "Replicated"
	if _, ok, _ := unstructured.NestedMap(obj.Object, "spec", "erasureCoded"); ok {
		kind = "Erasure Coded"
	}
	info := map[string]string{"type": kind}
	if fd, _, _ := unstructured.NestedString(obj.Object, "spec", "failureDomain"); fd != "" {
		info["failureDomain"] = fd
	}
	return info
}

// fsid makes up a stable, UUID-shaped Ceph cluster ID from key.
func fsid(key string) string {
	s := sha256.Sum256([]byte("kubectl-stretch simulated fsid " + key))
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// cephVersion derives Rook's status.version.version ("19.2.3-0") from a
// Ceph image such as quay.io/ceph/ceph:v19.2.3.
func cephVersion(image string) string {
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	tag := strings.TrimPrefix(image[i+1:], "v")
	if tag == "" {
		return ""
	}
	return tag + "-0"
}

// cephCaughtUp compares the health of every CephCluster (not ignored) with
// the health the simulated operators compute from the nodes and pods now. It
// returns the health when all agree ("" when there is no CephCluster), and
// an error naming the first that does not.
func cephCaughtUp(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface) (string, error) {
	list, err := dyn.Resource(cephClusterResource).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	nodeMap := map[string]*corev1.Node{}
	for i := range nodes.Items {
		nodeMap[nodes.Items[i].Name] = &nodes.Items[i]
	}
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: LabelSimulated + "=true," + labelRookCluster})
	if err != nil {
		return "", err
	}
	podMap := map[string]*corev1.Pod{}
	for i := range pods.Items {
		podMap[pods.Items[i].Namespace+"/"+pods.Items[i].Name] = &pods.Items[i]
	}
	clusters, _, err := rookClusters(list, nodeMap)
	if err != nil {
		return "", err
	}
	health := ""
	for _, c := range clusters {
		obj := c.obj
		if ignored(obj.GetAnnotations()) {
			continue
		}
		want := clusterHealth(c, podMap, nodeMap)
		got, _, _ := unstructured.NestedString(obj.Object, "status", "ceph", "health")
		details, _, _ := unstructured.NestedMap(obj.Object, "status", "ceph", "details")
		if got != want.health || !slices.Equal(slices.Sorted(maps.Keys(details)), slices.Sorted(maps.Keys(want.details))) {
			return "", fmt.Errorf("CephCluster %s/%s reports %s, the simulated operators have not written %s yet",
				obj.GetNamespace(), obj.GetName(), got, want.health)
		}
		health = got
	}
	return health, nil
}
