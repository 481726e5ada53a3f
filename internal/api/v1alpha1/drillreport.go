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
	// Execution is how the region was lost and observed (drill
	// --execute); omitted in plan mode.
	Execution *DrillExecution `json:"execution,omitempty"`
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
	// Observed is what drill --execute saw; omitted in plan mode.
	Observed *DrillObservation `json:"observed,omitempty"`
	// Match is true when Observed agrees with the prediction (same
	// verdict and availability, a recovery within the tolerance); omitted
	// in plan mode.
	Match *bool `json:"match,omitempty"`
	// Difference says how the observation differs from the prediction;
	// omitted when they match.
	Difference string `json:"difference,omitempty"`
}

// The ways drill --execute loses a region (DrillExecution.Via).
const (
	// DrillViaTaint taints every node of the region with DrillTaintKey,
	// effect NoExecute: their pods are evicted while the nodes stay Ready.
	DrillViaTaint = "taint"
	// DrillViaSim stops the region of a simulated cluster (as sim fail
	// does): its nodes stop answering and turn NotReady, as in an outage.
	DrillViaSim = "sim"
)

// DrillTaintKey is the key of the NoExecute taint drill --execute --via
// taint puts on the lost region's nodes, and that restore removes.
const DrillTaintKey = "drill." + Group + "/lost"

// DrillExecution says how drill --execute lost the region and how long it
// watched. Durations are seconds counted from the start of the outage, not
// timestamps, so that two runs compare.
type DrillExecution struct {
	// Via is DrillViaTaint or DrillViaSim.
	Via string `json:"via"`
	// TimeoutSeconds is --timeout: the observation stops then.
	TimeoutSeconds int64 `json:"timeoutSeconds"`
	// ToleranceSeconds and TolerancePercent make an observed recovery
	// match the predicted one when they differ by at most the larger of
	// ToleranceSeconds and TolerancePercent of the prediction.
	ToleranceSeconds int64 `json:"toleranceSeconds"`
	TolerancePercent int64 `json:"tolerancePercent"`
	// ObservedSeconds is how long the observation lasted.
	ObservedSeconds int64 `json:"observedSeconds"`
	// TimedOut is true when the observation stopped at TimeoutSeconds, not
	// because every workload had settled.
	TimedOut bool `json:"timedOut"`
	// Restored is true when the cluster was restored: the drill's taints
	// removed, the simulated region healed, the record deleted.
	Restored bool `json:"restored"`
	// RestoreSeconds is how long the restore took (a simulated region's
	// heal is most of it).
	RestoreSeconds int64 `json:"restoreSeconds"`
	// Platform is what was seen of the platform at the end of the
	// observation.
	Platform DrillPlatformObservation `json:"platform"`
}

// DrillPlatformObservation is the platform as drill --execute saw it. A
// nil field was not observed.
type DrillPlatformObservation struct {
	// APIServer is true when the API server answered throughout.
	APIServer bool `json:"apiServer"`
	// EtcdQuorum is true when a majority of the topology's etcd members
	// ran on Ready nodes at the end; not observed with --via taint, whose
	// nodes stay Ready.
	EtcdQuorum *bool `json:"etcdQuorum,omitempty"`
	// CephMonQuorum is true when a majority of the mon pods were Ready at
	// the end; not observed when no mon pod runs.
	CephMonQuorum *bool `json:"cephMonQuorum,omitempty"`
	// Reasons say how each was counted, one line each.
	Reasons []string `json:"reasons"`
}

// DrillObservation is what drill --execute saw of one workload.
type DrillObservation struct {
	// Verdict is the observed outcome: recovers when every replica was
	// Ready outside the lost region again before the timeout; else
	// pending (a replacement stayed unscheduled), hangs (a lost pod was
	// never replaced) or lost (a bare Pod); unaffected when no pod ran in
	// the lost region.
	Verdict Verdict `json:"verdict"`
	// Available is true when at least one replica stayed Ready outside the
	// lost region throughout.
	Available bool `json:"available"`
	// MinReady is the fewest Ready replicas outside the lost region seen
	// during the drill.
	MinReady int `json:"minReady"`
	// RecoverySeconds is when, counted from the outage, every replica was
	// Ready outside the lost region again; 0 when it never was.
	RecoverySeconds int64 `json:"recoverySeconds"`
}
