// Package drill predicts what the loss of one region does to a cluster,
// workload by workload, from one snapshot of it (internal/check's
// Snapshot): the pods lost, whether a controller recreates them, whether
// the replacements fit on the surviving nodes, whether a Ready replica
// stays, whether the outage violates a PodDisruptionBudget, and how long
// recovery takes; and whether etcd, the API server and the Ceph mons keep
// their quorum, whether Ceph runs in degraded stretch mode, and how many
// ingress endpoints are left.
//
// The placement filters are the project's own, written after
// kube-scheduler's plugins of the same name: NodeAffinity (nodeSelector
// and required node affinity), TaintToleration, NodeResourcesFit (CPU,
// memory and the pod count against allocatable minus what already runs),
// VolumeBinding (a bound volume's node affinity, a missing claim),
// PodTopologySpread (DoNotSchedule constraints, with nodeTaintsPolicy,
// nodeAffinityPolicy, minDomains and matchLabelKeys) and InterPodAffinity
// (required affinity and anti-affinity, the existing pods' anti-affinity
// included). A volume that only one node may attach holds a replacement
// that is not a StatefulSet's until the region is fenced. The simulated
// cluster's real kube-scheduler judges the filters in the app tests.
//
// Not modelled: ScheduleAnyway constraints, preferred affinities and the
// scheduler's scoring (drill names the first node that fits), pod
// affinity namespaceSelectors other than {} (the snapshot has no
// namespaces' labels), extended resources beyond allocatable, dynamic
// resource claims, volume limits, and owners beyond a pod's controller.
// docs/DRILL.md explains every verdict with the Kubernetes rule behind it.
//
// After a drill's restore, WaitSpreadReturn (spreadreturn.go) measures how
// long each workload's topology spread takes to be within its maxSkew
// again, the report's spreadReturnSeconds: Kubernetes never moves a running
// pod back, a descheduler does (the topology's spec.workloads.rebalance).
package drill
