package check

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
)

// Calico's node annotations in Kubernetes datastore mode (calico
// libcalico-go/lib/backend/k8s/resources/node.go).
const (
	annotationWireguardKey  = calico.AnnotationWireguardPublicKey
	annotationWireguardAddr = calico.AnnotationIPv4WireguardInterfaceAddr
	annotationIPv4Address   = calico.AnnotationIPv4Address
	// felixDefault is the cluster-wide FelixConfiguration; node.<name>
	// ones override it on one node.
	felixDefault    = "default"
	felixNodePrefix = "node."
	// wireguardKeyBytes is the length of a WireGuard public key.
	wireguardKeyBytes = 32
)

// networkChecks are the checks of the network layer (Calico WireGuard).
func networkChecks() []Check {
	return []Check{
		{
			ID: "NET001", Layer: LayerNetwork, Severity: SeverityError,
			Title: "WireGuard is on in FelixConfiguration default",
			Doc: "Traffic between regions crosses networks the operator does not control. Calico encrypts " +
				"pod traffic between nodes with WireGuard when FelixConfiguration default sets " +
				"wireguardEnabled: true (the bundle's " + layout.DirNetwork + " layer; Kubespray's " +
				"calico_wireguard_enabled). Skipped when the topology sets encryption: none.",
			Needs:   []Kind{KindFelixConfigurations},
			Run:     checkWireGuardEnabled,
			Applies: wireGuard,
		},
		{
			ID: "NET002", Layer: LayerNetwork, Severity: SeverityError,
			Title: "The WireGuard MTU fits the underlay",
			Doc: "WireGuard adds 60 bytes to every IPv4 packet and sets the Don't Fragment bit, so the " +
				"tunnel MTU must be at most the underlay MTU minus 60. Left unset, Calico guesses it from " +
				"the local interface, which is wrong when the underlay itself is tunnelled between regions.",
			Needs:   []Kind{KindFelixConfigurations},
			Run:     checkWireGuardMTU,
			Applies: wireGuard,
		},
		{
			ID: "NET003", Layer: LayerNetwork, Severity: SeverityError,
			Title: "No per-node FelixConfiguration turns WireGuard off",
			Doc: "Felix reads FelixConfiguration node.<name> before default: one that sets " +
				"wireguardEnabled: false leaves that node's traffic unencrypted, silently.",
			Needs:   []Kind{KindFelixConfigurations},
			Run:     checkFelixNodeOverrides,
			Applies: wireGuard,
		},
		{
			ID: "NET004", Layer: LayerNetwork, Severity: SeverityError,
			Title: "Every node publishes a WireGuard public key",
			Doc: "Felix writes the node's WireGuard public key into the projectcalico.org/WireguardPublicKey " +
				"annotation once the tunnel device is up, and removes it when WireGuard is off or not " +
				"supported by the kernel. A node without a valid key (44 characters of base64, 32 bytes) " +
				"sends its traffic unencrypted.",
			Needs:   []Kind{KindNodes},
			Run:     checkWireGuardKeys,
			Applies: wireGuard,
		},
		{
			ID: "NET005", Layer: LayerNetwork, Severity: SeverityError,
			Title: "WireGuard public keys are unique",
			Doc: "Two nodes with the same key (a cloned disk image with Calico's state) cannot both be " +
				"peers: traffic to one of them goes to the other or nowhere.",
			Needs:   []Kind{KindNodes},
			Run:     checkWireGuardKeysUnique,
			Applies: wireGuard,
		},
		{
			ID: "NET006", Layer: LayerNetwork, Severity: SeverityError,
			Title: "Every node has a WireGuard tunnel address",
			Doc: "Felix records the address of the node's wireguard.cali device in " +
				"projectcalico.org/IPv4WireguardInterfaceAddr. Without it, pod traffic to the node breaks " +
				"(calico#8039).",
			Needs:   []Kind{KindNodes},
			Run:     checkWireGuardAddresses,
			Applies: wireGuard,
		},
		{
			ID: "NET007", Layer: LayerNetwork, Severity: SeverityError,
			Title: "Calico uses each node's topology address",
			Doc: "projectcalico.org/IPv4Address is the address Calico detected for the node, and the " +
				"endpoint its WireGuard peers connect to. It must be the node's ip in the topology, which " +
				"the firewall allowlists open; a wrong interface (a public or a container address) breaks " +
				"or bypasses the tunnel.",
			Needs: []Kind{KindNodes},
			Run:   checkCalicoAddresses,
		},
		{
			ID: "NET008", Layer: LayerNetwork, Severity: SeverityError,
			Title: "The calico-node DaemonSet does not override WireGuard",
			Doc: "Environment variables beat FelixConfiguration: FELIX_WIREGUARDENABLED=false on calico-node " +
				"turns WireGuard off everywhere, and a FELIX_WIREGUARDMTU above the underlay MTU minus 60 " +
				"drops large packets.",
			Needs:   []Kind{KindDaemonSets},
			Run:     checkCalicoNodeEnv,
			Applies: wireGuard,
		},
	}
}

