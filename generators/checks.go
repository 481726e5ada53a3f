package generators

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	storagev1 "k8s.io/api/storage/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// bundleCheck is one rule a rendered bundle must meet whatever the
// blueprints and mixins say. The rules are the topology's: the bundle may
// shape them, never break them.
type bundleCheck struct {
	id  string
	doc string
	// rules are the rule book's rules the check applies, worded by
	// ruleMessage; fn is the check's own part (nil for none).
	rules []rules.Rule
	fn    func(m *topology.Model, objs []object) []string
}

// problem is one failure of a bundle check: the check, the rule of the
// rule book it breaks ("" for the check's own part) and the message.
type problem struct {
	check, rule, msg string
}

// runBundleChecks runs every bundle check over the rendered objects.
func runBundleChecks(m *topology.Model, objs []object) []problem {
	var out []problem
	o, paths := ruleObjects(m, objs)
	for _, c := range bundleChecks {
		for _, v := range rules.Check(m, o, c.rules...) {
			out = append(out, problem{c.id, v.Rule, ruleMessage(m, v, paths)})
		}
		if c.fn != nil {
			for _, msg := range c.fn(m, objs) {
				out = append(out, problem{c.id, "", msg})
			}
		}
	}
	return out
}

// bundleChecks runs in this order; all failures are reported together.
var bundleChecks = []bundleCheck{
	{"kubespray-inventory", "the inventory holds every node of the topology, with its groups, labels and taints", nil, checkInventory},
	{"kubespray-vars", "kube_version, WireGuard, MTU and etcd timing agree with the topology", nil, checkKubesprayVars},
	{"calico-wireguard", "FelixConfiguration default enables WireGuard with an MTU that fits the underlay", []rules.Rule{rules.WireGuard}, checkFelixMTU},
	{"rook-stretch", fmt.Sprintf("the CephCluster is in stretch mode over the topology's regions, with %d mons and %d arbiter", rules.MonCount, rules.Arbiters), []rules.Rule{rules.Mons, rules.Arbiter, rules.Zones, rules.FailureDomain}, checkCephCluster},
	{"rook-osd-placement", "OSDs run only on storage nodes of the data regions", []rules.Rule{rules.OSDRegions}, nil},
	{"rook-pools", fmt.Sprintf("every pool is replicated with size %d, and the builtin %s pool exists", rules.Size, rules.MgrPoolName), []rules.Rule{rules.PoolSize, rules.NoErasureCoding, rules.MgrPool}, checkPools},
	{"rook-csi-drivers", "the Ceph CSI drivers release (Rook v1.20 and newer) is pinned, installed after the operator in its namespace, and runs exactly the drivers the StorageClasses name", nil, checkCSIDrivers},
	{"rook-storageclasses", "every StorageClass uses the RBD provisioner and an existing pool; at most one is the default", nil, checkStorageClasses},
	{"flux-never-prune", "the Rook namespace, the CephCluster, every CephBlockPool and FelixConfiguration default are never pruned by Flux", nil, checkNeverPruned},
	{"flux-storage-health", "the storage stage waits until the CephCluster and its pools report ready", nil, checkStorageHealth},
	{"flux-stages", "every Flux Kustomization points at a bundle folder and depends only on stages that exist", nil, checkFluxStages},
}

