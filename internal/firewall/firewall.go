// Package firewall derives, per region, every flow the region's nodes must
// accept from the topology's model and the options the bundle's other
// layers set (Calico's backend and Typha, Kubespray's API port, Rook's
// network provider), and writes them as a neutral allowlist, an nftables
// ruleset with a default drop and OpenStack security groups as Terraform
// JSON. Everything is built from typed values and sorted: the same model
// gives the same bytes.
package firewall

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Protocols of a flow.
const (
	TCP = "tcp"
	UDP = "udp"
	// IPIP is IP in IP (IP protocol 4), which has no ports.
	IPIP = "ipip"
)

// Source kinds: where a flow may come from.
const (
	// SourceNode is one node of the topology, by its ip.
	SourceNode = "node"
	// SourceCIDR is one of the topology's admin CIDRs.
	SourceCIDR = "cidr"
	// SourceAnywhere is any address.
	SourceAnywhere = "anywhere"
)

// Flow names, in the order the allowlist lists them.
const (
	FlowSSH        = "ssh"
	FlowAPI        = "kube-apiserver"
	FlowKubelet    = "kubelet"
	FlowEtcdClient = "etcd-client"
	FlowEtcdPeer   = "etcd-peer"
	FlowWireGuard  = "calico-wireguard"
	FlowVXLAN      = "calico-vxlan"
	FlowBGP        = "calico-bgp"
	FlowIPIP       = "calico-ipip"
	FlowTypha      = "calico-typha"
	FlowHTTP       = "ingress-http"
	FlowHTTPS      = "ingress-https"
	FlowNodePorts  = "nodeports"
	FlowCephMon    = "ceph-mon"
	FlowCephOSD    = "ceph-osd"
)

// Well-known ports (upstream defaults; see docs/FIREWALL.md for sources).
const (
	PortSSH        = 22
	PortHTTP       = 80
	PortHTTPS      = 443
	PortBGP        = 179
	PortAPI        = 6443
	PortEtcdClient = 2379
	PortEtcdPeer   = 2380
	PortCephMsgr2  = 3300
	PortCephMsgr1  = 6789
	PortTypha      = 5473
	PortKubelet    = 10250
	PortVXLAN      = 4789
	PortWireGuard  = 51820
	PortCephMin    = 6800
	PortCephMax    = 7300
	PortNodeMin    = 30000
	PortNodeMax    = 32767
)

// APIVersion and Kind head every allowlist file.
const (
	APIVersion = v1alpha1.APIVersion
	Kind       = v1alpha1.KindFirewallAllowlist
)

// Options are the facts of the bundle's other layers that open or close
// ports. The zero value is not useful: start from DefaultOptions.
type Options struct {
	// APIPort is kube-apiserver's port (Kubespray's kube_apiserver_port).
	APIPort int
	// WireGuard opens UDP 51820 between all nodes (Calico's WireGuard).
	WireGuard bool
	// VXLAN opens UDP 4789 between all nodes (calico_network_backend vxlan).
	VXLAN bool
	// BGP opens TCP 179 between all nodes (calico_network_backend bird).
	BGP bool
	// IPIP accepts IP-in-IP packets between all nodes (calico_ipip_mode
	// Always or CrossSubnet).
	IPIP bool
	// Typha opens TCP 5473 on the Kubernetes nodes to all nodes.
	Typha bool
	// NodePorts opens 30000-32767 (TCP and UDP) on the Kubernetes nodes
	// from anywhere. No topology field sets it: the bundle exposes no
	// NodePort, and verify reports a Service that does.
	NodePorts bool
	// CephHostNetwork opens the Ceph mons' and OSDs' ports between the
	// nodes, for a CephCluster with network.provider host.
	CephHostNetwork bool
}

// DefaultOptions are the options of the bundle's blueprints for the
// model: the API on 6443, Calico on VXLAN, WireGuard as the topology
// says, no BGP, no Typha, no NodePorts, Ceph on the pod network.
func DefaultOptions(m *topology.Model) Options {
	return Options{APIPort: PortAPI, WireGuard: m.Network.WireGuard, VXLAN: true}
}

