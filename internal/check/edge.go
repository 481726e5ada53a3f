package check

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/dns"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Edge is what verify saw of the cluster's edge outside the API's
// objects: the server the kubeconfig names, the certificate the API server
// served, and, with --dns, what the records' names resolve to.
type Edge struct {
	// Server is the kubeconfig's server URL (rest.Config.Host).
	Server string
	// CertNames are the DNS names and IP addresses of the API server's
	// serving certificate, read from the TLS handshake; nil with CertErr
	// set when it could not be read.
	CertNames []string
	CertErr   error
	// DNS is true when verify resolved the records (--dns).
	DNS bool
	// Lookups are the answers for each record's name, in the records'
	// order.
	Lookups []Lookup
}

// Lookup is what one name resolved to.
type Lookup struct {
	Name  string
	Addrs []string
	Err   error
}

// EdgeOptions says how ReadEdge looks.
type EdgeOptions struct {
	// DNS resolves the records' names.
	DNS bool
	// DNSServer, when set, is the DNS server (HOST:PORT, or HOST for port
	// 53) asked instead of the system's resolver: a split-horizon server,
	// or a test's.
	DNSServer string
	// Timeout bounds each of the two steps: reading the certificate, and
	// resolving the names (at once).
	Timeout time.Duration
}

// ReadEdge reads the kubeconfig's server, the API server's certificate
// (one GET /readyz through the kubeconfig's own transport, so the
// certificate is the one its CA trusts) and, with opts.DNS, resolves the
// names of the model's DNS records. It never fails: what it could not read
// is recorded for the checks to report.
func ReadEdge(ctx context.Context, cfg *rest.Config, m *topology.Model, opts EdgeOptions) *Edge {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	e := &Edge{Server: cfg.Host}
	e.CertNames, e.CertErr = servingCert(ctx, cfg, timeout)
	if opts.DNS {
		e.DNS = true
		res := resolver(opts.DNSServer)
		recs := dns.Build(m).Records
		e.Lookups = make([]Lookup, len(recs))
		// The names are resolved at once, within one timeout.
		lctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var wg sync.WaitGroup
		for i, rec := range recs {
			wg.Go(func() {
				addrs, err := res.LookupNetIP(lctx, "ip", rec.Name)
				l := Lookup{Name: rec.Name, Err: err}
				for _, a := range addrs {
					l.Addrs = append(l.Addrs, a.Unmap().String())
				}
				slices.Sort(l.Addrs)
				l.Addrs = slices.Compact(l.Addrs)
				e.Lookups[i] = l
			})
		}
		wg.Wait()
	}
	return e
}

// resolver returns the system's resolver, or one that asks only server.
func resolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// servingCert returns the names of the certificate the API server serves.
func servingCert(ctx context.Context, cfg *rest.Config, timeout time.Duration) ([]string, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server %q is not a URL", cfg.Host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/readyz"
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil, errors.New("the API server served no TLS certificate")
	}
	return certNames(resp.TLS.PeerCertificates[0]), nil
}

// certNames lists a certificate's DNS names and IP addresses.
func certNames(c *x509.Certificate) []string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			names = append(names, a.Unmap().String())
		}
	}
	return names
}

// edgeChecks are the network layer's checks of the API endpoint and the
// DNS records (bundle folder network/dns/).
func edgeChecks() []Check {
	return []Check{
		{
			ID: "NET010", Layer: LayerNetwork, Severity: SeverityWarning,
			Title: "Clients can reach the API at its endpoint name",
			Doc: "Developers and CI should reach the API at spec.kubernetes.apiEndpoint, which DNS points at " +
				"the healthy regions' control planes, not at one node that dies with its region. The check " +
				"passes when the kubeconfig's server is the endpoint, or when the certificate the API server " +
				"serves (read from the TLS handshake of verify's connection) names it, so a kubeconfig switched " +
				"to the endpoint is trusted. The bundle sets Kubespray's supplementary_addresses_in_ssl_keys " +
				"(the certificate) and kube_apiserver_access_address (the server of the admin kubeconfig it " +
				"writes with kubeconfig_localhost). A warning, not a failure: the cluster itself still fails over.",
			Run: checkEndpoint,
		},
		{
			ID: "NET011", Layer: LayerNetwork, Severity: SeverityError,
			Title: "The API endpoint and the ingress host resolve to exactly the healthy regions' addresses",
			Doc: "With --dns (and --dns-server ADDR to ask one server, such as a split-horizon one), verify " +
				"resolves the names of the network/dns/ records and compares the answers with the addresses " +
				"of the records' nodes that are Ready: a missing address sends no traffic to a healthy " +
				"node, and an extra one (a lost region's, or one the topology does not know) sends clients to " +
				"a dead or foreign address until the TTL runs out. Skipped without --dns.",
			Needs: []Kind{KindNodes},
			Run:   checkDNSAnswers,
		},
	}
}