// wireGuard is the Applies of the WireGuard checks: they are skipped when
// the topology does not encrypt.
func wireGuard(m *topology.Model) (bool, string) {
	return m.Network.WireGuard, "the topology sets encryption: " + string(m.Network.Encryption)
}

func felixNamed(s *Snapshot, name string) *calico.FelixConfiguration {
	for i := range s.FelixConfigurations {
		if s.FelixConfigurations[i].Name == name {
			return &s.FelixConfigurations[i]
		}
	}
	return nil
}

// felixFix says which bundle file and Flux stage set FelixConfiguration
// default.
var felixFix = stageFile(layout.StageNetwork, "felixconfiguration.yaml")

func checkWireGuardEnabled(s *Snapshot, m *topology.Model) []Result {
	if vs := rules.Check(m, &rules.Objects{Felix: felixNamed(s, felixDefault)}, rules.WireGuard); len(vs) > 0 {
		return []Result{ruleResult(m, vs[0])}
	}
	return []Result{pass("FelixConfiguration default sets wireguardEnabled: true")}
}

func checkWireGuardMTU(s *Snapshot, m *topology.Model) []Result {
	fc := felixNamed(s, felixDefault)
	if fc == nil {
		return []Result{skip("no FelixConfiguration default (see NET001)")}
	}
	obj := ref("FelixConfiguration", "", felixDefault)
	mtu := fc.Spec.WireguardMTU
	switch {
	case mtu == nil || *mtu == 0:
		return []Result{fail(obj, "FelixConfiguration default does not set wireguardMTU, so Calico guesses it from the local interface: set it to %d (underlay %d - 60); %s",
			m.Network.MTU, m.Network.UnderlayMTU, felixFix)}
	case *mtu > m.Network.MTU:
		return []Result{fail(obj, "FelixConfiguration default sets wireguardMTU %d, above %d (underlay %d - 60): large packets are dropped; set it to %d",
			*mtu, m.Network.MTU, m.Network.UnderlayMTU, m.Network.MTU)}
	}
	return []Result{pass("wireguardMTU %d fits the underlay MTU %d", *mtu, m.Network.UnderlayMTU)}
}

func checkFelixNodeOverrides(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	overrides := 0
	for i := range s.FelixConfigurations {
		fc := &s.FelixConfigurations[i]
		if !strings.HasPrefix(fc.Name, felixNodePrefix) {
			continue
		}
		overrides++
		node := strings.TrimPrefix(fc.Name, felixNodePrefix)
		if e := fc.Spec.WireguardEnabled; e != nil && !*e {
			out = append(out, fail(ref("FelixConfiguration", "", fc.Name), "FelixConfiguration %s sets wireguardEnabled: false, which turns WireGuard off on node %s: remove the field (kubectl patch felixconfiguration %s --type=json -p '[{\"op\":\"remove\",\"path\":\"/spec/wireguardEnabled\"}]')",
				fc.Name, node, fc.Name))
		}
		if mtu := fc.Spec.WireguardMTU; mtu != nil && *mtu > m.Network.MTU {
			out = append(out, fail(ref("FelixConfiguration", "", fc.Name), "FelixConfiguration %s sets wireguardMTU %d on node %s, above %d (underlay %d - 60): remove the field or lower it",
				fc.Name, *mtu, node, m.Network.MTU, m.Network.UnderlayMTU))
		}
	}
	if len(out) == 0 {
		if overrides == 0 {
			return []Result{pass("no per-node FelixConfiguration exists")}
		}
		out = append(out, pass("%s, none turns WireGuard off or raises its MTU", count(overrides, "per-node FelixConfiguration", "per-node FelixConfigurations")))
	}
	return out
}

// validWireGuardKey reports whether s is a base64 WireGuard public key.
func validWireGuardKey(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(b) == wireguardKeyBytes
}