// Allowlist is one region's file: every flow its nodes accept. Anything
// else is dropped.
type Allowlist struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Topology and Region name the cluster and the region.
	Topology string `json:"topology"`
	Region   string `json:"region"`
	// Nodes are the region's nodes, in topology order.
	Nodes []Node `json:"nodes"`
	// AdminCIDRs are the topology's admin networks.
	AdminCIDRs []string `json:"adminCIDRs"`
	// PodSubnet is the cluster's pod network: pods reach their own node
	// (Calico's interfaces), which the node's rules leave to Calico.
	PodSubnet string `json:"podSubnet"`
	// Default is what happens to anything no flow accepts: drop.
	Default string `json:"default"`
	// Flows are sorted by name, then protocol and ports.
	Flows []Flow `json:"flows"`
}

// Node is a node of the region: the addresses its flows accept traffic on.
type Node struct {
	Name     string `json:"name"`
	IP       string `json:"ip"`
	PublicIP string `json:"publicIP,omitempty"`
}

// Flow is traffic some of the region's nodes accept.
type Flow struct {
	// Name names the flow (FlowAPI, ...).
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	// Ports is one port or a range, inclusive; none for IPIP.
	Ports PortRange `json:"ports,omitzero"`
	// Nodes are the region's nodes that accept the flow, by name, in
	// topology order.
	Nodes []string `json:"nodes"`
	// Sources are where the flow may come from.
	Sources []Source `json:"sources"`
	// Reason says which component needs the flow.
	Reason string `json:"reason"`
}

// PortRange is From to To, inclusive; To equals From for one port.
type PortRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Contains reports whether port is in the range.
func (p PortRange) Contains(port int) bool { return port >= p.From && port <= p.To }

// String is "6443" or "6800-7300".
func (p PortRange) String() string {
	if p.From == p.To {
		return fmt.Sprint(p.From)
	}
	return fmt.Sprintf("%d-%d", p.From, p.To)
}

// Source is where a flow may come from.
type Source struct {
	// Kind is SourceNode, SourceCIDR or SourceAnywhere.
	Kind string `json:"kind"`
	// Node names the node of a SourceNode.
	Node string `json:"node,omitempty"`
	// CIDR is the network: the node's ip as a /32, an admin CIDR, or
	// 0.0.0.0/0 and ::/0 for anywhere.
	CIDR string `json:"cidr"`
}

// External reports whether the source lies outside the cluster's nodes.
func (s Source) External() bool { return s.Kind != SourceNode }

// nodeSets are the node classes the flows are built from.
type nodeSets struct {
	all, controlPlanes, etcd, kube, ingress, storage, mons []topology.NodeModel
}

func classify(m *topology.Model) nodeSets {
	var s nodeSets
	for _, n := range m.Nodes {
		s.all = append(s.all, n)
		if n.ControlPlane {
			s.controlPlanes = append(s.controlPlanes, n)
		}
		if n.Etcd {
			s.etcd = append(s.etcd, n)
		}
		if n.KubeNode {
			s.kube = append(s.kube, n)
		}
		if IngressNode(m, n) {
			s.ingress = append(s.ingress, n)
		}
		if n.Storage && !n.Arbiter {
			s.storage = append(s.storage, n)
		}
		// Rook places the mons on the data regions' storage nodes and on
		// the arbiter region's nodes.
		if (n.Storage && !n.Arbiter) || n.Arbiter {
			s.mons = append(s.mons, n)
		}
	}
	return s
}

// IngressNode reports whether n serves the ingress host: the workers of
// the data regions, when the topology has an ingress.
func IngressNode(m *topology.Model, n topology.NodeModel) bool {
	return m.Ingress != nil && n.Worker && !n.Arbiter
}

// rule is a flow before it is cut per region.
type rule struct {
	name, protocol, reason string
	ports                  PortRange
	targets                []topology.NodeModel
	sources                []Source
}

