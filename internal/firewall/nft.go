package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// TableName is the nftables table the ruleset owns (family inet, so that
// IPv6 is dropped too). Loading the file replaces the table whole and
// touches no other table.
const TableName = "stretch_firewall"

// Ruleset is an nftables table with one input chain: the typed form of
// the .nft file, written by String.
type Ruleset struct {
	// Comment heads the file, one line a string.
	Comment []string
	Table   string
	// Base are the rules before the flows: loopback, conntrack, ICMP.
	Base []Rule
	// Rules accept the allowlist's flows.
	Rules []Rule
}

// Rule is one nftables rule: its statements, already built from typed
// values, and a comment.
type Rule struct {
	Match   []string
	Verdict string
	Comment string
}

// NFT builds the ruleset of an allowlist. Its one chain filters at the
// prerouting hook, before kube-proxy's and Calico's DNAT (priority
// dstnat, -100), so that a NodePort or a hostPort, which DNAT turns into
// forwarded traffic that an input chain never sees, is filtered like any
// port of the node. It drops by default what is addressed to the node
// and accepts: packets not addressed to the node (pods' and Services'
// addresses, broadcast and multicast: Calico's business), loopback,
// packets of connections already accepted (established, related: ICMP
// errors such as "fragmentation needed" included), the node's own pods
// (from the pod subnet on Calico's cali* interfaces), ICMP echo requests
// from the nodes and the admin CIDRs, IPv6 neighbour discovery on the
// link, and each flow from its sources to its nodes' addresses.
func NFT(a Allowlist) (*Ruleset, error) {
	addrs := map[string][]netip.Addr{}
	for _, n := range a.Nodes {
		for _, ip := range []string{n.IP, n.PublicIP} {
			if ip == "" {
				continue
			}
			ad, err := netip.ParseAddr(ip)
			if err != nil || ad.Zone() != "" {
				return nil, fmt.Errorf("node %s: %q is not an IP address", n.Name, ip)
			}
			addrs[n.Name] = append(addrs[n.Name], ad)
		}
	}
	rs := &Ruleset{
		Comment: []string{
			"nftables ruleset of region " + a.Region + " of " + a.Topology + ": load it on every node of the region",
			"with nft -f; it replaces the table " + TableName + " (family inet) and touches no other.",
		},
		Table: TableName,
		Base: []Rule{
			{Match: []string{"fib daddr type != local"}, Verdict: "accept", Comment: "not addressed to this node: pods, Services, broadcast"},
			{Match: []string{`iif "lo"`}, Verdict: "accept", Comment: "loopback"},
			{Match: []string{"ct state established,related"}, Verdict: "accept", Comment: "replies and related ICMP errors"},
			{Match: []string{"ct state invalid"}, Verdict: "drop", Comment: "invalid packets"},
		},
	}
	pods, err := netip.ParsePrefix(a.PodSubnet)
	if err != nil || !pods.Addr().Is4() {
		return nil, fmt.Errorf("podSubnet: %q is not an IPv4 network", a.PodSubnet)
	}
	rs.Base = append(rs.Base, Rule{Match: []string{`iifname "cali*"`, "ip saddr " + pods.Masked().String()}, Verdict: "accept",
		Comment: "this node's pods (Calico's DefaultEndpointToHostAction)"})
	// Ping from every source a flow names except anywhere: the nodes
	// and the admin CIDRs.
	var ping []netip.Prefix
	for _, f := range a.Flows {
		for _, s := range f.Sources {
			p, err := netip.ParsePrefix(s.CIDR)
			if err != nil {
				return nil, fmt.Errorf("flow %s: %q is not a network", f.Name, s.CIDR)
			}
			if s.Kind != SourceAnywhere && !slices.Contains(ping, p.Masked()) {
				ping = append(ping, p.Masked())
			}
		}
	}
	for _, fam := range families {
		if set, ok := prefixSet(ping, fam); ok {
			rs.Base = append(rs.Base, Rule{Match: []string{fam.addr + " saddr " + set, fam.icmp + " type echo-request"},
				Verdict: "accept", Comment: "ping from the nodes and the admin CIDRs"})
		}
	}
	rs.Base = append(rs.Base, Rule{Match: []string{"icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }", "ip6 hoplimit 255"},
		Verdict: "accept", Comment: "IPv6 neighbour discovery on the link"})
	for _, f := range a.Flows {
		var l4 string
		switch f.Protocol {
		case TCP, UDP:
			if f.Ports.From < 1 || f.Ports.To > 65535 || f.Ports.From > f.Ports.To {
				return nil, fmt.Errorf("flow %s: bad ports %s", f.Name, f.Ports)
			}
			l4 = f.Protocol + " dport " + f.Ports.String()
		case IPIP:
			l4 = "meta l4proto ipip"
		default:
			return nil, fmt.Errorf("flow %s: unknown protocol %q", f.Name, f.Protocol)
		}
		var daddrs, saddrs []netip.Prefix
		anywhere := false
		for _, n := range f.Nodes {
			for _, ad := range addrs[n] {
				daddrs = append(daddrs, netip.PrefixFrom(ad, ad.BitLen()))
			}
		}
		for _, s := range f.Sources {
			p, err := netip.ParsePrefix(s.CIDR)
			if err != nil {
				return nil, fmt.Errorf("flow %s: %q is not a network", f.Name, s.CIDR)
			}
			if s.Kind == SourceAnywhere {
				anywhere = true
				continue
			}
			saddrs = append(saddrs, p.Masked())
		}
		for _, fam := range families {
			dset, ok := prefixSet(daddrs, fam)
			if !ok {
				continue
			}
			var match []string
			if !anywhere {
				sset, ok := prefixSet(saddrs, fam)
				if !ok {
					continue
				}
				match = append(match, fam.addr+" saddr "+sset)
			}
			match = append(match, fam.addr+" daddr "+dset, l4)
			rs.Rules = append(rs.Rules, Rule{Match: match, Verdict: "accept", Comment: f.Name})
		}
	}
	return rs, nil
}

