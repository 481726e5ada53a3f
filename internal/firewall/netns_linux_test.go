package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// The namespace test's fixed addresses outside the topology: an admin
// host inside the example's admin CIDR (198.51.100.0/28) and a host
// outside it and outside the topology.
const (
	adminAddr   = "198.51.100.5"
	outsideAddr = "198.51.100.77"
	// podAddr is a pod of sto1-w-0, in the example's pod subnet, behind
	// nodePort.
	podAddr  = "10.233.64.5"
	nodePort = 30080
)

// Probe timeouts: an accepted flow connects at once on one machine, a
// dropped one never answers.
const (
	allowedTimeout   = 2 * time.Second
	forbiddenTimeout = 300 * time.Millisecond
)

// listenTCP and listenUDP are the ports every node's namespace listens
// on, so that a probe that fails is refused by the ruleset, not for want
// of a listener.
var (
	listenTCP = []int{PortSSH, PortHTTP, PortHTTPS, PortEtcdClient, PortEtcdPeer, PortAPI, PortKubelet}
	listenUDP = []int{PortVXLAN, PortWireGuard}
)

// probe is one connection attempt from a namespace to an address.
type probe struct {
	from, to  string // namespace keys: a node name, "admin" or "outside"
	addr      string
	protocol  string
	port      int
	why       string
	wantReach bool
}

