package check

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// controlPlaneChecks are the checks of the control-plane layer.
func controlPlaneChecks() []Check {
	return []Check{
		{
			ID: "CP001", Layer: LayerControlPlane, Severity: SeverityError,
			Title: "Every region has a Ready control-plane node",
			Doc: "The topology puts a control plane in every region so that the API stays reachable when " +
				"any one region is lost. Each control-plane node of the topology must carry the " +
				"node-role.kubernetes.io/control-plane label (Kubespray's kube_control_plane group), and " +
				"every region needs at least one that is Ready.",
			Needs: []Kind{KindNodes},
			Run:   checkControlPlanes,
		},
		{
			ID: "CP002", Layer: LayerControlPlane, Severity: SeverityError,
			Title: "etcd keeps a majority when any one region is lost",
			Doc: "etcd needs a majority of its members. The topology's etcd nodes are its members; a " +
				"member counts as up when its node is Ready (and, where etcd runs as kubeadm static pods " +
				"labelled component=etcd, its pod is Running). For every region, the members up outside " +
				"it must still be a majority, so that losing that region keeps the API writable.",
			Needs: []Kind{KindNodes, KindPods},
			Run:   checkEtcdQuorum,
		},
		{
			ID: "CP003", Layer: LayerControlPlane, Severity: SeverityError,
			Title: "A kube-apiserver runs in every region",
			Doc: "Where the API servers run as static pods (kubeadm and Kubespray: pods labelled " +
				"component=kube-apiserver in kube-system), every region must have one Running on a Ready " +
				"node. Clusters whose API servers are not visible as pods skip this check; CP001 still " +
				"checks the control-plane nodes.",
			Needs: []Kind{KindNodes, KindPods},
			Run:   checkAPIServers,
		},
	}
}

func checkControlPlanes(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	for _, r := range m.Regions {
		var names, readyNames []string
		for _, name := range r.Nodes {
			n := idx.topo[name]
			if n == nil || !n.ControlPlane {
				continue
			}
			names = append(names, name)
			node := idx.nodes[name]
			if node == nil {
				continue // NODE001
			}
			if _, ok := node.Labels[labelControlPlane]; !ok {
				out = append(out, fail(nodeRef(name), "node %s is a control plane in the topology but has no %s label: it must be in Kubespray's kube_control_plane group (the rendered inventory puts it there); run cluster.yml",
					name, labelControlPlane))
				continue
			}
			if ready(node) {
				readyNames = append(readyNames, name)
			}
		}
		if len(readyNames) == 0 {
			out = append(out, fail("", "region %s has no Ready control-plane node (topology: %s): bring %s back; until then the API depends on the other regions",
				r.Name, strings.Join(names, ", "), strings.Join(names, " or ")))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("every region has a Ready control-plane node"))
	}
	return out
}

// etcdPods returns the Running etcd static pods by node name, and whether
// any etcd pod exists at all.
func etcdPods(s *Snapshot) (running map[string]bool, visible bool) {
	running = map[string]bool{}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Namespace != "kube-system" || p.Labels[labelComponent] != "etcd" {
			continue
		}
		visible = true
		if live(p) && p.Status.Phase == corev1.PodRunning {
			running[p.Spec.NodeName] = true
		}
	}
	return running, visible
}

func checkEtcdQuorum(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	pods, visible := etcdPods(s)
	var members, down []string
	up := map[string]bool{}
	for _, n := range m.Nodes {
		if !n.Etcd {
			continue
		}
		members = append(members, n.Name)
		node := idx.nodes[n.Name]
		if node != nil && ready(node) && (!visible || pods[n.Name]) {
			up[n.Name] = true
		} else {
			down = append(down, n.Name)
		}
	}
	total := len(members)
	need := total/2 + 1
	var out []Result
	downNote := ""
	if len(down) > 0 {
		downNote = "; down now: " + strings.Join(down, ", ") + " (bring them back)"
	}
	for _, r := range m.Regions {
		left := 0
		for _, name := range members {
			if up[name] && idx.topo[name].Region != r.Name {
				left++
			}
		}
		if left < need {
			out = append(out, fail("", "losing region %s would leave etcd %d of %d members, short of the majority of %d%s",
				r.Name, left, total, need, downNote))
		}
	}
	if len(out) == 0 {
		how := "their nodes are Ready"
		if visible {
			how = "their etcd pods are Running on Ready nodes"
		}
		out = append(out, pass("%d of %d etcd members are up (%s); a majority of %d survives the loss of any region",
			len(up), total, how, need))
	}
	return out
}

func checkAPIServers(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	perRegion := map[string]int{}
	visible := false
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Namespace != "kube-system" || p.Labels[labelComponent] != "kube-apiserver" {
			continue
		}
		visible = true
		node := idx.nodes[p.Spec.NodeName]
		if live(p) && p.Status.Phase == corev1.PodRunning && node != nil && ready(node) {
			perRegion[idx.regions[p.Spec.NodeName]]++
		}
	}
	if !visible {
		return []Result{skip("no kube-apiserver pods are visible in kube-system (the API servers do not run as static pods here): CP001 checks the control-plane nodes instead")}
	}
	var out []Result
	for _, r := range m.Regions {
		if perRegion[r.Name] == 0 {
			out = append(out, fail("", "no kube-apiserver pod is Running on a Ready node of region %s: check the kubelet and the static pod manifest (/etc/kubernetes/manifests/kube-apiserver.yaml) on its control-plane nodes",
				r.Name))
		}
	}
	if len(out) == 0 {
		parts := make([]string, 0, len(m.Regions))
		for _, r := range m.Regions {
			parts = append(parts, r.Name+": "+count(perRegion[r.Name], "kube-apiserver", "kube-apiservers"))
		}
		out = append(out, pass("%s", strings.Join(parts, ", ")))
	}
	return out
}
