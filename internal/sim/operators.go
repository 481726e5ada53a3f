package sim

import (
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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
)

// AnnotationIgnore, set to "true" on a Node, Pod, CephCluster,
// CephBlockPool or HelmRelease, makes the simulated operators leave that
// object alone (an ignored drivers release registers no driver; an
// ignored CephCluster gets no status, but its daemons still run), so
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
	// FelixConfiguration names: the cluster's default, and a node's own.
	felixDefault    = "default"
	felixNodePrefix = "node."
)

var felixConfigurationResource = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "felixconfigurations"}

// Operators plays, clearly labelled as simulated, the parts of Calico and
// Rook that `kubectl stretch verify` reads, on a cluster of topology nodes
// whose kubelets are kwok:
//
//   - Calico: the node address annotation on every node of the topology,
//     and the WireGuard public key and tunnel address annotations on the
//     nodes where the applied FelixConfigurations (node.<name>, then
//     default) set wireguardEnabled: true; they are removed when it is
//     set false (deterministic: the key is the SHA-256 of the node name);
//   - Rook: for every applied CephCluster, the mon, mgr and OSD pods Rook
//     would run, built from its spec (mon and mgr counts, the stretch
//     zones Rook assigns the mons, spec.placement, one OSD per device of
//     spec.storage.nodes pinned with a nodeSelector on its hostname) with
//     Rook's labels, and placed by kube-scheduler, never by the
//     simulation; kwok runs them;
//   - Ceph CSI: a CSIDriver for each driver that an applied HelmRelease of
//     the ceph-csi-drivers chart enables, as the chart and Ceph CSI's
//     operator would; then, once the RBD driver is registered, a
//     PersistentVolume for every pending claim on a StorageClass of the
//     topology's RBD provisioner whose pool is a Ready CephBlockPool, so
//     that StatefulSets start;
//   - Ceph: the status of every CephCluster, following where its mons and
//     OSDs run (a daemon is up when its pod was scheduled, is not being
//     deleted and its node is Ready; a pod the scheduler cannot place is a
//     daemon down): HEALTH_OK
//     when all are up; HEALTH_WARN with MON_DOWN, OSD_DOWN, OSD_HOST_DOWN,
//     OSD_ZONE_DOWN and, when a whole data region is down while the mons
//     keep quorum, DEGRADED_STRETCH_MODE, as Ceph's degraded stretch mode;
//     HEALTH_ERR when the mons lose quorum. Every CephBlockPool in a
//     namespace with a CephCluster gets status.phase Ready.
//
// Everything it creates carries the label stretch.dev/simulated=true, and
// the objects it only changes (nodes, CephClusters, CephBlockPools) carry
// the annotation. Objects annotated AnnotationIgnore=true are left alone.
type Operators struct {
	// HelmInstallsCharts says that Flux's helm-controller runs in the
	// simulation and installs the HelmReleases' charts: the
	// ceph-csi-drivers chart then registers the CSIDrivers itself, and the
	// operators do not play it (Helm would refuse to take over objects it
	// did not create). Set it before Run or Reconcile.
	HelmInstallsCharts bool

	client kubernetes.Interface
	dyn    dynamic.Interface
	model  *topology.Model
	log    io.Writer
	now    func() time.Time

	mu       sync.Mutex
	lastErr  string // the last reconcile error logged, to log each once
	health   map[string]string
	noCRD    map[string]bool
	problems map[string]bool // what Rook would refuse, logged once each
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
		health: map[string]string{}, noCRD: map[string]bool{}, problems: map[string]bool{}}, nil
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

