package rook

// CEL health expressions for Flux's Kustomization.spec.healthCheckExprs.
// kstatus, which `wait: true` uses, does not read Rook's status, so without
// them Flux calls the storage stage ready as soon as the objects exist.
// Rook v1.20.6 sets status.phase to Ready, Progressing or Failure
// (pkg/operator/ceph/controller/conditions.go for the CephCluster,
// pkg/operator/ceph/pool/controller.go for pools), copies Ceph's health
// into status.ceph.health (pkg/operator/ceph/cluster/cephstatus.go) and
// records status.observedGeneration with the phase. Every field is guarded
// with has(), since Rook writes them one after the other.
const (
	// fresh is true when the status describes the current spec.
	fresh = "(!has(status.observedGeneration) || status.observedGeneration == metadata.generation)"

	// ClusterHealthCurrent: Rook reconciled the cluster and Ceph is up. A
	// HEALTH_WARN passes: a new cluster often warns for a while (a clock
	// skew, a slow mon), and verify reports it.
	ClusterHealthCurrent = "has(status.phase) && status.phase == 'Ready' && " + fresh +
		" && has(status.ceph) && has(status.ceph.health) && status.ceph.health in ['HEALTH_OK', 'HEALTH_WARN']"
	// PhaseFailed: Rook gave up on the object.
	PhaseFailed = "has(status.phase) && status.phase == 'Failure'"
	// PoolHealthCurrent: the pool exists in Ceph with its spec.
	PoolHealthCurrent = "has(status.phase) && status.phase == 'Ready' && " + fresh
)
