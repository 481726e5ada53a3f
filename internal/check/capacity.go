package check

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// capacityNeeds are the kinds the capacity checks read.
var capacityNeeds = []Kind{KindNodes, KindPods, KindDeployments, KindStatefulSets, KindReplicaSets, KindHPAs}

// capacityChecks are the checks of the capacity layer.
func capacityChecks() []Check {
	return []Check{
		{
			ID: "CAP001", Layer: LayerCapacity, Severity: SeverityError,
			Title: "Each data region alone can run every workload",
			Doc: "When a data region is lost, the other one must run everything. For each data region " +
				"the check adds up the CPU and memory requests of every Deployment and StatefulSet in the " +
				"user namespaces at its full replicas (or its HPA's minReplicas) and compares them with " +
				"what the region's schedulable nodes (not cordoned, no NoSchedule taint such as the " +
				"storage or control-plane ones) have allocatable, minus what other pods (DaemonSets, " +
				"system pods) already request there.",
			Needs: capacityNeeds,
			Run:   checkRegionCapacity,
		},
		{
			ID: "CAP002", Layer: LayerCapacity, Severity: SeverityError,
			Title: "Each data region has a node big enough for every workload's pod",
			Doc: "Enough CPU and memory in total is not enough if it is spread over nodes that are each " +
				"too small: every workload's pod must fit on at least one schedulable node of each data " +
				"region, after what other pods request there.",
			Needs: capacityNeeds,
			Run:   checkPodFits,
		},
	}
}

// free is what a node can still give to workload pods.
type free struct {
	node        string
	cpu, memory resource.Quantity
}

// regionFree returns, by data region, the schedulable nodes' allocatable
// minus the requests of pods that are not workload pods.
func regionFree(s *Snapshot, m *topology.Model) map[string][]free {
	idx := s.index(m)
	onNodes := podsOnNodes(s)
	out := map[string][]free{}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		region := idx.regions[n.Name]
		if region == "" || region == m.Arbiter || !schedulable(n) {
			continue
		}
		f := free{node: n.Name, cpu: quantity(n.Status.Allocatable, corev1.ResourceCPU), memory: quantity(n.Status.Allocatable, corev1.ResourceMemory)}
		for _, p := range onNodes[n.Name] {
			if idx.owner[p.UID] != nil {
				continue // a workload pod: counted in the demand
			}
			req := podRequests(&p.Spec)
			f.cpu.Sub(quantity(req, corev1.ResourceCPU))
			f.memory.Sub(quantity(req, corev1.ResourceMemory))
		}
		out[region] = append(out[region], f)
	}
	return out
}

func checkRegionCapacity(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	var cpu, memory resource.Quantity
	workloads := 0
	for _, w := range idx.workloads {
		n := w.desired()
		if w.Replicas == 0 || n == 0 {
			continue
		}
		workloads++
		req := podRequests(&w.Template.Spec)
		for range n {
			cpu.Add(quantity(req, corev1.ResourceCPU))
			memory.Add(quantity(req, corev1.ResourceMemory))
		}
	}
	frees := regionFree(s, m)
	var out []Result
	var parts []string
	for _, r := range m.Data {
		var haveCPU, haveMem resource.Quantity
		var names []string
		for _, f := range frees[r] {
			haveCPU.Add(f.cpu)
			haveMem.Add(f.memory)
			names = append(names, f.node)
		}
		parts = append(parts, fmt.Sprintf("%s has %s CPU and %s memory", r, haveCPU.String(), haveMem.String()))
		if haveCPU.Cmp(cpu) >= 0 && haveMem.Cmp(memory) >= 0 {
			continue
		}
		nodes := "no schedulable node"
		if len(names) > 0 {
			nodes = "its schedulable nodes (" + strings.Join(names, ", ") + ")"
		}
		out = append(out, fail("", "region %s alone cannot run the workloads: at full replicas they request %s CPU and %s memory, %s have %s CPU and %s memory left; add nodes or capacity to %s, or lower the requests",
			r, cpu.String(), memory.String(), nodes, haveCPU.String(), haveMem.String(), r))
	}
	if len(out) == 0 {
		out = append(out, pass("%s %s %s CPU and %s memory at full replicas; %s",
			count(workloads, "workload", "workloads"), plural(workloads, "requests", "request"), cpu.String(), memory.String(), strings.Join(parts, ", ")))
	}
	return out
}

func checkPodFits(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	frees := regionFree(s, m)
	var out []Result
	checked := 0
	for _, w := range idx.workloads {
		if w.desired() == 0 {
			continue
		}
		checked++
		req := podRequests(&w.Template.Spec)
		cpu, mem := quantity(req, corev1.ResourceCPU), quantity(req, corev1.ResourceMemory)
		for _, r := range m.Data {
			fits := false
			for _, f := range frees[r] {
				if f.cpu.Cmp(cpu) >= 0 && f.memory.Cmp(mem) >= 0 {
					fits = true
					break
				}
			}
			if !fits {
				out = append(out, fail(w.ref(), "a pod of %s requests %s CPU and %s memory, and no schedulable node of %s has that much left: add a bigger node to %s or lower the requests",
					w.ref(), cpu.String(), mem.String(), r, r))
			}
		}
	}
	if len(out) == 0 {
		if checked == 0 {
			return []Result{pass("no workload to place")}
		}
		out = append(out, pass("the pods of %s fit on a node of each data region", allOf(checked, "workload", "workloads")))
	}
	return out
}