func checkWireGuardKeys(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	for i := range s.Nodes {
		n := &s.Nodes[i]
		key, ok := n.Annotations[annotationWireguardKey]
		switch {
		case !ok || key == "":
			out = append(out, fail(nodeRef(n.Name), "node %s has no %s annotation: Felix has not brought WireGuard up there, so its traffic is not encrypted; check calico-node's log on %s (is the wireguard kernel module available?)",
				n.Name, annotationWireguardKey, n.Name))
		case !validWireGuardKey(key):
			out = append(out, fail(nodeRef(n.Name), "node %s has an invalid %s %q (want 44 characters of base64, 32 bytes): restart calico-node on %s so that Felix publishes its key again",
				n.Name, annotationWireguardKey, key, n.Name))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("all %d nodes publish a WireGuard public key", len(s.Nodes)))
	}
	return out
}

func checkWireGuardKeysUnique(s *Snapshot, m *topology.Model) []Result {
	owners := map[string][]string{}
	var keys []string
	for i := range s.Nodes {
		n := &s.Nodes[i]
		key := n.Annotations[annotationWireguardKey]
		if key == "" {
			continue // NET004
		}
		if len(owners[key]) == 0 {
			keys = append(keys, key)
		}
		owners[key] = append(owners[key], n.Name)
	}
	var out []Result
	for _, key := range keys { // node order: deterministic
		if names := owners[key]; len(names) > 1 {
			out = append(out, fail(nodeRef(names[1]), "nodes %s publish the same WireGuard public key: they were cloned with Calico's state; on all but one, delete the wireguard.cali interface and restart calico-node to make a new key",
				strings.Join(names, ", ")))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("the %d WireGuard public keys are unique", len(keys)))
	}
	return out
}

func checkWireGuardAddresses(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	for i := range s.Nodes {
		n := &s.Nodes[i]
		addr := n.Annotations[annotationWireguardAddr]
		if _, err := netip.ParseAddr(addr); err != nil {
			what := "no"
			if addr != "" {
				what = "an invalid (" + addr + ")"
			}
			out = append(out, fail(nodeRef(n.Name), "node %s has %s %s annotation: pod traffic to it breaks; restart calico-node on %s and check its IPAM block (calicoctl ipam check)",
				n.Name, what, annotationWireguardAddr, n.Name))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("all %d nodes have a WireGuard tunnel address", len(s.Nodes)))
	}
	return out
}

func checkCalicoAddresses(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	checked := 0
	for n, node := range idx.present(m) {
		checked++
		got, ok := node.Annotations[annotationIPv4Address]
		addr, _, _ := strings.Cut(got, "/")
		switch {
		case !ok || got == "":
			out = append(out, fail(nodeRef(n.Name), "node %s has no %s annotation: calico-node has not started there; check its pod on %s",
				n.Name, annotationIPv4Address, n.Name))
		case addr != n.IP:
			out = append(out, fail(nodeRef(n.Name), "Calico uses %s as the address of node %s, the topology says %s: WireGuard peers connect to the wrong address; set Calico's IP autodetection to the node network (Kubespray: calico_ip_auto_method: \"cidr=...\") and restart calico-node",
				addr, n.Name, n.IP))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("Calico uses the topology address of all %d registered topology nodes", checked))
	}
	return out
}

func checkCalicoNodeEnv(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	found := 0
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		if ds.Name != "calico-node" {
			continue
		}
		found++
		obj := ref("DaemonSet", ds.Namespace, ds.Name)
		for _, c := range ds.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				switch e.Name {
				case "FELIX_WIREGUARDENABLED":
					if b, err := strconv.ParseBool(e.Value); err == nil && !b {
						out = append(out, fail(obj, "container %s of DaemonSet %s/%s sets FELIX_WIREGUARDENABLED=%s, which beats FelixConfiguration and turns WireGuard off on every node: remove it (Kubespray: calico_node_extra_envs)",
							c.Name, ds.Namespace, ds.Name, e.Value))
					}
				case "FELIX_WIREGUARDMTU":
					if v, err := strconv.Atoi(e.Value); err == nil && v > m.Network.MTU {
						out = append(out, fail(obj, "container %s of DaemonSet %s/%s sets FELIX_WIREGUARDMTU=%d, above %d (underlay %d - 60): large packets are dropped; set it to %d (Kubespray: calico_mtu)",
							c.Name, ds.Namespace, ds.Name, v, m.Network.MTU, m.Network.UnderlayMTU, m.Network.MTU))
					}
				}
			}
		}
	}
	if len(out) == 0 {
		if found == 0 {
			return []Result{pass("no calico-node DaemonSet overrides FelixConfiguration through its environment (none found)")}
		}
		return []Result{pass("the calico-node DaemonSet leaves WireGuard to FelixConfiguration")}
	}
	return out
}