func checkEndpoint(s *Snapshot, m *topology.Model) []Result {
	e := s.Edge
	if e == nil {
		return []Result{skip("the API endpoint was not looked at")}
	}
	ep := m.Kubernetes.APIEndpoint
	if host := serverHost(e.Server); strings.EqualFold(host, ep) {
		return []Result{pass("the kubeconfig's server %s is the API endpoint", e.Server)}
	}
	if e.CertErr != nil {
		return []Result{fail("", "the kubeconfig's server is %s, not the API endpoint %s, and the API server's certificate could not be read (%v): "+
			"point the kubeconfig at https://%s:6443", e.Server, ep, e.CertErr, ep)}
	}
	for _, n := range e.CertNames {
		if matchName(n, ep) {
			return []Result{pass("the API server's certificate names the API endpoint %s (the kubeconfig uses %s; switch it to https://%s:6443 to survive a region)", ep, e.Server, ep)}
		}
	}
	return []Result{fail("", "the kubeconfig's server is %s, and the API server's certificate does not name the API endpoint %s (it names %s): "+
		"run Kubespray with the bundle's kubespray/ group_vars (supplementary_addresses_in_ssl_keys) to reissue it",
		e.Server, ep, strings.Join(e.CertNames, ", "))}
}

// serverHost returns the host of a server URL, without its port.
func serverHost(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// matchName reports whether a certificate name covers host: equal names or
// addresses, or a wildcard for its first label.
func matchName(name, host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		b, err := netip.ParseAddr(name)
		return err == nil && a.Unmap() == b.Unmap()
	}
	name, host = strings.ToLower(strings.TrimSuffix(name, ".")), strings.ToLower(strings.TrimSuffix(host, "."))
	if name == host {
		return true
	}
	rest, ok := strings.CutPrefix(name, "*.")
	_, after, found := strings.Cut(host, ".")
	return ok && found && after == rest
}

func checkDNSAnswers(s *Snapshot, m *topology.Model) []Result {
	e := s.Edge
	if e == nil || !e.DNS {
		return []Result{skip("run verify with --dns to resolve the API endpoint and the ingress host")}
	}
	recs := dns.Build(m).Records
	if len(recs) == 0 {
		return []Result{skip("the topology has no DNS records (the API endpoint is an address and there is no ingress)")}
	}
	nodes := s.index(m).nodes
	var out []Result
	for i, rec := range recs {
		var want, down []string
		for _, t := range rec.Targets {
			switch n, ok := nodes[t.Node]; {
			case !ok:
				down = append(down, t.Address+" ("+t.Node+", "+t.Region+", not in the cluster)")
			case !ready(n):
				down = append(down, t.Address+" ("+t.Node+", "+t.Region+", "+readyReason(n)+")")
			default:
				want = append(want, t.Address)
			}
		}
		slices.Sort(want)
		var l Lookup
		if i < len(e.Lookups) && e.Lookups[i].Name == rec.Name {
			l = e.Lookups[i]
		} else {
			l = Lookup{Name: rec.Name, Err: errors.New("not resolved")}
		}
		obj := "DNS/" + rec.Name
		if l.Err != nil {
			out = append(out, fail(obj, "%s (%s) does not resolve: %v; want %s", rec.Name, rec.Purpose, l.Err, strings.Join(want, ", ")))
			continue
		}
		var missing, extra []string
		for _, a := range want {
			if !slices.Contains(l.Addrs, a) {
				missing = append(missing, a)
			}
		}
		for _, a := range l.Addrs {
			if !slices.Contains(want, a) {
				why := "not an address of the record"
				for _, d := range down {
					if strings.HasPrefix(d, a+" ") {
						why = "its node is down: " + d
					}
				}
				extra = append(extra, a+" ["+why+"]")
			}
		}
		if len(missing) > 0 {
			out = append(out, fail(obj, "%s (%s) lacks %s, healthy: add it back to the record (is its health check failing?)", rec.Name, rec.Purpose, strings.Join(missing, ", ")))
		}
		if len(extra) > 0 {
			out = append(out, fail(obj, "%s (%s) also answers %s: the DNS service must stop answering it (health check, TTL at most %d s)", rec.Name, rec.Purpose, strings.Join(extra, "; "), dns.MaxTTL))
		}
	}
	if len(out) > 0 {
		return out
	}
	var names []string
	for _, l := range e.Lookups {
		names = append(names, l.Name+" -> "+strings.Join(l.Addrs, ", "))
	}
	return []Result{pass("%s", strings.Join(names, "; "))}
}
