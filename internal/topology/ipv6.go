package topology

import (
	"net/netip"
)

// ipv6 refuses IPv6 node addresses (spec.regions[].nodes[].ip) and pod and
// service subnets. The bundle is IPv4 only: Kubespray's ipv4_stack and
// ipv6_stack variables, Calico's wireguardEnabledV6 and the 80-byte
// overhead of WireGuard over IPv6 are not rendered, so an IPv6 address
// would be configured as if it were IPv4.
// A node's publicIP is only Ansible's SSH address (ansible_host) and may be
// IPv6, as may the API endpoint a load balancer serves. Only fields that
// parse are looked at; the other checks report the rest.
func (v *validator) ipv6() {
	const why = "kubectl-stretch renders an IPv4-only cluster for now (Kubespray's IPv6 stack, Calico's wireguardEnabledV6 " +
		"and WireGuard's 80-byte IPv6 overhead are not configured); use an IPv4 "
	k := v.t.Spec.Kubernetes
	for _, s := range []struct{ field, value string }{
		{"spec.kubernetes.podSubnet", k.PodSubnet},
		{"spec.kubernetes.serviceSubnet", k.ServiceSubnet},
	} {
		if p, err := netip.ParsePrefix(s.value); err == nil && p.Addr().Is6() {
			v.errorf(s.field, "%s is an IPv6 subnet; %s", s.value, why+"subnet")
		}
	}
	for i, r := range v.t.Spec.Regions {
		for j, n := range r.Nodes {
			nf := nodeField(i, j)
			a, err := netip.ParseAddr(n.IP)
			switch {
			case err != nil || a.Zone() != "":
			case a.Is4In6():
				v.errorf(nf+".ip", "%s is an IPv4-mapped IPv6 address; write %s", n.IP, a.Unmap())
			case a.Is6():
				v.errorf(nf+".ip", "%s is an IPv6 address; %s", n.IP, why+"address")
			}
		}
	}
}
