package sim

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/api/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/api/rook"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// AnnotationIgnore, set to "true" on a Node, Pod, CephCluster,
// CephBlockPool or HelmRelease, makes the simulated operators leave that
// object alone (an ignored drivers release registers no driver), so
// that a test can break it on purpose (remove a WireGuard key, write its
// own Ceph health) without the next reconcile repairing it.
const AnnotationIgnore = "stretch.dev/simulated-ignore"

// DefaultOperatorsInterval is how often Operators.Run reconciles.
const DefaultOperatorsInterval = time.Second

// reconcileTimeout bounds one reconcile of Operators.Run, so that a hung
// request does not stop the loop.
const reconcileTimeout = 30 * time.Second

// Calico's node annotations in Kubernetes datastore mode (calico
// libcalico-go/lib/backend/k8s/resources/node.go).
const (
	annotationWireguardKey  = calico.AnnotationWireguardPublicKey
	annotationWireguardAddr = calico.AnnotationIPv4WireguardInterfaceAddr
	annotationIPv4Address   = calico.AnnotationIPv4Address
	// nodeIPPrefix is the prefix length written with the node address
	// (Calico writes the interface's; the topology does not say).
	nodeIPPrefix = 24
	// calicoBlockBits is Calico's default IPAM block size (/26): each node
	// gets one block of the pod subnet, and its tunnel address is the
	// block's first host.
	calicoBlockBits = 26
)

// Operators plays, clearly labelled as simulated, the parts of Calico and
// Rook that `kubectl stretch verify` reads, on a cluster of topology nodes
// whose kubelets are kwok:
//
//   - Calico: the WireGuard public key, tunnel address and node address
//     annotations on every node of the topology (deterministic: the key is
//     the SHA-256 of the node name);
//   - Rook: five mon pods placed 2/2/1 (two per data region, one in the
//     arbiter) with Rook's labels (app=rook-ceph-mon, mon, zone), one OSD pod
//     per device of every storage node (app=rook-ceph-osd,
//     topology-location-zone, topology-location-host) and two mgr pods, one
//     per data region, in the storage namespace (created if missing). The
//     pods are pinned to their nodes with spec.nodeName and tolerate every
//     taint, as Rook's mons stay put; kwok runs them;
//   - Ceph CSI: a CSIDriver for each driver that an applied HelmRelease of
//     the ceph-csi-drivers chart enables, as the chart and Ceph CSI's
//     operator would; then, once the RBD driver is registered, a
//     PersistentVolume for every pending claim on a StorageClass of the
//     topology's RBD provisioner, so that StatefulSets start;
//   - Ceph: the status of every CephCluster, following the mons and OSDs (a
//     daemon is up when its pod exists and its node is Ready): HEALTH_OK
//     when all are up; HEALTH_WARN with MON_DOWN, OSD_DOWN, OSD_HOST_DOWN,
//     OSD_ZONE_DOWN and, when a whole data region is down while the mons
//     keep quorum, DEGRADED_STRETCH_MODE, as Ceph's degraded stretch mode;
//     HEALTH_ERR when the mons lose quorum. Every CephBlockPool gets
//     status.phase Ready.
//
// Everything it creates carries the label stretch.dev/simulated=true, and
// the objects it only changes (nodes, CephClusters, CephBlockPools) carry
// the annotation. Objects annotated AnnotationIgnore=true are left alone.
type Operators struct {
	client kubernetes.Interface
	dyn    dynamic.Interface
	model  *topology.Model
	log    io.Writer
	now    func() time.Time

	mu      sync.Mutex
	lastErr string // the last reconcile error logged, to log each once
	health  map[string]string
	noCRD   map[string]bool
}