// Build returns the allowlist of every region, in topology order. It
// returns an error for an address or CIDR that does not parse, which a
// validated topology never has.
func Build(m *topology.Model, o Options) ([]Allowlist, error) {
	if err := checkAddresses(m); err != nil {
		return nil, err
	}
	s := classify(m)
	admins := cidrSources(m.AdminCIDRs)
	anywhere := []Source{{Kind: SourceAnywhere, CIDR: "0.0.0.0/0"}, {Kind: SourceAnywhere, CIDR: "::/0"}}
	one := func(p int) PortRange { return PortRange{p, p} }
	rules := []rule{
		{FlowSSH, TCP, "SSH for Ansible (Kubespray) and operators, from the admin CIDRs only", one(PortSSH), s.all, admins},
		{FlowAPI, TCP, "kube-apiserver: every node's kubelet and Kubespray's local API proxy, and kubectl from the admin CIDRs",
			one(o.APIPort), s.controlPlanes, append(nodeSources(s.all), admins...)},
		{FlowKubelet, TCP, "kubelet API: kube-apiserver (logs, exec, port-forward) from the control planes only",
			one(PortKubelet), s.all, nodeSources(s.controlPlanes)},
		{FlowEtcdClient, TCP, "etcd client: kube-apiserver on the control planes, and etcdctl on the members",
			one(PortEtcdClient), s.etcd, nodeSources(union(s.controlPlanes, s.etcd))},
		{FlowEtcdPeer, TCP, "etcd peer traffic between the members", one(PortEtcdPeer), s.etcd, nodeSources(s.etcd)},
	}
	if o.WireGuard {
		rules = append(rules, rule{FlowWireGuard, UDP, "Calico WireGuard (wireguardListeningPort, IPv4) between all nodes",
			one(PortWireGuard), s.all, nodeSources(s.all)})
	}
	if o.VXLAN {
		rules = append(rules, rule{FlowVXLAN, UDP, "Calico VXLAN (calico_vxlan_port) between all nodes",
			one(PortVXLAN), s.all, nodeSources(s.all)})
	}
	if o.BGP {
		rules = append(rules, rule{FlowBGP, TCP, "Calico BGP (calico_network_backend bird) between all nodes",
			one(PortBGP), s.all, nodeSources(s.all)})
	}
	if o.IPIP {
		rules = append(rules, rule{FlowIPIP, IPIP, "Calico IP-in-IP encapsulation (calico_ipip_mode) between all nodes",
			PortRange{}, s.all, nodeSources(s.all)})
	}
	if o.Typha {
		rules = append(rules, rule{FlowTypha, TCP, "Calico Typha (typha_enabled): calico-node on every node to the Typha pods",
			one(PortTypha), s.kube, nodeSources(s.all)})
	}
	if len(s.ingress) > 0 {
		rules = append(rules,
			rule{FlowHTTP, TCP, "the ingress host over HTTP, from anywhere", one(PortHTTP), s.ingress, anywhere},
			rule{FlowHTTPS, TCP, "the ingress host over HTTPS, from anywhere", one(PortHTTPS), s.ingress, anywhere})
	}
	if o.NodePorts {
		for _, p := range []string{TCP, UDP} {
			rules = append(rules, rule{FlowNodePorts, p, "NodePort Services (kube_apiserver_node_port_range), from anywhere",
				PortRange{PortNodeMin, PortNodeMax}, s.kube, anywhere})
		}
	}
	if o.CephHostNetwork {
		rules = append(rules,
			rule{FlowCephMon, TCP, "Ceph mons on the host network (msgr2): every Ceph daemon and CSI client",
				one(PortCephMsgr2), s.mons, nodeSources(s.all)},
			rule{FlowCephMon, TCP, "Ceph mons on the host network (msgr1): every Ceph daemon and CSI client",
				one(PortCephMsgr1), s.mons, nodeSources(s.all)},
			rule{FlowCephOSD, TCP, "Ceph OSDs and mgr on the host network (ms_bind_port_min-max): daemons and CSI clients",
				PortRange{PortCephMin, PortCephMax}, union(s.storage, s.mons), nodeSources(s.all)})
	}
	var out []Allowlist
	for _, r := range m.Regions {
		a := Allowlist{APIVersion: APIVersion, Kind: Kind, Topology: m.Name, Region: r.Name,
			AdminCIDRs: append([]string{}, m.AdminCIDRs...), PodSubnet: m.Kubernetes.PodSubnet, Default: "drop", Nodes: []Node{}, Flows: []Flow{}}
		for _, n := range m.Nodes {
			if n.Region == r.Name {
				a.Nodes = append(a.Nodes, Node{Name: n.Name, IP: n.IP, PublicIP: n.PublicIP})
			}
		}
		for _, ru := range rules {
			var targets []string
			for _, n := range ru.targets {
				if n.Region == r.Name {
					targets = append(targets, n.Name)
				}
			}
			if len(targets) == 0 || len(ru.sources) == 0 {
				continue
			}
			a.Flows = append(a.Flows, Flow{Name: ru.name, Protocol: ru.protocol, Ports: ru.ports, Nodes: targets,
				Sources: slices.Clone(ru.sources), Reason: ru.reason})
		}
		slices.SortStableFunc(a.Flows, func(x, y Flow) int {
			return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.Ports.From, y.Ports.From))
		})
		out = append(out, a)
	}
	return out, nil
}

