package v1alpha1

// Verdict is what drill predicts for a workload when a region is lost.
type Verdict string

// The verdicts. Only recovers and unaffected let drill exit 0.
const (
	// VerdictUnaffected means the workload has no pod in the lost region
	// (or only DaemonSet pods, which are not meant to move).
	VerdictUnaffected Verdict = "unaffected"
	// VerdictRecovers means a controller recreates the lost pods and they
	// fit in the surviving regions.
	VerdictRecovers Verdict = "recovers"
	// VerdictHangs means the lost pods are never replaced until the lost
	// region's nodes are fenced: a StatefulSet's pod on an unreachable node
	// stays Terminating.
	VerdictHangs Verdict = "hangs"
	// VerdictPending means replacements are created but no surviving node
	// can run them: they stay Pending.
	VerdictPending Verdict = "pending"
	// VerdictLost means nothing recreates the pods: a bare Pod.
	VerdictLost Verdict = "lost"
)

// DrillReport is drill's prediction of the loss of one region (kubectl
// stretch drill -o json or yaml).
type DrillReport struct {
	// APIVersion is stretch.dev/v1alpha1 (APIVersion).
	APIVersion string `json:"apiVersion"`
	// Kind is DrillReport (KindDrillReport).
	Kind string `json:"kind"`
	// Topology is the name of the topology.
	Topology string `json:"topology"`
	// LostRegion is the region whose loss is predicted.
	LostRegion string `json:"lostRegion"`
	// Fenced is true when the prediction assumes the lost region's nodes
	// are fenced (drill --fence).
	Fenced bool `json:"fenced"`
	// RTOSeconds is --rto in seconds: a workload predicted to take longer
	// fails; 0 when not given.
	RTOSeconds int64 `json:"rtoSeconds,omitempty"`
	// Unavailable says why kinds could not be listed; the report is then
	// partial. Omitted when every kind was listed.
	Unavailable []VerifyUnavailable `json:"unavailable,omitempty"`
	// Platform is what happens to etcd, the API server and Ceph.
	Platform DrillPlatform `json:"platform"`
	// Workloads holds one prediction per workload, sorted by namespace,
	// kind and name; empty (not null) when there is none.
	Workloads []DrillWorkload `json:"workloads"`
}

// DrillPlatform is the prediction for the cluster's own services.
type DrillPlatform struct {
	// EtcdQuorum is true when a majority of etcd members is left.
	EtcdQuorum bool `json:"etcdQuorum"`
	// APIServer is true when a control plane is left.
	APIServer bool `json:"apiServer"`
	// CephMonQuorum is true when a majority of the Ceph mons is left.
	CephMonQuorum bool `json:"cephMonQuorum"`
	// CephStretchDegraded is true when Ceph runs in degraded stretch mode
	// after the loss: a data region is lost, the mons keep their quorum,
	// and the pools serve from the surviving region's two copies with
	// min_size 1 until the region returns. Losing the arbiter leaves
	// stretch mode healthy. Expected, not a failure.
	CephStretchDegraded bool `json:"cephStretchDegraded"`
	// IngressEndpoints is the number of Ready endpoints of the ingress
	// controller left outside the lost region: the Ready pods behind the
	// NodePort and LoadBalancer Services that serve port 80 or 443, and
	// the pods that bind those ports on their node (hostPort or
	// hostNetwork).
	IngressEndpoints int `json:"ingressEndpoints"`
	// IngressEndpointsBefore is the same count before the loss; when it is
	// above 0 and IngressEndpoints is 0, the ingress is lost.
	IngressEndpointsBefore int `json:"ingressEndpointsBefore"`
	// Reasons say how each was counted, one line each.
	Reasons []string `json:"reasons"`
}

// DrillWorkload is the prediction for one workload.
type DrillWorkload struct {
	// Kind is Deployment, StatefulSet, DaemonSet, Pod, or the kind of
	// another owner.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Verdict is the prediction.
	Verdict Verdict `json:"verdict"`
	// Reason says why, and what to do when the verdict is not recovers.
	Reason string `json:"reason"`
	// Available is true when at least one Ready replica stays outside the
	// lost region throughout.
	Available bool `json:"available"`
	// PodsLost is how many of its pods run in the lost region.
	PodsLost int `json:"podsLost"`
	// RecoverySeconds is the predicted time until the lost pods run
	// again elsewhere; 0 when nothing is lost or nothing recovers.
	RecoverySeconds int64 `json:"recoverySeconds"`
	// PDB is the namespace/name of the PodDisruptionBudget that selects
	// the workload's pods, when one does.
	PDB string `json:"pdb,omitempty"`
	// PDBViolated is true when fewer pods stay Ready during the outage
	// than the PDB's minAvailable or maxUnavailable allow. Taint-based
	// eviction does not honour PDBs, so this is a fact, not a failure.
	PDBViolated bool `json:"pdbViolated,omitempty"`
	// Failed is true when the workload counts as a failure of the drill
	// (a verdict other than recovers and unaffected, or a recovery slower
	// than --rto).
	Failed bool `json:"failed"`
	// SpreadReturnSeconds is how long after the lost region came back
	// every topology spread constraint of the workload was again within
	// its maxSkew (drill --execute, after the restore); nil when it was
	// not measured, or when the spread did not return before the drill's
	// timeout. Kubernetes does not move pods back by itself: the spread
	// returns when a descheduler evicts the surplus pods (the topology's
	// spec.workloads.rebalance) or the workload is rolled out again.
	SpreadReturnSeconds *int64 `json:"spreadReturnSeconds,omitempty"`
}