// TestRulesetsWithPackets builds the example's three regions as network
// namespaces on one machine: one namespace per node with its ip (and
// publicIP) on a veth link to a bridge in a namespace of its own, an
// admin host in the admin CIDR and a host outside the topology. Each node
// loads its region's ruleset; then every flow of every region is probed
// once (TCP connect, UDP with a reply) from a source it allows, and the
// forbidden flows are probed before (they connect: the network works)
// and after loading the rules (they do not). All traffic stays in the
// namespaces the test creates, which t.Cleanup deletes.
func TestRulesetsWithPackets(t *testing.T) {
	ipCmd := testenv.Tool(t, "ip", "the Debian package iproute2")
	nftCmd := testenv.Tool(t, "nft", "the Debian package nftables")
	m := exampleModel(t)
	lists, err := Build(m, DefaultOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	n := newNetns(t, ipCmd)
	bridge := n.add("br")
	n.run("-n", bridge, "link", "add", "br0", "type", "bridge")
	n.run("-n", bridge, "link", "set", "br0", "up")
	hosts := map[string][]string{"admin": {adminAddr}, "outside": {outsideAddr}}
	for _, node := range m.Nodes {
		hosts[node.Name] = []string{node.IP}
		if node.PublicIP != "" {
			hosts[node.Name] = append(hosts[node.Name], node.PublicIP)
		}
	}
	i := 0
	for key, addrs := range hosts {
		ns := n.add(key)
		port := fmt.Sprintf("p%d", i)
		i++
		n.run("-n", bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		n.run("-n", bridge, "link", "set", port, "master", "br0", "up")
		n.run("-n", ns, "link", "set", "lo", "up")
		n.run("-n", ns, "link", "set", "eth0", "up")
		for _, a := range addrs {
			n.run("-n", ns, "addr", "add", a+"/32", "dev", "eth0")
		}
		// One link for every address: the topology's networks are routed
		// between the regions in production, switched here.
		n.run("-n", ns, "route", "add", "default", "dev", "eth0")
	}
	for _, node := range m.Nodes {
		n.listen(node.Name)
	}
	// A NodePort as kube-proxy makes it: sto1-w-0 DNATs TCP 30080 to a
	// pod in a namespace of its own, so the packet is forwarded, not
	// delivered to the node; the ruleset must drop it all the same.
	pod := n.add("pod")
	n.run("-n", n.names["sto1-w-0"], "link", "add", "cali0", "type", "veth", "peer", "name", "eth0", "netns", pod)
	n.run("-n", n.names["sto1-w-0"], "link", "set", "cali0", "up")
	n.run("-n", n.names["sto1-w-0"], "route", "add", podAddr+"/32", "dev", "cali0")
	n.run("-n", pod, "link", "set", "lo", "up")
	n.run("-n", pod, "link", "set", "eth0", "up")
	n.run("-n", pod, "addr", "add", podAddr+"/32", "dev", "eth0")
	n.run("-n", pod, "route", "add", "169.254.1.1", "dev", "eth0")
	n.run("-n", pod, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0", "onlink")
	// Calico's trick: the host answers ARP for the pod's gateway.
	if out, err := exec.Command(ipCmd, "netns", "exec", n.names["sto1-w-0"], "sh", "-c",
		"sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.cali0.proxy_arp=1").CombinedOutput(); err != nil {
		t.Fatalf("sysctl in sto1-w-0: %v: %s", err, out)
	}
	nat := fmt.Sprintf("table ip stretch_test_nat {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat;\n\t\ttcp dport %d dnat to %s:%d\n\t}\n}\n", nodePort, podAddr, PortHTTPS)
	natFile := filepath.Join(t.TempDir(), "nat.nft")
	if err := os.WriteFile(natFile, []byte(nat), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ipCmd, "netns", "exec", n.names["sto1-w-0"], nftCmd, "-f", natFile).CombinedOutput(); err != nil {
		t.Fatalf("load the NodePort's DNAT: %v\n%s", err, out)
	}
	n.listen("pod")

	probes := append(flowProbes(t, m, lists),
		// The node's own pods reach it (Calico's DefaultEndpointToHostAction
		// decides), on a port no other node may use.
		probe{from: "pod", to: "sto1-w-0", addr: "10.10.0.20", protocol: TCP, port: PortSSH, why: "a pod to its own node", wantReach: true})
	forbidden := forbiddenProbes(m)
	// Before the rules, the forbidden flows connect: what blocks them
	// afterwards is the ruleset.
	for _, p := range forbidden {
		p.wantReach = true
		n.check(t, p, "before loading the rules")
	}
	dir := t.TempDir()
	for _, a := range lists {
		rs, err := NFT(a)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, a.Region+".nft")
		if err := os.WriteFile(file, []byte(rs.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, node := range a.Nodes {
			if out, err := exec.Command(ipCmd, "netns", "exec", n.names[node.Name], nftCmd, "-f", file).CombinedOutput(); err != nil {
				t.Fatalf("load %s on %s: %v\n%s", file, node.Name, err, out)
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, p := range append(probes, forbidden...) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n.check(t, p, "with the rules")
		}()
	}
	wg.Wait()
	t.Logf("probed %d allowed and %d forbidden flows", len(probes), len(forbidden))
}

// flowProbes returns, for every flow of every region, a probe to the
// flow's first node from each kind of source it allows: a node (of
// another region when there is one), the admin host for the admin CIDRs,
// the outside host for anywhere.
func flowProbes(t *testing.T, m *topology.Model, lists []Allowlist) []probe {
	t.Helper()
	ips := map[string]string{}
	regions := map[string]string{}
	for _, node := range m.Nodes {
		ips[node.Name], regions[node.Name] = node.IP, node.Region
	}
	var out []probe
	for _, a := range lists {
		for _, f := range a.Flows {
			target := f.Nodes[0]
			node, admin, anywhere := "", false, false
			for _, s := range f.Sources {
				switch s.Kind {
				case SourceNode:
					if s.Node != target && (node == "" || regions[node] == a.Region) {
						node = s.Node
					}
				case SourceCIDR:
					admin = true
				case SourceAnywhere:
					anywhere = true
				}
			}
			var froms []string
			if node != "" {
				froms = append(froms, node)
			}
			if admin {
				froms = append(froms, "admin")
			}
			if anywhere {
				froms = append(froms, "outside")
			}
			if len(froms) == 0 {
				t.Fatalf("%s %s: no source to probe from", a.Region, f.Name)
			}
			for _, from := range froms {
				out = append(out, probe{from: from, to: target, addr: ips[target], protocol: f.Protocol, port: f.Ports.From,
					why: a.Region + " " + f.Name, wantReach: true})
			}
		}
	}
	return out
}

// forbiddenProbes are flows the allowlists must drop.
func forbiddenProbes(m *topology.Model) []probe {
	ip := func(name string) string {
		for _, n := range m.Nodes {
			if n.Name == name {
				return n.IP
			}
		}
		return ""
	}
	return []probe{
		{from: "sto2-w-0", to: "sto1-w-0", addr: ip("sto1-w-0"), protocol: TCP, port: PortKubelet, why: "kubelet from a worker of another region"},
		{from: "sto1-w-1", to: "sto1-w-0", addr: ip("sto1-w-0"), protocol: TCP, port: PortKubelet, why: "kubelet from a worker of the same region"},
		{from: "sto2-w-0", to: "sto1-cp-0", addr: ip("sto1-cp-0"), protocol: TCP, port: PortEtcdClient, why: "etcd client from a non-member"},
		{from: "sto1-s-0", to: "osl1-cp-0", addr: ip("osl1-cp-0"), protocol: TCP, port: PortEtcdPeer, why: "etcd peer from a non-member"},
		{from: "outside", to: "sto1-cp-0", addr: ip("sto1-cp-0"), protocol: TCP, port: PortSSH, why: "SSH from outside the admin CIDRs"},
		{from: "sto2-w-1", to: "sto2-s-0", addr: ip("sto2-s-0"), protocol: TCP, port: PortSSH, why: "SSH from a node, not an admin"},
		{from: "outside", to: "sto2-cp-0", addr: ip("sto2-cp-0"), protocol: TCP, port: PortAPI, why: "the API from outside the topology"},
		{from: "outside", to: "osl1-cp-0", addr: ip("osl1-cp-0"), protocol: TCP, port: PortKubelet, why: "the kubelet from outside the topology"},
		{from: "outside", to: "sto2-w-0", addr: ip("sto2-w-0"), protocol: UDP, port: PortWireGuard, why: "WireGuard from outside the topology"},
		{from: "admin", to: "sto1-w-0", addr: ip("sto1-w-0"), protocol: TCP, port: PortAPI, why: "the API port on a worker"},
		{from: "outside", to: "osl1-cp-0", addr: ip("osl1-cp-0"), protocol: TCP, port: PortHTTPS, why: "HTTPS on the arbiter, which serves no ingress"},
		{from: "outside", to: "sto1-w-0", addr: ip("sto1-w-0"), protocol: TCP, port: nodePort, why: "a NodePort, DNATed to a pod, from outside the topology"},
		{from: "sto2-w-0", to: "sto1-w-0", addr: ip("sto1-w-0"), protocol: TCP, port: nodePort, why: "a NodePort, DNATed to a pod, from a node"},
	}
}

// netns holds the namespaces of one test run.
type netns struct {
	t      *testing.T
	ip     string
	prefix string
	names  map[string]string
}

func newNetns(t *testing.T, ipCmd string) *netns {
	n := &netns{t: t, ip: ipCmd, prefix: fmt.Sprintf("stfw%d-", os.Getpid()), names: map[string]string{}}
	probe := n.prefix + "probe"
	if out, err := exec.Command(ipCmd, "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("the kernel refuses network namespaces here (they need root: CAP_SYS_ADMIN and CAP_NET_ADMIN): ip netns add: %v: %s", err, bytes.TrimSpace(out))
	}
	_ = exec.Command(ipCmd, "netns", "delete", probe).Run()
	return n
}

// add creates the namespace of key and deletes it when the test ends.
func (n *netns) add(key string) string {
	n.t.Helper()
	name := n.prefix + key
	n.run("netns", "add", name)
	n.names[key] = name
	n.t.Cleanup(func() {
		if out, err := exec.Command(n.ip, "netns", "delete", name).CombinedOutput(); err != nil {
			n.t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return name
}

// run runs ip with args and fails the test when it fails.
func (n *netns) run(args ...string) {
	n.t.Helper()
	if out, err := exec.Command(n.ip, args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// inNS runs fn on an OS thread that has entered the namespace of key.
// Sockets keep the namespace they were made in, so listeners made here
// serve from any goroutine. The thread is never unlocked: Go ends it
// with the goroutine instead of reusing a thread in another namespace.
func (n *netns) inNS(key string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + n.names[key])
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.names[key], err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// listen starts, in the node's namespace, a TCP listener on each port of
// listenTCP that accepts and closes, and a UDP socket on each port of
// listenUDP that echoes; all are closed when the test ends.
func (n *netns) listen(key string) {
	n.t.Helper()
	err := n.inNS(key, func() error {
		for _, p := range listenTCP {
			l, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p))
			if err != nil {
				return err
			}
			n.t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		}
		for _, p := range listenUDP {
			pc, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", p))
			if err != nil {
				return err
			}
			n.t.Cleanup(func() { pc.Close() })
			go func() {
				buf := make([]byte, 64)
				for {
					k, addr, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					_, _ = pc.WriteTo(buf[:k], addr)
				}
			}()
		}
		return nil
	})
	if err != nil {
		n.t.Fatalf("listen in %s: %v", key, err)
	}
}

// reach reports whether p's source reaches p's address and port: a TCP
// connection, or a UDP datagram answered by the echo.
func (n *netns) reach(p probe, timeout time.Duration) (bool, error) {
	reached := false
	err := n.inNS(p.from, func() error {
		addr := net.JoinHostPort(p.addr, fmt.Sprint(p.port))
		d := net.Dialer{Timeout: timeout}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := d.DialContext(ctx, p.protocol+"4", addr)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return err
		}
		defer c.Close()
		if p.protocol == TCP {
			reached = true
			return nil
		}
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
		if _, err := c.Write([]byte("stretch")); err != nil {
			return err
		}
		buf := make([]byte, 16)
		k, err := c.Read(buf)
		reached = err == nil && string(buf[:k]) == "stretch"
		return nil
	})
	return reached, err
}

// check probes p and reports a result other than p.wantReach.
func (n *netns) check(t *testing.T, p probe, when string) {
	timeout := forbiddenTimeout
	if p.wantReach {
		timeout = allowedTimeout
	}
	got, err := n.reach(p, timeout)
	switch {
	case err != nil:
		t.Errorf("%s: %s %s:%d from %s to %s: %v", when, p.protocol, p.addr, p.port, p.from, p.to, err)
	case got != p.wantReach:
		t.Errorf("%s: %s (%s %s:%d from %s to %s): reached %v, want %v", when, p.why, p.protocol, p.addr, p.port, p.from, p.to, got, p.wantReach)
	}
}
