package dns

import (
	"net/netip"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Health checks of the records: the API server's readiness endpoint on its
// secure port, and the ingress's health path over HTTPS.
const (
	APIPort       = 6443
	APIHealthPath = "/readyz"
	IngressPort   = 443
)

// Build returns the records of a model as the dns blueprint writes them
// (a test holds the two equal): the API endpoint with every control
// plane, the ingress host with the data regions' workers, each node by its
// publicIP or, without one, its ip. A name that is an IP address, and a
// topology without ingress, get no record. verify --dns reads it to know
// which addresses each name must resolve to.
func Build(m *topology.Model) *Records {
	r := &Records{APIVersion: APIVersion, Kind: Kind, Records: []Record{}}
	if api := m.Kubernetes.APIEndpoint; !isIP(api) {
		rec := Record{Name: api, Purpose: PurposeAPI, TTL: MaxTTL,
			HealthCheck: HealthCheck{Protocol: ProtocolHTTPS, Port: APIPort, Path: APIHealthPath}}
		for _, n := range m.Nodes {
			if n.ControlPlane {
				rec.Targets = append(rec.Targets, target(n))
			}
		}
		r.Records = append(r.Records, rec)
	}
	if in := m.Ingress; in != nil && !isIP(in.Host) {
		rec := Record{Name: in.Host, Purpose: PurposeIngress, TTL: MaxTTL,
			HealthCheck: HealthCheck{Protocol: ProtocolHTTPS, Port: IngressPort, Path: in.HealthPath, Host: in.Host}}
		for _, n := range m.Nodes {
			if n.Worker && !n.Arbiter {
				rec.Targets = append(rec.Targets, target(n))
			}
		}
		r.Records = append(r.Records, rec)
	}
	return r
}

func target(n topology.NodeModel) Target {
	addr := n.PublicIP
	if addr == "" {
		addr = n.IP
	}
	return Target{Address: addr, Node: n.Name, Region: n.Region}
}

// isIP is the blueprint's test: an IPv6 address has a colon, an IPv4
// address only digits and dots.
func isIP(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	for _, c := range s {
		if c == ':' {
			return true
		}
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
