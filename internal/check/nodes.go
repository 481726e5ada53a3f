package check

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// nodeChecks are the checks of the nodes layer.
func nodeChecks() []Check {
	return []Check{
		{
			ID: "NODE001", Layer: LayerNodes, Severity: SeverityError,
			Title: "Every node of the topology is registered",
			Doc: "Each node of the topology file must exist as a Node. A missing node is a machine that " +
				"never joined (or was removed): its region runs with less capacity than planned, and " +
				"etcd or Ceph may count on it.",
			Needs: []Kind{KindNodes},
			Run:   checkNodesRegistered,
		},
		{
			ID: "NODE002", Layer: LayerNodes, Severity: SeverityError,
			Title: "Every node carries its region as topology.kubernetes.io/zone",
			Doc: "The zone label is the key of every zone spread constraint, of Rook's failure domain and " +
				"of the mons' placement. A node without it, or with another region's name, is invisible " +
				"to the spread or counted in the wrong region. Kubespray sets it from node_labels in the " +
				"rendered inventory.",
			Needs: []Kind{KindNodes},
			Run:   checkZoneLabels,
		},
		{
			ID: "NODE003", Layer: LayerNodes, Severity: SeverityError,
			Title: "Every node carries the topology name as topology.kubernetes.io/region",
			Doc: "Rook puts the region label above the zone in the CRUSH map, and its topology check " +
				"refuses a zone that appears under two regions. Every node carries the topology's name.",
			Needs: []Kind{KindNodes},
			Run:   checkRegionLabels,
		},
		{
			ID: "NODE004", Layer: LayerNodes, Severity: SeverityError,
			Title: "Arbiter and storage nodes carry their stretch.dev labels, and no other node does",
			Doc: "stretch.dev/arbiter=true marks the arbiter region's nodes and stretch.dev/storage=true the " +
				"storage nodes. Rook's OSD placement selects on the storage label: a worker that carries " +
				"it gets OSDs, a storage node without it gets none.",
			Needs: []Kind{KindNodes},
			Run:   checkRoleLabels,
		},
		{
			ID: "NODE005", Layer: LayerNodes, Severity: SeverityError,
			Title: "Arbiter, storage and dedicated control-plane nodes carry their taints, and no other node does",
			Doc: "The stretch.dev/arbiter taint keeps workloads out of the arbiter region, which only " +
				"runs etcd, a Ceph mon and the control plane; the stretch.dev/storage taint keeps them off " +
				"dedicated storage nodes; kubeadm's control-plane taint keeps them off control planes that " +
				"are neither workers nor storage nodes. The same taint on another node takes it away from " +
				"the workloads.",
			Needs: []Kind{KindNodes},
			Run:   checkTaints,
		},
		{
			ID: "NODE006", Layer: LayerNodes, Severity: SeverityWarning,
			Title: "Nodes outside the topology carry a region's zone label",
			Doc: "A node that is not in the topology file still runs pods. Without a zone label naming " +
				"one of the regions the zone spread does not count it and the capacity checks cannot place " +
				"it: add it to the topology and render again.",
			Needs: []Kind{KindNodes},
			Run:   checkUnknownNodes,
		},
		{
			ID: "NODE007", Layer: LayerNodes, Severity: SeverityError,
			Title: "Every node of the topology is Ready",
			Doc: "A node that is not Ready runs nothing: its region has less capacity, and the etcd, mon " +
				"and workload checks count what it hosts as lost.",
			Needs: []Kind{KindNodes},
			Run:   checkNodesReady,
		},
	}
}

func checkNodesRegistered(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	for _, n := range m.Nodes {
		if idx.nodes[n.Name] == nil {
			out = append(out, fail(nodeRef(n.Name),
				"node %s (region %s, roles %s) is not in the cluster: join it (Kubespray's scale.yml with the rendered inventory) or remove it from the topology",
				n.Name, n.Region, strings.Join(v1alpha1.RoleNames(n.Roles), ", ")))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("all %d nodes of the topology are registered", len(m.Nodes)))
	}
	return out
}

// checkLabel checks one label of every registered topology node against
// the value want returns ("" means the label must be absent).
func checkLabel(s *Snapshot, m *topology.Model, key string, want func(topology.NodeModel) string, why string) []Result {
	idx := s.index(m)
	var out []Result
	checked := 0
	for n, node := range idx.present(m) {
		checked++
		got, has := node.Labels[key]
		w := want(n)
		switch {
		case w == "" && has:
			out = append(out, fail(nodeRef(n.Name), "node %s carries %s=%s but %s: run \"kubectl label node %s %s-\"",
				n.Name, key, got, why, n.Name, key))
		case w != "" && !has:
			out = append(out, fail(nodeRef(n.Name), "node %s has no %s label (want %s): run \"kubectl label node %s %s=%s\" (Kubespray sets it from node_labels in the rendered inventory)",
				n.Name, key, w, n.Name, key, w))
		case w != "" && got != w:
			out = append(out, fail(nodeRef(n.Name), "node %s has %s=%s, want %s: run \"kubectl label node %s %s=%s --overwrite\"",
				n.Name, key, got, w, n.Name, key, w))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("the %s label of all %d registered topology nodes is right", key, checked))
	}
	return out
}

