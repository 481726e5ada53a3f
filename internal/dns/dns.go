// Package dns holds the health-checked DNS records of the bundle's
// network/dns/ folder: the typed records file the dns blueprint writes
// (the API endpoint and the ingress host, each with the addresses of the
// nodes that serve it and the health check a DNS service runs on each),
// its rules, and an RFC 1035 zone-file snippet written from it.
//
// The records are not Kubernetes objects: a DNS service with health checks
// reads them (see docs/DNS.md), Flux never applies them.
package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// The records file's apiVersion and kind.
const (
	APIVersion = v1alpha1.APIVersion
	Kind       = v1alpha1.KindDNSRecords
)

// MaxTTL is the largest TTL a record may have, in seconds: a resolver
// keeps a dead region's address at most this long after the health check
// removed it.
const MaxTTL = 60

// Purposes of a record.
const (
	// PurposeAPI is the Kubernetes API endpoint (spec.kubernetes.apiEndpoint).
	PurposeAPI = "api"
	// PurposeIngress is the applications' host (spec.ingress.host).
	PurposeIngress = "ingress"
)

// Health check protocols.
const (
	ProtocolHTTPS = "HTTPS"
	ProtocolHTTP  = "HTTP"
)

// Records is network/dns/records.yaml.
type Records struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Records    []Record `json:"records"`
}

// Record is one name and the addresses it resolves to while healthy.
type Record struct {
	// Name is the fully qualified name, without the trailing dot.
	Name string `json:"name"`
	// Purpose is PurposeAPI or PurposeIngress.
	Purpose string `json:"purpose"`
	// TTL is in seconds, 1 to MaxTTL.
	TTL int `json:"ttl"`
	// Targets are the addresses, one per serving node; each is answered
	// (as A or AAAA) only while its health check passes.
	Targets []Target `json:"targets"`
	// HealthCheck is run against each target's address.
	HealthCheck HealthCheck `json:"healthCheck"`
}

// Target is one address of a record and the node behind it.
type Target struct {
	Address string `json:"address"`
	Node    string `json:"node"`
	Region  string `json:"region"`
}

// HealthCheck is an HTTP(S) GET that must answer 2xx.
type HealthCheck struct {
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
	Path     string `json:"path"`
	// Host, when set, is the Host header (and TLS server name) sent; the
	// ingress controller routes on it.
	Host string `json:"host,omitempty"`
}

// URL returns the check's URL for one target address.
func (h HealthCheck) URL(address string) string {
	a, err := netip.ParseAddr(address)
	host := address
	if err == nil && a.Is6() {
		host = "[" + address + "]"
	}
	return fmt.Sprintf("%s://%s:%d%s", strings.ToLower(h.Protocol), host, h.Port, h.Path)
}

// Type returns the record type of an address: A or AAAA.
func (t Target) Type() string {
	if a, err := netip.ParseAddr(t.Address); err == nil && a.Is6() && !a.Is4In6() {
		return "AAAA"
	}
	return "A"
}

// Validate checks the records a blueprint or a mixin produced, and returns
// every problem as "FIELD: MESSAGE", fields named by their path in the
// file (records[0].targets[1].address).
func (r *Records) Validate() []string {
	var errs []string
	add := func(field, format string, args ...any) {
		errs = append(errs, field+": "+fmt.Sprintf(format, args...))
	}
	if r.APIVersion != APIVersion {
		add("apiVersion", "must be %s, got %q", APIVersion, r.APIVersion)
	}
	if r.Kind != Kind {
		add("kind", "must be %s, got %q", Kind, r.Kind)
	}
	seen := map[string]int{}
	for i, rec := range r.Records {
		f := fmt.Sprintf("records[%d]", i)
		if msgs := validation.IsDNS1123Subdomain(rec.Name); len(msgs) > 0 {
			add(f+".name", "%q is not a DNS name: %s", rec.Name, strings.Join(msgs, "; "))
		} else if j, dup := seen[rec.Name]; dup {
			add(f+".name", "duplicate name %s (also records[%d])", rec.Name, j)
		} else {
			seen[rec.Name] = i
		}
		if rec.Purpose != PurposeAPI && rec.Purpose != PurposeIngress {
			add(f+".purpose", "must be %s or %s, got %q", PurposeAPI, PurposeIngress, rec.Purpose)
		}
		if rec.TTL < 1 || rec.TTL > MaxTTL {
			add(f+".ttl", "must be 1 to %d seconds, got %d", MaxTTL, rec.TTL)
		}
		if len(rec.Targets) == 0 {
			add(f+".targets", "at least one address is required")
		}
		addrs := map[string]int{}
		for j, t := range rec.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			a, err := netip.ParseAddr(t.Address)
			switch {
			case err != nil || a.Zone() != "":
				add(tf+".address", "%q is not an IP address", t.Address)
			case a.Is4In6():
				add(tf+".address", "%s is an IPv4-mapped IPv6 address; write %s", t.Address, a.Unmap())
			default:
				if k, dup := addrs[a.String()]; dup {
					add(tf+".address", "duplicate address %s (also targets[%d])", t.Address, k)
				}
				addrs[a.String()] = j
			}
			if msgs := validation.IsDNS1123Subdomain(t.Node); len(msgs) > 0 {
				add(tf+".node", "%q is not a node name: %s", t.Node, strings.Join(msgs, "; "))
			}
			if msgs := validation.IsDNS1123Label(t.Region); len(msgs) > 0 {
				add(tf+".region", "%q is not a region name: %s", t.Region, strings.Join(msgs, "; "))
			}
		}
		h := rec.HealthCheck
		hf := f + ".healthCheck"
		if h.Protocol != ProtocolHTTPS && h.Protocol != ProtocolHTTP {
			add(hf+".protocol", "must be %s or %s, got %q", ProtocolHTTPS, ProtocolHTTP, h.Protocol)
		}
		if h.Port < 1 || h.Port > 65535 {
			add(hf+".port", "must be 1 to 65535, got %d", h.Port)
		}
		if !validPath(h.Path) {
			add(hf+".path", "must start with \"/\" and hold only printable ASCII without spaces, got %q", h.Path)
		}
		if h.Host != "" {
			if msgs := validation.IsDNS1123Subdomain(h.Host); len(msgs) > 0 {
				add(hf+".host", "%q is not a DNS name: %s", h.Host, strings.Join(msgs, "; "))
			}
		}
	}
	return errs
}

// validPath reports whether p is an absolute URL path of printable ASCII
// with no space, so that it can sit in a zone-file comment and a URL.
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > 1024 {
		return false
	}
	return !slices.ContainsFunc([]byte(p), func(c byte) bool { return c <= ' ' || c >= 0x7f })
}
