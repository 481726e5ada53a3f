package rook

// Ceph's health states and the health-check codes verify and the simulated
// Ceph read and write, as Rook copies them into a CephCluster's
// status.ceph.health and status.ceph.details (Ceph
// src/mon/health_check.h and the monitors' health checks).
const (
	HealthOK   = "HEALTH_OK"
	HealthWarn = "HEALTH_WARN"
	HealthErr  = "HEALTH_ERR"

	CheckMonDown             = "MON_DOWN"
	CheckOSDDown             = "OSD_DOWN"
	CheckOSDHostDown         = "OSD_HOST_DOWN"
	CheckOSDZoneDown         = "OSD_ZONE_DOWN"
	CheckDegradedStretchMode = "DEGRADED_STRETCH_MODE"
)

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
		" && has(status.ceph) && has(status.ceph.health) && status.ceph.health in ['" + HealthOK + "', '" + HealthWarn + "']"
	// PhaseFailed: Rook gave up on the object.
	PhaseFailed = "has(status.phase) && status.phase == 'Failure'"
	// PoolHealthCurrent: the pool exists in Ceph with its spec.
	PoolHealthCurrent = "has(status.phase) && status.phase == 'Ready' && " + fresh
)