func typedOf[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if t, ok := o.Typed.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func pathOf(objs []object, typed any) string {
	for _, o := range objs {
		if o.Typed == typed {
			return o.Path
		}
	}
	return "?"
}

func checkInventory(m *topology.Model, objs []object) []string {
	invs := typedOf[*kubespray.Inventory](objs)
	if len(invs) != 1 {
		return []string{fmt.Sprintf("kubespray/hosts.yaml: want one inventory, found %d", len(invs))}
	}
	inv := invs[0]
	var errs []string
	member := func(group, host string) bool {
		g := inv.All.Children[group]
		if g == nil {
			return false
		}
		_, ok := g.Hosts[host]
		return ok
	}
	for _, g := range []string{kubespray.GroupControlPlane, kubespray.GroupNode, kubespray.GroupEtcd} {
		if inv.All.Children[g] == nil {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: group %s is missing", g))
		}
	}
	for _, n := range m.Nodes {
		h, ok := inv.All.Hosts[n.Name]
		if !ok || h == nil {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s is missing", n.Name))
			continue
		}
		if h.IP != n.IP {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s has ip %q, the topology says %s", n.Name, h.IP, n.IP))
		}
		for k, v := range n.Labels {
			if h.NodeLabels[k] != v {
				errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s needs node label %s=%s", n.Name, k, v))
			}
		}
		for _, t := range n.Taints {
			if !slices.Contains(h.NodeTaints, t.String()) {
				errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s needs node taint %s", n.Name, t))
			}
		}
		if member(kubespray.GroupEtcd, n.Name) != n.Etcd {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s: etcd membership differs from the topology", n.Name))
		}
		if member(kubespray.GroupControlPlane, n.Name) != n.ControlPlane {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s: control-plane membership differs from the topology", n.Name))
		}
	}
	for _, name := range sortedKeys(inv.All.Hosts) {
		if !slices.ContainsFunc(m.Nodes, func(n topology.NodeModel) bool { return n.Name == name }) {
			errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: host %s is not in the topology", name))
		}
	}
	if g := inv.All.Children[kubespray.GroupEtcd]; g != nil && len(g.Hosts)%2 == 0 {
		errs = append(errs, fmt.Sprintf("kubespray/hosts.yaml: etcd has %d members; Kubespray requires an odd number", len(g.Hosts)))
	}
	slices.Sort(errs)
	return errs
}

func checkKubesprayVars(m *topology.Model, objs []object) []string {
	var errs []string
	for _, v := range typedOf[*kubespray.ClusterVars](objs) {
		if strings.HasPrefix(v.KubeVersion, "v") {
			errs = append(errs, fmt.Sprintf("kube_version %q: Kubespray >= 2.28 writes versions without a leading v", v.KubeVersion))
		}
		if v.KubeVersion != m.Kubernetes.Version {
			errs = append(errs, fmt.Sprintf("kube_version %q differs from the topology's %s", v.KubeVersion, m.Kubernetes.Version))
		}
		if want := kubespray.ProxyModeFor(m.Kubernetes.Version); v.KubeProxyMode != want {
			errs = append(errs, fmt.Sprintf("kube_proxy_mode %q: Kubernetes %s wants %s (ipvs is deprecated since 1.35; nftables is GA since 1.33)", v.KubeProxyMode, m.Kubernetes.Version, want))
		}
		if !slices.Contains(v.SupplementaryAddressesInSSLKeys, m.Kubernetes.APIEndpoint) {
			errs = append(errs, fmt.Sprintf("supplementary_addresses_in_ssl_keys must hold the API endpoint %s", m.Kubernetes.APIEndpoint))
		}
	}
	for _, v := range typedOf[*kubespray.CalicoVars](objs) {
		if v.CalicoWireguardEnabled != m.Network.WireGuard {
			errs = append(errs, fmt.Sprintf("calico_wireguard_enabled is %t; the topology's encryption is %s", v.CalicoWireguardEnabled, m.Network.Encryption))
		}
		for name, mtu := range map[string]*int{"calico_mtu": v.CalicoMTU, "calico_veth_mtu": v.CalicoVethMTU} {
			if mtu != nil && *mtu > m.Network.MTU {
				errs = append(errs, fmt.Sprintf("%s %d is larger than %d (underlay %d minus the tunnel overhead)", name, *mtu, m.Network.MTU, m.Network.UnderlayMTU))
			}
		}
	}
	for _, v := range typedOf[*kubespray.EtcdVars](objs) {
		hb, err1 := strconv.Atoi(v.EtcdHeartbeatInterval)
		el, err2 := strconv.Atoi(v.EtcdElectionTimeout)
		if err1 != nil || err2 != nil {
			errs = append(errs, "etcd_heartbeat_interval and etcd_election_timeout must be whole milliseconds")
			continue
		}
		if el < 10*m.Network.RTTms || el < 5*hb {
			errs = append(errs, fmt.Sprintf("etcd_election_timeout %d ms is too short: etcd needs at least 10 x the %d ms RTT and 5 x the heartbeat", el, m.Network.RTTms))
		}
		if hb < m.Network.RTTms/2 {
			errs = append(errs, fmt.Sprintf("etcd_heartbeat_interval %d ms is below half the %d ms RTT", hb, m.Network.RTTms))
		}
	}
	slices.Sort(errs)
	return errs
}

// checkFelixMTU is calico-wireguard's own part: the tunnel MTU fits the
// underlay.
func checkFelixMTU(m *topology.Model, objs []object) []string {
	def := felixDefault(objs)
	if def == nil {
		return nil // the wireguard rule reports it
	}
	most := topology.TunnelMTU(m.Network.UnderlayMTU, true)
	if mtu := def.Spec.WireguardMTU; mtu != nil && *mtu > most {
		return []string{fmt.Sprintf("FelixConfiguration default: wireguardMTU %d does not fit the %d underlay (at most %d)", *mtu, m.Network.UnderlayMTU, most)}
	}
	return nil
}

// felixDefault returns FelixConfiguration default, or nil.
func felixDefault(objs []object) *calico.FelixConfiguration {
	var def *calico.FelixConfiguration
	for _, f := range typedOf[*calico.FelixConfiguration](objs) {
		if f.Name == "default" {
			def = f
		}
	}
	return def
}

func oneCephCluster(objs []object) (*rook.CephCluster, []string) {
	cs := typedOf[*rook.CephCluster](objs)
	if len(cs) != 1 {
		return nil, []string{fmt.Sprintf("storage/rook: want exactly one CephCluster, found %d", len(cs))}
	}
	return cs[0], nil
}

// checkCephCluster is rook-stretch's own part: one CephCluster, in the
// storage namespace.
func checkCephCluster(m *topology.Model, objs []object) []string {
	c, errs := oneCephCluster(objs)
	if c != nil && c.Namespace != m.Storage.Namespace {
		errs = append(errs, fmt.Sprintf("%s: CephCluster must be in namespace %s", pathOf(objs, c), m.Storage.Namespace))
	}
	return errs
}

// checkPools is rook-pools' own part: no device class, the storage
// namespace.
func checkPools(m *topology.Model, objs []object) []string {
	var errs []string
	for _, p := range typedOf[*rook.CephBlockPool](objs) {
		where := pathOf(objs, p)
		if p.Spec.DeviceClass != "" {
			errs = append(errs, fmt.Sprintf("%s: CephBlockPool %s sets deviceClass; a device-class rule makes every PG inactive after a region loss", where, p.Name))
		}
		if p.Namespace != m.Storage.Namespace {
			errs = append(errs, fmt.Sprintf("%s: CephBlockPool %s must be in namespace %s", where, p.Name, m.Storage.Namespace))
		}
	}
	return errs
}

func checkStorageClasses(m *topology.Model, objs []object) []string {
	pools := map[string]bool{}
	for _, p := range typedOf[*rook.CephBlockPool](objs) {
		pools[p.Name] = true
	}
	var errs []string
	var defaults []string
	for _, sc := range typedOf[*storagev1.StorageClass](objs) {
		where := pathOf(objs, sc)
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			defaults = append(defaults, sc.Name)
		}
		if sc.Provisioner != m.Storage.Provisioner {
			continue // not a Rook RBD class
		}
		if p := sc.Parameters["pool"]; !pools[p] {
			errs = append(errs, fmt.Sprintf("%s: StorageClass %s uses pool %q, which the bundle does not define", where, sc.Name, p))
		}
		if id := sc.Parameters["clusterID"]; id != m.Storage.Namespace {
			errs = append(errs, fmt.Sprintf("%s: StorageClass %s has clusterID %q; the CephCluster is in %s", where, sc.Name, id, m.Storage.Namespace))
		}
	}
	if len(defaults) > 1 {
		errs = append(errs, fmt.Sprintf("storage/rook: %d StorageClasses are marked default (%s); at most one may be", len(defaults), strings.Join(defaults, ", ")))
	}
	return errs
}

func checkFluxStages(m *topology.Model, objs []object) []string {
	names := map[string]bool{}
	ks := typedOf[*flux.Kustomization](objs)
	for _, k := range ks {
		names[k.Name] = true
	}
	var errs []string
	for _, k := range ks {
		where := pathOf(objs, k)
		// The bundle folder the stage applies, relative to the bundle.
		dir, _ := filepath.Rel(path.Clean(m.GitOps.Path), path.Clean(k.Spec.Path))
		if !hasObjectUnder(objs, dir) {
			errs = append(errs, fmt.Sprintf("%s: Kustomization %s applies %s, which holds nothing in the bundle", where, k.Name, k.Spec.Path))
		}
		for _, d := range k.Spec.DependsOn {
			if !names[d.Name] {
				errs = append(errs, fmt.Sprintf("%s: Kustomization %s depends on %s, which the bundle does not define", where, k.Name, d.Name))
			}
		}
	}
	return errs
}