// checkAddresses parses every address the rules are built from, so that
// the writers never see one that is not an IPv4 address or network.
func checkAddresses(m *topology.Model) error {
	for _, n := range m.Nodes {
		if a, err := netip.ParseAddr(n.IP); err != nil || !a.Is4() {
			return fmt.Errorf("node %s: ip %q is not an IPv4 address", n.Name, n.IP)
		}
		if n.PublicIP == "" {
			continue
		}
		if a, err := netip.ParseAddr(n.PublicIP); err != nil || a.Zone() != "" {
			return fmt.Errorf("node %s: publicIP %q is not an IP address", n.Name, n.PublicIP)
		}
	}
	if p, err := netip.ParsePrefix(m.Kubernetes.PodSubnet); err != nil || !p.Addr().Is4() {
		return fmt.Errorf("podSubnet: %q is not an IPv4 network", m.Kubernetes.PodSubnet)
	}
	for _, c := range m.AdminCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fmt.Errorf("adminCIDRs: %q is not a network", c)
		}
	}
	return nil
}

func nodeSources(nodes []topology.NodeModel) []Source {
	out := []Source{}
	for _, n := range nodes {
		out = append(out, Source{Kind: SourceNode, Node: n.Name, CIDR: n.IP + "/32"})
	}
	return out
}

func cidrSources(cidrs []string) []Source {
	out := []Source{}
	for _, c := range cidrs {
		out = append(out, Source{Kind: SourceCIDR, CIDR: netip.MustParsePrefix(c).Masked().String()})
	}
	return out
}

// union returns the nodes of a and b, each once, in topology order (a
// and b are subsets of the model's nodes, each in topology order).
func union(a, b []topology.NodeModel) []topology.NodeModel {
	out := slices.Clone(a)
	for _, n := range b {
		if !slices.ContainsFunc(out, func(x topology.NodeModel) bool { return x.Name == n.Name }) {
			out = append(out, n)
		}
	}
	return out
}

// Opens reports whether some flow of the allowlists accepts protocol and
// port from outside the cluster's nodes (an admin CIDR or anywhere), and
// returns the first such flow.
func Opens(lists []Allowlist, protocol string, port int) (Flow, bool) {
	for _, a := range lists {
		for _, f := range a.Flows {
			if f.Protocol == protocol && f.Ports.Contains(port) && slices.ContainsFunc(f.Sources, Source.External) {
				return f, true
			}
		}
	}
	return Flow{}, false
}
