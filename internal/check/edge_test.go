package check

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/dns"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// healthyEdge is the edge of a healthy cluster: the kubeconfig names the
// endpoint, and every record resolves to all its addresses.
func healthyEdge(m *topology.Model) *Edge {
	e := &Edge{Server: "https://" + m.Kubernetes.APIEndpoint + ":6443", DNS: true}
	for _, r := range dns.Build(m).Records {
		l := Lookup{Name: r.Name}
		for _, t := range r.Targets {
			l.Addrs = append(l.Addrs, t.Address)
		}
		slices.Sort(l.Addrs)
		e.Lookups = append(e.Lookups, l)
	}
	return e
}

// withNotReady marks the nodes of region not Ready.
func withNotReady(s *Snapshot, m *topology.Model, region string) {
	for _, n := range m.Nodes {
		if n.Region != region {
			continue
		}
		for i := range s.Nodes {
			if s.Nodes[i].Name == n.Name {
				s.Nodes[i].Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown"}}
			}
		}
	}
}

// TestDNSAnswers resolves the example's names through a DNS server on
// loopback, with the right answers, a missing address and an extra one
// (a region that is down).
func TestDNSAnswers(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	all := map[string][]string{
		"api.demo.example.eu":  {"203.0.113.10", "203.0.113.20", "203.0.113.30"},
		"apps.demo.example.eu": {"10.10.0.20", "10.10.0.21", "10.20.0.20", "10.20.0.21"},
	}
	sto2Down := map[string][]string{
		"api.demo.example.eu":  {"203.0.113.10", "203.0.113.30"},
		"apps.demo.example.eu": {"10.10.0.20", "10.10.0.21"},
	}
	missing := map[string][]string{
		"api.demo.example.eu":  {"203.0.113.10", "203.0.113.30"},
		"apps.demo.example.eu": {"10.10.0.20", "10.10.0.21", "10.20.0.20", "10.20.0.21"},
	}
	foreign := map[string][]string{
		"api.demo.example.eu":  {"203.0.113.10", "203.0.113.20", "203.0.113.30", "198.51.100.99"},
		"apps.demo.example.eu": {"10.10.0.20", "10.10.0.21", "10.20.0.20", "10.20.0.21"},
	}
	for _, tc := range []struct {
		name    string
		answers map[string][]string
		down    string
		status  Status
		want    []string
	}{
		{"right answers", all, "", StatusPass, []string{"api.demo.example.eu -> 203.0.113.10, 203.0.113.20, 203.0.113.30; apps.demo.example.eu -> 10.10.0.20, 10.10.0.21, 10.20.0.20, 10.20.0.21"}},
		{"right answers with sto2 down", sto2Down, "sto2", StatusPass, []string{"api.demo.example.eu -> 203.0.113.10, 203.0.113.30;"}},
		{"missing address", missing, "", StatusFail, []string{"api.demo.example.eu (api) lacks 203.0.113.20, healthy"}},
		{"dead region still answered", all, "sto2", StatusFail, []string{
			"api.demo.example.eu (api) also answers 203.0.113.20 [its node is down: 203.0.113.20 (sto2-cp-0, sto2, Ready=Unknown (NodeStatusUnknown))]",
			"apps.demo.example.eu (ingress) also answers 10.20.0.20 [its node is down: 10.20.0.20 (sto2-w-0, sto2, Ready=Unknown (NodeStatusUnknown))]; 10.20.0.21",
		}},
		{"foreign address", foreign, "", StatusFail, []string{"also answers 198.51.100.99 [not an address of the record]"}},
		{"no record", map[string][]string{"api.demo.example.eu": all["api.demo.example.eu"]}, "", StatusFail, []string{"apps.demo.example.eu (ingress) does not resolve: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := testenv.DNSServer(t, tc.answers)
			s := healthy(m)
			if tc.down != "" {
				withNotReady(s, m, tc.down)
			}
			cfg := &rest.Config{Host: "http://127.0.0.1:1"} // no API server: only the lookups matter here
			s.Edge = ReadEdge(context.Background(), cfg, m, EdgeOptions{DNS: true, DNSServer: addr, Timeout: 5 * time.Second})
			results := checkDNSAnswers(s, m)
			var msgs []string
			for _, r := range results {
				msgs = append(msgs, string(r.Status)+": "+r.Message)
			}
			all := strings.Join(msgs, "\n")
			if overall(results) != tc.status {
				t.Errorf("status %s, want %s:\n%s", overall(results), tc.status, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("results lack %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestDNSAnswersSkippedWithoutDNS(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	s := healthy(m)
	s.Edge.DNS = false
	if r := checkDNSAnswers(s, m); overall(r) != StatusSkip || !strings.Contains(r[0].Message, "--dns") {
		t.Errorf("without --dns: %v", r)
	}
}

// tlsServer serves /readyz over TLS with a certificate naming names, and
// returns a rest.Config that trusts it.
func tlsServer(t *testing.T, names ...string) *rest.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}}
}

// TestEndpointCheck reads the certificate of a TLS server the test starts
// (the simulated cluster's kube-apiserver certificate names only
// loopback), with and without the API endpoint among its names.
func TestEndpointCheck(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	for _, tc := range []struct {
		name   string
		names  []string
		server string // the kubeconfig's server, when not the TLS server's
		status Status
		want   string
	}{
		{"certificate names the endpoint", []string{"127.0.0.1", "localhost", "api.demo.example.eu"}, "", StatusPass, "the API server's certificate names the API endpoint api.demo.example.eu (the kubeconfig uses https://127.0.0.1:"},
		{"wildcard certificate", []string{"127.0.0.1", "*.demo.example.eu"}, "", StatusPass, "names the API endpoint"},
		{"certificate lacks the endpoint", []string{"127.0.0.1", "localhost"}, "", StatusWarn, "does not name the API endpoint api.demo.example.eu (it names localhost, 127.0.0.1)"},
		{"kubeconfig names the endpoint", []string{"127.0.0.1"}, "https://API.demo.example.eu:6443", StatusPass, "the kubeconfig's server https://API.demo.example.eu:6443 is the API endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tlsServer(t, tc.names...)
			e := ReadEdge(context.Background(), cfg, m, EdgeOptions{Timeout: 5 * time.Second})
			if e.CertErr != nil {
				t.Fatalf("reading the certificate: %v", e.CertErr)
			}
			if tc.server != "" {
				e.Server = tc.server
			}
			s := healthy(m)
			s.Edge = e
			r := Run(s, m, []Check{edgeChecks()[0]})
			if len(r.Results) != 1 || r.Results[0].Status != tc.status || !strings.Contains(r.Results[0].Message, tc.want) {
				t.Errorf("got %+v, want %s containing %q", r.Results, tc.status, tc.want)
			}
		})
	}
}

// TestEndpointCheckWithoutCertificate: a plain-HTTP server serves no
// certificate; the check warns and says so.
func TestEndpointCheckWithoutCertificate(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	s := healthy(m)
	s.Edge = ReadEdge(context.Background(), &rest.Config{Host: srv.URL}, m, EdgeOptions{Timeout: 5 * time.Second})
	r := Run(s, m, []Check{edgeChecks()[0]})
	if len(r.Results) != 1 || r.Results[0].Status != StatusWarn || !strings.Contains(r.Results[0].Message, "could not be read (the API server served no TLS certificate)") {
		t.Errorf("got %+v", r.Results)
	}
}
