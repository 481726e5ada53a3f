// Package drill predicts what the loss of one region does to a cluster,
// workload by workload, from one snapshot of it (internal/check's
// Snapshot): the pods lost, whether a controller recreates them, whether
// the replacements fit on the surviving nodes, whether a Ready replica
// stays, and how long recovery takes; and whether etcd, the API server and
// the Ceph mons keep their quorum.
//
// The placement filters are the project's own, written after
// kube-scheduler's plugins of the same name: NodeAffinity (nodeSelector
// and required node affinity), TaintToleration, NodeResourcesFit (CPU,
// memory and the pod count against allocatable minus what already runs)
// and PodTopologySpread (DoNotSchedule constraints, with nodeTaintsPolicy
// and nodeAffinityPolicy). PVCs, their volumes' node affinity, PDBs and
// inter-pod affinity are not modelled yet. docs/DRILL.md explains every
// verdict with the Kubernetes rule behind it.
//
// After a drill's restore, WaitSpreadReturn (spreadreturn.go) measures how
// long each workload's topology spread takes to be within its maxSkew
// again, the report's spreadReturnSeconds: Kubernetes never moves a running
// pod back, a descheduler does (the topology's spec.workloads.rebalance).
package drill