// NewOperators returns simulated operators for the cluster at cfg, which
// simulates model. Progress and errors go to log (nil discards them).
func NewOperators(cfg *rest.Config, model *topology.Model, log io.Writer) (*Operators, error) {
	if model == nil {
		return nil, errors.New("simulated operators: a topology model is required")
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("simulated operators: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("simulated operators: %w", err)
	}
	if log == nil {
		log = io.Discard
	}
	return &Operators{client: client, dyn: dyn, model: model, log: log, now: time.Now,
		health: map[string]string{}, noCRD: map[string]bool{}}, nil
}

// Run reconciles every interval (DefaultOperatorsInterval when zero)
// until ctx ends, and then returns nil. Errors are logged, once each, and
// retried: a reconcile that fails because the API server is busy or a
// namespace is still being set up succeeds a moment later.
func (o *Operators) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultOperatorsInterval
	}
	o.logf("started: these are NOT Rook or Calico; they write what those would write, labelled %s=true", LabelSimulated)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		pass, cancel := context.WithTimeout(ctx, reconcileTimeout)
		err := o.Reconcile(pass)
		cancel()
		if ctx.Err() != nil {
			o.logf("stopped")
			return nil
		}
		o.mu.Lock()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != o.lastErr {
			if msg != "" {
				o.logf("error (retrying every %s): %s", interval, msg)
			} else {
				o.logf("recovered")
			}
			o.lastErr = msg
		}
		o.mu.Unlock()
		select {
		case <-ctx.Done():
			o.logf("stopped")
			return nil
		case <-ticker.C:
		}
	}
}

// Reconcile makes one pass: the Calico annotations, the Ceph daemon pods,
// and the status of CephClusters and CephBlockPools. It returns every error
// of the pass.
func (o *Operators) Reconcile(ctx context.Context) error {
	nodes, err := o.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	byName := map[string]*corev1.Node{}
	for i := range nodes.Items {
		byName[nodes.Items[i].Name] = &nodes.Items[i]
	}
	var errs []error
	errs = append(errs, o.reconcileCalico(ctx, byName))
	err = o.reconcileCSIDrivers(ctx)
	errs = append(errs, err)
	if err == nil {
		errs = append(errs, o.reconcileCSI(ctx))
	}
	pods, err := o.reconcilePods(ctx)
	errs = append(errs, err)
	if err == nil {
		errs = append(errs, o.reconcileCeph(ctx, byName, pods))
	}
	return errors.Join(errs...)
}

func (o *Operators) logf(format string, args ...any) {
	// Progress lines are best effort; a broken writer must not stop the loop.
	_, _ = fmt.Fprintf(o.log, "%s simulated operators: "+format+"\n",
		append([]any{o.now().UTC().Format(time.RFC3339)}, args...)...)
}

// ignored reports whether the object asks the simulated operators to leave
// it alone.
func ignored(annotations map[string]string) bool {
	return annotations[AnnotationIgnore] == "true"
}

// WireGuardPublicKey returns the simulated WireGuard public key of a node:
// the base64 of the SHA-256 of its name (44 characters, like a real key,
// and the same on every run).
func WireGuardPublicKey(node string) string {
	sum := sha256.Sum256([]byte("kubectl-stretch simulated wireguard key " + node))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// calicoAnnotations returns the annotations Calico would write on each
// node of the model, by node name.
func calicoAnnotations(m *topology.Model) map[string]map[string]string {
	pool, err := netip.ParsePrefix(m.Kubernetes.PodSubnet)
	if err != nil || !pool.Addr().Is4() || pool.Bits() > calicoBlockBits {
		pool = netip.MustParsePrefix(fallbackPodSubnet)
	}
	pool = pool.Masked()
	blocks := uint32(1) << (calicoBlockBits - pool.Bits())
	base := pool.Addr().As4()
	first := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	out := map[string]map[string]string{}
	for i, n := range m.Nodes {
		addr := first + (uint32(i)%blocks)<<(32-calicoBlockBits) + 1
		tunnel := netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)})
		out[n.Name] = map[string]string{
			annotationWireguardKey:  WireGuardPublicKey(n.Name),
			annotationWireguardAddr: tunnel.String(),
			annotationIPv4Address:   n.IP + "/" + strconv.Itoa(nodeIPPrefix),
			LabelSimulated:          "true",
		}
	}
	return out
}