// Reconcile makes one pass: the Calico annotations, the Ceph daemon pods of
// the applied CephClusters, the status of CephClusters and CephBlockPools,
// and the Ceph CSI drivers and volumes. It returns every error of the pass.
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
	list, err := o.list(ctx, cephClusterResource)
	if list == nil {
		list = &unstructured.UnstructuredList{}
	}
	errs = append(errs, err)
	if err == nil {
		clusters, problems, err := rookClusters(list, byName)
		errs = append(errs, err)
		o.logProblems(problems)
		pods, err := o.reconcilePods(ctx, clusters)
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, o.reconcileCeph(ctx, clusters, pods, byName))
		}
	}
	if !o.HelmInstallsCharts {
		err = o.reconcileCSIDrivers(ctx)
		errs = append(errs, err)
	} else {
		err = nil
	}
	if err == nil {
		errs = append(errs, o.reconcileCSI(ctx))
	}
	return errors.Join(errs...)
}

// logProblems logs each of what Rook would refuse once, while it lasts.
func (o *Operators) logProblems(problems []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := map[string]bool{}
	for _, p := range problems {
		now[p] = true
		if !o.problems[p] {
			o.logf("%s", p)
		}
	}
	o.problems = now
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
// node of the model, by node name: the node address always, the WireGuard
// key and tunnel address only where wireguard says WireGuard is on.
func calicoAnnotations(m *topology.Model, wireguard func(node string) bool) map[string]map[string]string {
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
		out[n.Name] = map[string]string{
			annotationIPv4Address: n.IP + "/" + strconv.Itoa(nodeIPPrefix),
			LabelSimulated:        "true",
		}
		if !wireguard(n.Name) {
			continue
		}
		addr := first + (uint32(i)%blocks)<<(32-calicoBlockBits) + 1
		tunnel := netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)})
		out[n.Name][annotationWireguardKey] = WireGuardPublicKey(n.Name)
		out[n.Name][annotationWireguardAddr] = tunnel.String()
	}
	return out
}

// wireGuardOn reads the applied FelixConfigurations the way Felix does:
// node.<name> first, then default; WireGuard is on for a node when the
// first of them that sets spec.wireguardEnabled sets it true. Without a
// FelixConfiguration (or its CRD) WireGuard is off, as in Calico.
func (o *Operators) wireGuardOn(ctx context.Context) (func(node string) bool, error) {
	list, err := o.list(ctx, felixConfigurationResource)
	if err != nil {
		return nil, err
	}
	enabled := map[string]bool{} // FelixConfiguration name -> wireguardEnabled, when set
	if list != nil {
		for _, fc := range list.Items {
			if on, ok, _ := unstructured.NestedBool(fc.Object, "spec", "wireguardEnabled"); ok {
				enabled[fc.GetName()] = on
			}
		}
	}
	return func(node string) bool {
		if on, ok := enabled[felixNodePrefix+node]; ok {
			return on
		}
		return enabled[felixDefault]
	}, nil
}

// reconcileCalico writes the Calico annotations on every topology node that
// lacks them or has other values, and removes the WireGuard ones where the
// applied FelixConfiguration turns WireGuard off, as Felix does.
func (o *Operators) reconcileCalico(ctx context.Context, nodes map[string]*corev1.Node) error {
	on, err := o.wireGuardOn(ctx)
	if err != nil {
		return err
	}
	want := calicoAnnotations(o.model, on)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(want)) {
		node, ok := nodes[name]
		if !ok || ignored(node.Annotations) {
			continue
		}
		patch := map[string]any{}
		for k, v := range want[name] {
			if node.Annotations[k] != v {
				patch[k] = v
			}
		}
		for _, k := range []string{annotationWireguardKey, annotationWireguardAddr} {
			if _, keep := want[name][k]; !keep {
				if _, has := node.Annotations[k]; has {
					patch[k] = nil // a JSON merge patch removes it
				}
			}
		}
		if len(patch) == 0 {
			continue
		}
		if err := o.annotate(ctx, name, patch); err != nil {
			errs = append(errs, err)
			continue
		}
		if on(name) {
			o.logf("node %s: Calico WireGuard annotations written", name)
		} else {
			o.logf("node %s: Calico node address written, no WireGuard (off in the FelixConfiguration)", name)
		}
	}
	return errors.Join(errs...)
}

func (o *Operators) annotate(ctx context.Context, node string, annotations map[string]any) error {
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