func checkZoneLabels(s *Snapshot, m *topology.Model) []Result {
	return checkLabel(s, m, topology.LabelZone, func(n topology.NodeModel) string { return n.Region }, "")
}

func checkRegionLabels(s *Snapshot, m *topology.Model) []Result {
	return checkLabel(s, m, topology.LabelRegion, func(topology.NodeModel) string { return m.Name }, "")
}

func checkRoleLabels(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	for _, key := range []string{topology.LabelArbiter, topology.LabelStorage} {
		res := checkLabel(s, m, key, func(n topology.NodeModel) string { return n.Labels[key] },
			"the topology does not give the node that role")
		for _, r := range res {
			if r.Status != StatusPass {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, pass("the arbiter and storage labels match the topology"))
	}
	return out
}

func checkTaints(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	managed := []string{topology.TaintArbiter, topology.TaintStorage, topology.TaintControlPlane}
	for n, node := range idx.present(m) {
		want := n.InstalledTaints()
		for _, t := range want {
			if !slices.ContainsFunc(node.Spec.Taints, func(nt corev1.Taint) bool {
				return nt.Key == t.Key && nt.Value == t.Value && string(nt.Effect) == t.Effect
			}) {
				out = append(out, fail(nodeRef(n.Name), "node %s lacks the taint %s: run \"kubectl taint node %s %s --overwrite\" (%s)",
					n.Name, t, n.Name, t, taintOrigin(t)))
			}
		}
		for _, nt := range node.Spec.Taints {
			if !slices.Contains(managed, nt.Key) {
				continue
			}
			if !slices.ContainsFunc(want, func(t topology.Taint) bool {
				return nt.Key == t.Key && nt.Value == t.Value && string(nt.Effect) == t.Effect
			}) {
				t := topology.Taint{Key: nt.Key, Value: nt.Value, Effect: string(nt.Effect)}
				out = append(out, fail(nodeRef(n.Name), "node %s carries the taint %s, which the topology does not give it: run \"kubectl taint node %s %s-\"",
					n.Name, t, n.Name, t))
			}
		}
	}
	if len(out) == 0 {
		out = append(out, pass("the arbiter, storage and control-plane taints match the topology"))
	}
	return out
}

// taintOrigin says what puts taint t on a node.
func taintOrigin(t topology.Taint) string {
	if t.Key == topology.TaintControlPlane {
		return "kubeadm sets it on control planes that are neither workers nor storage nodes"
	}
	return "Kubespray sets it from node_taints in the rendered inventory"
}

func checkUnknownNodes(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	regions := make([]string, 0, len(m.Regions))
	for _, r := range m.Regions {
		regions = append(regions, r.Name)
	}
	var out []Result
	extra := 0
	for i := range s.Nodes {
		node := &s.Nodes[i]
		if idx.topo[node.Name] != nil {
			continue
		}
		extra++
		zone, has := node.Labels[topology.LabelZone]
		switch {
		case !has:
			out = append(out, fail(nodeRef(node.Name), "node %s is not in the topology and has no %s label: the zone spread ignores it; add it to the topology and render again, or label it with one of %s",
				node.Name, topology.LabelZone, strings.Join(regions, ", ")))
		case !slices.Contains(regions, zone):
			out = append(out, fail(nodeRef(node.Name), "node %s is not in the topology and its %s label %q is not a region (%s): add it to the topology and render again, or fix the label",
				node.Name, topology.LabelZone, zone, strings.Join(regions, ", ")))
		}
	}
	if len(out) == 0 {
		if extra == 0 {
			return []Result{pass("every node is in the topology")}
		}
		return []Result{pass("%d node(s) outside the topology all carry a region's zone label", extra)}
	}
	return out
}

func checkNodesReady(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var out []Result
	readyCount := 0
	for n, node := range idx.present(m) {
		if ready(node) {
			readyCount++
			continue
		}
		out = append(out, fail(nodeRef(n.Name), "node %s in region %s is not Ready (%s): check its kubelet and network; if the whole region %s is down, the other checks show what it takes with it",
			n.Name, n.Region, readyReason(node), n.Region))
	}
	if len(out) == 0 {
		out = append(out, pass("all %d registered topology nodes are Ready", readyCount))
	}
	return out
}

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// count formats n things: "1 mon", "2 mons".
func count(n int, one, many string) string { return fmt.Sprintf("%d %s", n, plural(n, one, many)) }

// allOf names n things as the subject of a pass message: "the workload",
// "all 3 workloads", or none when n is 0 (callers say so their own way).
func allOf(n int, one, many string) string {
	if n == 1 {
		return "the " + one
	}
	return fmt.Sprintf("all %d %s", n, many)
}