// reconcileCalico writes the Calico annotations on every topology node that
// lacks them or has other values.
func (o *Operators) reconcileCalico(ctx context.Context, nodes map[string]*corev1.Node) error {
	want := calicoAnnotations(o.model)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(want)) {
		node, ok := nodes[name]
		if !ok || ignored(node.Annotations) {
			continue
		}
		patch := map[string]string{}
		for k, v := range want[name] {
			if node.Annotations[k] != v {
				patch[k] = v
			}
		}
		if len(patch) == 0 {
			continue
		}
		if err := o.annotate(ctx, name, patch); err != nil {
			errs = append(errs, err)
			continue
		}
		o.logf("node %s: Calico WireGuard annotations written", name)
	}
	return errors.Join(errs...)
}

func (o *Operators) annotate(ctx context.Context, node string, annotations map[string]string) error {
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return err
	}
	_, err = o.client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, data, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return fmt.Errorf("annotate node %s: %w", node, err)
	}
	return nil
}

// Ceph daemon kinds.
const (
	daemonMon = "mon"
	daemonOSD = "osd"
	daemonMgr = "mgr"
)

// daemon is a Ceph daemon the simulated Rook runs: one pod.
type daemon struct {
	kind   string // daemonMon, daemonOSD or daemonMgr
	id     string // a, b, ... for mons and mgrs; 0, 1, ... for OSDs
	node   string
	region string
}

// podName is the daemon's pod name (Rook's Deployment name, without the
// ReplicaSet suffixes).
func (d daemon) podName() string { return "rook-ceph-" + d.kind + "-" + d.id }

// Rook's placement of the daemons (Rook: mon.go findAvailableZone, osd
// labels.go), made deterministic.
const (
	monsPerDataRegion = rules.MonsPerDataRegion
	monsInArbiter     = rules.MonsInArbiter
)

