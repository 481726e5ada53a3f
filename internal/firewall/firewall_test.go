package firewall

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// exampleModel is the model of the bundled example topology.
func exampleModel(t *testing.T) *topology.Model {
	t.Helper()
	f, err := topology.Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return topology.NewModel(f.Topology)
}

// flowsByName returns the flows of every region, keyed by region and
// flow name.
func flowsByName(lists []Allowlist) map[string]map[string][]Flow {
	out := map[string]map[string][]Flow{}
	for _, a := range lists {
		out[a.Region] = map[string][]Flow{}
		for _, f := range a.Flows {
			out[a.Region][f.Name] = append(out[a.Region][f.Name], f)
		}
	}
	return out
}

func sourceCIDRs(f Flow) []string {
	var out []string
	for _, s := range f.Sources {
		out = append(out, s.CIDR)
	}
	return out
}

// TestExampleFlows checks the flows of the example against the rules the
// allowlist must follow, node class by node class.
func TestExampleFlows(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	lists, err := Build(m, DefaultOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 3 {
		t.Fatalf("%d allowlists, want one per region (3)", len(lists))
	}
	byName := flowsByName(lists)
	allNodes := []string{}
	for _, n := range m.Nodes {
		allNodes = append(allNodes, n.IP+"/32")
	}
	cps := []string{"10.10.0.10/32", "10.20.0.10/32", "10.30.0.10/32"}
	admin := []string{"198.51.100.0/28"}
	anywhere := []string{"0.0.0.0/0", "::/0"}
	for _, c := range []struct {
		region, flow, proto string
		port                int
		nodes, sources      []string
	}{
		{"sto1", FlowAPI, TCP, 6443, []string{"sto1-cp-0"}, append(slices.Clone(allNodes), admin...)},
		{"osl1", FlowAPI, TCP, 6443, []string{"osl1-cp-0"}, append(slices.Clone(allNodes), admin...)},
		{"sto2", FlowKubelet, TCP, 10250, []string{"sto2-cp-0", "sto2-w-0", "sto2-w-1", "sto2-s-0", "sto2-s-1"}, cps},
		{"sto1", FlowEtcdClient, TCP, 2379, []string{"sto1-cp-0"}, cps},
		{"osl1", FlowEtcdPeer, TCP, 2380, []string{"osl1-cp-0"}, cps},
		{"sto2", FlowWireGuard, UDP, 51820, []string{"sto2-cp-0", "sto2-w-0", "sto2-w-1", "sto2-s-0", "sto2-s-1"}, allNodes},
		{"osl1", FlowVXLAN, UDP, 4789, []string{"osl1-cp-0"}, allNodes},
		{"sto1", FlowSSH, TCP, 22, []string{"sto1-cp-0", "sto1-w-0", "sto1-w-1", "sto1-s-0", "sto1-s-1"}, admin},
		{"sto1", FlowHTTPS, TCP, 443, []string{"sto1-w-0", "sto1-w-1"}, anywhere},
		{"sto2", FlowHTTP, TCP, 80, []string{"sto2-w-0", "sto2-w-1"}, anywhere},
	} {
		fs := byName[c.region][c.flow]
		if len(fs) != 1 {
			t.Errorf("%s: %d flows %s, want 1", c.region, len(fs), c.flow)
			continue
		}
		f := fs[0]
		if f.Protocol != c.proto || f.Ports != (PortRange{c.port, c.port}) || !slices.Equal(f.Nodes, c.nodes) ||
			!slices.Equal(sourceCIDRs(f), c.sources) || f.Reason == "" {
			t.Errorf("%s %s = %s %s on %v from %v (%q), want %s %d on %v from %v", c.region, c.flow,
				f.Protocol, f.Ports, f.Nodes, sourceCIDRs(f), f.Reason, c.proto, c.port, c.nodes, c.sources)
		}
	}
	// The arbiter has no ingress; nothing but HTTP and HTTPS comes from
	// anywhere; no option-dependent port is open by default.
	if _, ok := byName["osl1"][FlowHTTPS]; ok {
		t.Error("the arbiter region serves the ingress")
	}
	for _, a := range lists {
		for _, f := range a.Flows {
			for _, s := range f.Sources {
				if s.Kind == SourceAnywhere && f.Name != FlowHTTP && f.Name != FlowHTTPS {
					t.Errorf("%s: %s is open to anywhere", a.Region, f.Name)
				}
			}
			if slices.Contains([]string{FlowBGP, FlowTypha, FlowNodePorts, FlowCephMon, FlowCephOSD}, f.Name) {
				t.Errorf("%s: %s is open with the default options", a.Region, f.Name)
			}
		}
	}
}

// TestOptionsOpenPorts checks that each option opens its ports, and only
// then.
func TestOptionsOpenPorts(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	o := DefaultOptions(m)
	o.APIPort, o.BGP, o.IPIP, o.Typha, o.NodePorts, o.CephHostNetwork, o.WireGuard, o.VXLAN = 443, true, true, true, true, true, false, false
	lists, err := Build(m, o)
	if err != nil {
		t.Fatal(err)
	}
	byName := flowsByName(lists)
	if f := byName["sto1"][FlowAPI]; len(f) != 1 || f[0].Ports.From != 443 {
		t.Errorf("API flow %v, want port 443", f)
	}
	for _, name := range []string{FlowWireGuard, FlowVXLAN} {
		if _, ok := byName["sto1"][name]; ok {
			t.Errorf("%s is open with the option off", name)
		}
	}
	if f := byName["sto2"][FlowBGP]; len(f) != 1 || f[0].Ports.From != PortBGP || len(f[0].Nodes) != 5 {
		t.Errorf("BGP flow %v", f)
	}
	if f := byName["osl1"][FlowIPIP]; len(f) != 1 || f[0].Protocol != IPIP || f[0].Ports != (PortRange{}) || len(f[0].Sources) != 11 {
		t.Errorf("IPIP flow %v", f)
	}
	for _, a := range lists {
		rs, err := NFT(a)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rs.String(), "meta l4proto ipip accept") {
			t.Errorf("%s: no IPIP rule in\n%s", a.Region, rs)
		}
		tf, err := SecurityGroups(a)
		if err != nil {
			t.Fatal(err)
		}
		ipip := 0
		for _, r := range tf.Resource.Rules {
			if r.Protocol == IPIP {
				ipip++
			}
		}
		if ipip != 11*len(a.Nodes) {
			t.Errorf("%s: %d IPIP security group rules, want %d", a.Region, ipip, 11*len(a.Nodes))
		}
	}
	// Typha runs on Kubernetes nodes (kube_node), not on dedicated
	// control planes.
	if f := byName["sto1"][FlowTypha]; len(f) != 1 || slices.Contains(f[0].Nodes, "sto1-cp-0") || len(f[0].Nodes) != 4 {
		t.Errorf("Typha flow %v", f)
	}
	if _, ok := byName["osl1"][FlowTypha]; ok {
		t.Error("Typha open on the arbiter's dedicated control plane")
	}
	if f := byName["sto1"][FlowNodePorts]; len(f) != 2 || f[0].Ports != (PortRange{30000, 32767}) {
		t.Errorf("NodePort flows %v, want TCP and UDP 30000-32767", f)
	}
	mons := byName["osl1"][FlowCephMon]
	if len(mons) != 2 || mons[0].Ports.From != PortCephMsgr2 || mons[1].Ports.From != PortCephMsgr1 {
		t.Errorf("arbiter mon flows %v, want 3300 and 6789", mons)
	}
	if f := byName["sto1"][FlowCephOSD]; len(f) != 1 || f[0].Ports != (PortRange{6800, 7300}) ||
		!slices.Equal(f[0].Nodes, []string{"sto1-s-0", "sto1-s-1"}) {
		t.Errorf("OSD flow %v, want 6800-7300 on the storage nodes", f)
	}
	if _, ok := byName["sto1"][FlowCephMon]; !ok {
		t.Error("no mon flow on the data regions' storage nodes")
	}
}