// family is an address family as nftables matches it.
type family struct {
	is4        bool
	addr, icmp string
}

var families = []family{{true, "ip", "icmp"}, {false, "ip6", "icmpv6"}}

// prefixSet writes the networks of the family as an nftables anonymous
// set, each written by net/netip (so nothing but an address reaches the
// file), a single address without its length. It reports false when
// none is of the family.
func prefixSet(items []netip.Prefix, fam family) (string, bool) {
	var out []string
	for _, p := range items {
		if p.Addr().Is4() != fam.is4 {
			continue
		}
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.Masked().String())
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return "{ " + strings.Join(out, ", ") + " }", true
}

// quote writes s as an nftables quoted string: printable ASCII without
// quotes or backslashes, anything else replaced by '_'.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < ' ' || r > '~' || r == '"' || r == '\\' {
			r = '_'
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// String writes the ruleset as a file for nft -f: declaring the table
// and deleting it first makes loading it again replace it whole.
func (r *Ruleset) String() string {
	var b strings.Builder
	b.WriteString("#!/usr/sbin/nft -f\n")
	for _, c := range r.Comment {
		b.WriteString("# " + strings.ReplaceAll(c, "\n", " ") + "\n")
	}
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\n\ntable inet %s {\n", r.Table, r.Table, r.Table)
	b.WriteString("\tchain prerouting {\n\t\ttype filter hook prerouting priority -150; policy drop;\n")
	for _, rules := range [][]Rule{r.Base, r.Rules} {
		b.WriteString("\n")
		for _, ru := range rules {
			fmt.Fprintf(&b, "\t\t%s %s comment %s\n", strings.Join(ru.Match, " "), ru.Verdict, quote(ru.Comment))
		}
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}