// planDaemons places Rook's daemons on the model's nodes: two mons in each
// data region and one in the arbiter (five, named a to e in region order),
// one OSD per device of each storage node of the data regions (numbered in
// node and device order), and one mgr per data region (a and b). Within a
// region, storage nodes come first, then the others, each in topology order.
func planDaemons(m *topology.Model) []daemon {
	candidates := map[string][]topology.NodeModel{}
	for _, n := range m.Nodes {
		candidates[n.Region] = append(candidates[n.Region], n)
	}
	for r := range candidates {
		slices.SortStableFunc(candidates[r], func(a, b topology.NodeModel) int {
			return cmp.Compare(boolRank(!a.Storage), boolRank(!b.Storage))
		})
	}
	var out []daemon
	monID := 0
	for _, r := range m.Regions {
		count := monsPerDataRegion
		if r.Arbiter {
			count = monsInArbiter
		}
		for i := 0; i < count && i < len(candidates[r.Name]); i++ {
			out = append(out, daemon{kind: daemonMon, id: letters(monID), node: candidates[r.Name][i].Name, region: r.Name})
			monID++
		}
	}
	byName := map[string]topology.NodeModel{}
	for _, n := range m.Nodes {
		byName[n.Name] = n
	}
	osdID := 0
	for _, name := range m.Storage.StorageNodes {
		n := byName[name]
		for range n.Devices {
			out = append(out, daemon{kind: daemonOSD, id: strconv.Itoa(osdID), node: n.Name, region: n.Region})
			osdID++
		}
	}
	for i, r := range m.Data {
		if len(candidates[r]) > 0 {
			out = append(out, daemon{kind: daemonMgr, id: letters(i), node: candidates[r][0].Name, region: r})
		}
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// letters names the i-th mon or mgr as Rook does: a, b, ..., z, aa, ab, ...
func letters(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
		if i < 0 {
			return s
		}
	}
}

// daemonLabels returns the labels Rook puts on the daemon's pod.
func daemonLabels(m *topology.Model, d daemon) map[string]string {
	ns := m.Storage.Namespace
	labels := map[string]string{
		rook.LabelApp:      "rook-ceph-" + d.kind, // rook.AppMon, AppOSD, AppMgr
		"ceph_daemon_type": d.kind,
		"ceph_daemon_id":   d.id,
		"rook_cluster":     ns,
		LabelSimulated:     "true",
	}
	switch d.kind {
	case daemonMon:
		labels[rook.LabelMonID] = d.id
		labels["mon_cluster"] = ns
		labels[rook.LabelMonZone] = d.region
	case daemonOSD:
		labels["osd"] = d.id
		labels[rook.LabelOSDID] = d.id
		labels[rook.LabelOSDZone] = d.region
		labels[rook.LabelOSDHost] = strings.ReplaceAll(d.node, ".", "-")
		if m.Name != "" {
			labels["topology-location-region"] = m.Name
		}
	case daemonMgr:
		labels["mgr"] = d.id
		labels["instance"] = d.id
	}
	return labels
}

// daemonPod returns the pod of d.
func daemonPod(m *topology.Model, d daemon) *corev1.Pod {
	priority := "system-node-critical"
	if d.kind == daemonMgr {
		priority = "system-cluster-critical"
	}
	image := m.Storage.CephImage
	if image == "" {
		image = "quay.io/ceph/ceph"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      d.podName(),
			Namespace: m.Storage.Namespace,
			Labels:    daemonLabels(m, d),
			Annotations: map[string]string{
				LabelSimulated: "true",
				"kubernetes.io/description": "Simulated Ceph " + d.kind + " " + d.id +
					" (kubectl stretch sim --operators): no Ceph runs here",
			},
		},
		Spec: corev1.PodSpec{
			NodeName:                      d.node,
			PriorityClassName:             priority,
			AutomountServiceAccountToken:  new(false),
			EnableServiceLinks:            new(false),
			TerminationGracePeriodSeconds: new(int64(0)),
			Containers:                    []corev1.Container{{Name: d.kind, Image: image}},
			// Rook's daemons run where Rook placed them: a mon is not
			// evicted from an unreachable node, it is failed over by Rook
			// after minutes (not simulated).
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		},
	}
}

// reconcilePods creates the namespace when missing and every planned
// daemon pod that does not exist, and returns the simulated pods of the
// namespace by name.
func (o *Operators) reconcilePods(ctx context.Context) (map[string]*corev1.Pod, error) {
	ns := o.model.Storage.Namespace
	if _, err := o.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:        ns,
			Labels:      map[string]string{LabelSimulated: "true"},
			Annotations: map[string]string{LabelSimulated: "true"},
		}}
		if _, err := o.client.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create namespace %s: %w", ns, err)
		}
		o.logf("namespace %s created", ns)
	} else if err != nil {
		return nil, fmt.Errorf("get namespace %s: %w", ns, err)
	}
	list, err := o.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelSimulated + "=true"})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	pods := map[string]*corev1.Pod{}
	for i := range list.Items {
		pods[list.Items[i].Name] = &list.Items[i]
	}
	var errs []error
	for _, d := range planDaemons(o.model) {
		if _, ok := pods[d.podName()]; ok {
			continue
		}
		pod, err := o.client.CoreV1().Pods(ns).Create(ctx, daemonPod(o.model, d), metav1.CreateOptions{FieldManager: FieldManager})
		if err != nil {
			errs = append(errs, fmt.Errorf("create pod %s/%s: %w", ns, d.podName(), err))
			continue
		}
		pods[pod.Name] = pod
		o.logf("pod %s/%s created on %s (region %s)", ns, pod.Name, d.node, d.region)
	}
	return pods, errors.Join(errs...)
}
