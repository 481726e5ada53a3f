package check

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/firewall"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// firewallChecks are the network layer's checks of the firewall
// allowlists (internal/firewall) against what the cluster exposes.
func firewallChecks() []Check {
	return []Check{
		{
			ID: "NET020", Layer: LayerNetwork, Severity: SeverityError,
			Title: "No Service exposes a port the firewall allowlist does not open",
			Doc: "The allowlists of " + layout.DirFirewall + "/ open, from outside the nodes, only SSH and the API " +
				"to the admin CIDRs and HTTP and HTTPS on the ingress nodes to anyone; NodePorts are not " +
				"opened. A Service of type NodePort or LoadBalancer exposes its node ports on every node, " +
				"and a LoadBalancer its ports on the balancer: each must be a port the allowlist opens, or the " +
				"Service is either unreachable or needs a hole the allowlist does not have. verify derives the " +
				"allowlist from the topology with the blueprints' defaults (Calico VXLAN, no Typha, Ceph on the " +
				"pod network).",
			Needs: []Kind{KindServices},
			Run:   checkServiceExposure,
		},
	}
}

func checkServiceExposure(s *Snapshot, m *topology.Model) []Result {
	lists, err := firewall.Build(m, firewall.DefaultOptions(m))
	if err != nil {
		return []Result{fail("", "cannot derive the firewall allowlist from the topology: %v", err)}
	}
	var out []Result
	exposing := 0
	for _, svc := range s.Services {
		t := svc.Spec.Type
		if t != corev1.ServiceTypeNodePort && t != corev1.ServiceTypeLoadBalancer {
			continue
		}
		exposing++
		obj := ref("Service", svc.Namespace, svc.Name)
		for _, p := range svc.Spec.Ports {
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = firewall.TCP
			}
			name := p.Name
			if name == "" {
				name = fmt.Sprint(p.Port)
			}
			if p.NodePort != 0 {
				if _, ok := firewall.Opens(lists, proto, int(p.NodePort)); !ok {
					out = append(out, fail(obj, "%s %s exposes node port %s/%d on every node, which the firewall allowlist does not open: "+
						"use a ClusterIP Service behind the ingress (HTTP and HTTPS on the ingress nodes)%s",
						t, name, proto, p.NodePort, lbHint(t)))
				}
			}
			if t == corev1.ServiceTypeLoadBalancer {
				if _, ok := firewall.Opens(lists, proto, int(p.Port)); !ok {
					out = append(out, fail(obj, "LoadBalancer %s exposes %s/%d, which the firewall allowlist does not open: "+
						"serve it through the ingress host on 80 or 443", name, proto, p.Port))
				}
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if exposing == 0 {
		return []Result{pass("no Service of type NodePort or LoadBalancer")}
	}
	return []Result{pass("%d Service(s) of type NodePort or LoadBalancer expose only ports the firewall allowlist opens", exposing)}
}

// lbHint says how a LoadBalancer goes without node ports.
func lbHint(t corev1.ServiceType) string {
	if t == corev1.ServiceTypeLoadBalancer {
		return ", or set allocateLoadBalancerNodePorts: false with a balancer that reaches the pods directly"
	}
	return ""
}