// TestOpens checks the question verify asks: does the allowlist open a
// port to outside the nodes?
func TestOpens(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	lists, err := Build(m, DefaultOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		proto string
		port  int
		want  bool
	}{
		{TCP, 443, true}, {TCP, 80, true}, {TCP, 6443, true}, {TCP, 22, true},
		{TCP, 10250, false}, {TCP, 2379, false}, {UDP, 51820, false}, {TCP, 30080, false}, {UDP, 443, false},
	} {
		if _, got := Opens(lists, c.proto, c.port); got != c.want {
			t.Errorf("Opens(%s %d) = %v, want %v", c.proto, c.port, got, c.want)
		}
	}
}

// TestBadAddressesAreRefused checks that an address that is not one
// never reaches a ruleset: the model is built by hand, as a validated
// topology cannot hold it.
func TestBadAddressesAreRefused(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(m *topology.Model){
		"node ip":   func(m *topology.Model) { m.Nodes[0].IP = `10.0.0.1 } accept; ip saddr { 0.0.0.0/0` },
		"ipv6 ip":   func(m *topology.Model) { m.Nodes[0].IP = "2001:db8::1" },
		"public ip": func(m *topology.Model) { m.Nodes[0].PublicIP = "1.2.3.4\nflush ruleset" },
		"admin":     func(m *topology.Model) { m.AdminCIDRs = []string{"0.0.0.0/0 }"} },
	} {
		m := exampleModel(t)
		mutate(m)
		if _, err := Build(m, DefaultOptions(m)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if got := quote("a\"b\\c\nd"); got != `"a_b_c_d"` {
		t.Errorf("quote = %s", got)
	}
}

// TestNFTFilesPassNFTCheck runs nft -c -f on every nftables ruleset of
// the golden bundles.
func TestNFTFilesPassNFTCheck(t *testing.T) {
	t.Parallel()
	nft := testenv.Tool(t, "nft", "the Debian package nftables")
	files, err := filepath.Glob("../../testdata/golden/*/network/firewall/*.nft")
	if err != nil || len(files) < 7*3 {
		t.Fatalf("%d golden .nft files (%v), want at least 21", len(files), err)
	}
	// And the example with every option on (BGP, IPIP, Typha, NodePorts,
	// Ceph on the host network), which no golden bundle renders.
	m := exampleModel(t)
	o := Options{APIPort: PortAPI, WireGuard: true, VXLAN: true, BGP: true, IPIP: true, Typha: true, NodePorts: true, CephHostNetwork: true}
	lists, err := Build(m, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range lists {
		rs, err := NFT(a)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), a.Region+"-all-options.nft")
		if err := os.WriteFile(f, []byte(rs.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, f := range files {
		out, err := exec.Command(nft, "-c", "-f", f).CombinedOutput()
		if err != nil && kernelRefuses(string(out)) {
			t.Skipf("nft -c needs CAP_NET_ADMIN, which the kernel refuses here: %s", strings.TrimSpace(string(out)))
		}
		if err != nil {
			t.Errorf("nft -c -f %s: %v\n%s", f, err, out)
		}
	}
}

// TestNFTCheckFindsAnError makes sure nft -c is a real check here: a
// broken ruleset fails it.
func TestNFTCheckFindsAnError(t *testing.T) {
	t.Parallel()
	nft := testenv.Tool(t, "nft", "the Debian package nftables")
	f := filepath.Join(t.TempDir(), "bad.nft")
	if err := os.WriteFile(f, []byte("table inet x {\n\tchain input {\n\t\tip saddr { 10.0.0.300 } accept\n\t}\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nft, "-c", "-f", f).CombinedOutput()
	if kernelRefuses(string(out)) {
		t.Skipf("nft -c needs CAP_NET_ADMIN, which the kernel refuses here: %s", strings.TrimSpace(string(out)))
	}
	if err == nil {
		t.Errorf("nft -c accepted a bad address:\n%s", out)
	}
}

// kernelRefuses reports whether a command's output says that the kernel
// refused the operation for want of privileges.
func kernelRefuses(out string) bool {
	return strings.Contains(out, "Operation not permitted") || strings.Contains(out, "Permission denied")
}

// TestSecurityGroupsOfDottedNodeNames checks that a node name with dots
// (a DNS-1123 subdomain) gives a valid Terraform resource name, and that
// every rule of a node points at that node's group.
func TestSecurityGroupsOfDottedNodeNames(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	m.Nodes[0].Name = "cp.sto1.example"
	m.Regions[0].Nodes[0] = "cp.sto1.example"
	lists, err := Build(m, DefaultOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := SecurityGroups(lists[0])
	if err != nil {
		t.Fatal(err)
	}
	g, ok := tf.Resource.Groups["node_cp_sto1_example"]
	if !ok || g.Name != "demo-eu-cp.sto1.example" {
		t.Fatalf("groups %v", tf.Resource.Groups)
	}
	rules := 0
	for name, r := range tf.Resource.Rules {
		if strings.HasPrefix(name, "node_cp_sto1_example_") {
			rules++
			if r.SecurityGroupID != "${openstack_networking_secgroup_v2.node_cp_sto1_example.id}" || r.Direction != "ingress" {
				t.Errorf("rule %s: %+v", name, r)
			}
		}
	}
	// The control plane accepts SSH (1 admin CIDR), the API (11 nodes and
	// 1 admin CIDR), the kubelet and etcd client and peer (3 control
	// planes each), WireGuard and VXLAN (11 nodes each).
	if want := 1 + 12 + 3*3 + 2*11; rules != want {
		t.Errorf("%d rules for the control plane, want %d", rules, want)
	}
}
