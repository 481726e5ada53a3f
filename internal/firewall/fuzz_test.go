package firewall

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// ruleLine is a rule of the chain as the writer builds it: matches of
// known words, address sets of addresses and networks only, a verdict
// and a comment of printable characters without quotes.
var ruleLine = regexp.MustCompile(`^\t\t(?:(?:iif "lo"|iifname "cali\*"|fib daddr type != local|ct state [a-z,]+|` +
	`ip6? [sd]addr (?:\{ [0-9a-f.:/, ]+ \}|[0-9a-f.:/]+)|icmp(?:v6)? type (?:echo-request|\{ [a-z-, ]+ \})|ip6 hoplimit 255|` +
	`(?:tcp|udp) dport [0-9]+(?:-[0-9]+)?|meta l4proto ipip) )+(?:accept|drop) comment "[ -!#-\[\]-~]*"$`)

// FuzzBuild feeds addresses an attacker could write into the model: a
// ruleset comes out only when every address is one, and then every rule
// line is of the writer's grammar (no second statement, no escaped
// quote, no new line smuggled in).
func FuzzBuild(f *testing.F) {
	f.Add("10.10.0.10", "203.0.113.10", "198.51.100.0/28", "10.233.64.0/18")
	f.Add("10.0.0.1 } accept", "", "0.0.0.0/0", "10.233.64.0/18")
	f.Add("10.10.0.10", "2001:db8::1", "2001:db8::/48", "10.233.64.0/18\n")
	f.Add("::ffff:10.0.0.1", "fe80::1%eth0", "1.2.3.4/33", "10.0.0.0/8; flush ruleset")
	m0 := topology0(f)
	f.Fuzz(func(t *testing.T, ip, public, admin, pods string) {
		m := *m0
		m.Nodes = append(m.Nodes[:0:0], m0.Nodes...)
		m.Nodes[0].IP, m.Nodes[0].PublicIP = ip, public
		m.AdminCIDRs = []string{admin}
		m.Kubernetes.PodSubnet = pods
		lists, err := Build(&m, Options{APIPort: PortAPI, WireGuard: true, VXLAN: true, BGP: true, IPIP: true, Typha: true, NodePorts: true, CephHostNetwork: true})
		if err != nil {
			return
		}
		for _, a := range lists {
			rs, err := NFT(a)
			if err != nil {
				return
			}
			out := rs.String()
			body := out[strings.Index(out, "policy drop;\n")+len("policy drop;\n"):]
			for _, line := range strings.Split(body, "\n") {
				if line == "" || line == "\t}" || line == "}" {
					continue
				}
				if !ruleLine.MatchString(line) {
					t.Fatalf("a rule outside the writer's grammar: %q", line)
				}
			}
			if _, err := SecurityGroups(a); err != nil {
				t.Fatalf("security groups of a valid allowlist: %v", err)
			}
		}
	})
}

// topology0 is the example's model for the fuzz target.
func topology0(f *testing.F) *topology.Model {
	f.Helper()
	file, err := topology.Load("../../testdata/topology.yaml")
	if err != nil {
		f.Fatal(err)
	}
	return topology.NewModel(file.Topology)
}
