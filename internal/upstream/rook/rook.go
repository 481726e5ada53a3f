// Package rook holds the subset of Rook's ceph.rook.io/v1 types that a
// stretch cluster uses: CephCluster and CephBlockPool. Field names follow
// github.com/rook/rook pkg/apis/ceph.rook.io/v1/types.go (v1.20.6); fields
// the bundle passes through unchanged are kept as raw JSON.
package rook

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion of every Rook object here.
const APIVersion = "ceph.rook.io/v1"

// CephCluster is a Rook CephCluster.
type CephCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ClusterSpec     `json:"spec"`
	Status            json.RawMessage `json:"status,omitempty"`
}

// ClusterSpec is CephCluster.spec.
type ClusterSpec struct {
	DataDirHostPath                            string               `json:"dataDirHostPath"`
	CephVersion                                CephVersion          `json:"cephVersion"`
	Mon                                        MonSpec              `json:"mon"`
	Mgr                                        MgrSpec              `json:"mgr"`
	Storage                                    StorageSpec          `json:"storage"`
	Placement                                  map[string]Placement `json:"placement,omitempty"`
	PriorityClassNames                         map[string]string    `json:"priorityClassNames,omitempty"`
	DisruptionManagement                       json.RawMessage      `json:"disruptionManagement,omitempty"`
	Dashboard                                  json.RawMessage      `json:"dashboard,omitempty"`
	Network                                    json.RawMessage      `json:"network,omitempty"`
	Monitoring                                 json.RawMessage      `json:"monitoring,omitempty"`
	HealthCheck                                json.RawMessage      `json:"healthCheck,omitempty"`
	CrashCollector                             json.RawMessage      `json:"crashCollector,omitempty"`
	LogCollector                               json.RawMessage      `json:"logCollector,omitempty"`
	CleanupPolicy                              json.RawMessage      `json:"cleanupPolicy,omitempty"`
	Resources                                  json.RawMessage      `json:"resources,omitempty"`
	Annotations                                json.RawMessage      `json:"annotations,omitempty"`
	Labels                                     json.RawMessage      `json:"labels,omitempty"`
	Security                                   json.RawMessage      `json:"security,omitempty"`
	CSI                                        json.RawMessage      `json:"csi,omitempty"`
	CephConfig                                 json.RawMessage      `json:"cephConfig,omitempty"`
	SkipUpgradeChecks                          *bool                `json:"skipUpgradeChecks,omitempty"`
	ContinueUpgradeAfterChecksEvenIfNotHealthy *bool                `json:"continueUpgradeAfterChecksEvenIfNotHealthy,omitempty"`
	UpgradeOSDRequiresHealthyPGs               *bool                `json:"upgradeOSDRequiresHealthyPGs,omitempty"`
	RemoveOSDsIfOutAndSafeToRemove             *bool                `json:"removeOSDsIfOutAndSafeToRemove,omitempty"`
	WaitTimeoutForHealthyOSDInMinutes          *int                 `json:"waitTimeoutForHealthyOSDInMinutes,omitempty"`
}

// CephVersion selects the Ceph image.
type CephVersion struct {
	Image            string `json:"image"`
	AllowUnsupported bool   `json:"allowUnsupported,omitempty"`
	ImagePullPolicy  string `json:"imagePullPolicy,omitempty"`
}

// MonSpec configures the mons.
type MonSpec struct {
	Count                int                 `json:"count"`
	AllowMultiplePerNode bool                `json:"allowMultiplePerNode,omitempty"`
	FailureDomainLabel   string              `json:"failureDomainLabel,omitempty"`
	StretchCluster       *StretchClusterSpec `json:"stretchCluster,omitempty"`
	Zones                []MonZoneSpec       `json:"zones,omitempty"`
}

// DefaultFailureDomainLabel is the node label Rook reads a stretch zone
// from when spec.mon.stretchCluster.failureDomainLabel is not set.
const DefaultFailureDomainLabel = "topology.kubernetes.io/zone"

// StretchClusterSpec turns on stretch mode.
type StretchClusterSpec struct {
	FailureDomainLabel string        `json:"failureDomainLabel,omitempty"`
	SubFailureDomain   string        `json:"subFailureDomain,omitempty"`
	Zones              []MonZoneSpec `json:"zones"`
}

// MonZoneSpec is one zone of the stretch cluster.
type MonZoneSpec struct {
	Name    string `json:"name"`
	Arbiter bool   `json:"arbiter,omitempty"`
}

// MgrSpec configures the mgrs.
type MgrSpec struct {
	Count                int             `json:"count,omitempty"`
	AllowMultiplePerNode bool            `json:"allowMultiplePerNode,omitempty"`
	Modules              json.RawMessage `json:"modules,omitempty"`
}

// StorageSpec selects the OSD nodes and devices.
type StorageSpec struct {
	UseAllNodes    bool            `json:"useAllNodes"`
	UseAllDevices  bool            `json:"useAllDevices"`
	DeviceFilter   string          `json:"deviceFilter,omitempty"`
	Nodes          []StorageNode   `json:"nodes,omitempty"`
	Config         json.RawMessage `json:"config,omitempty"`
	StorageClassDS json.RawMessage `json:"storageClassDeviceSets,omitempty"`
}

// StorageNode is one OSD node; Name matches its kubernetes.io/hostname.
type StorageNode struct {
	Name    string          `json:"name"`
	Devices []Device        `json:"devices,omitempty"`
	Config  json.RawMessage `json:"config,omitempty"`
}

// Device is a raw disk on an OSD node.
type Device struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}

// Placement is a Rook placement: node affinity and tolerations.
type Placement struct {
	NodeAffinity              *corev1.NodeAffinity              `json:"nodeAffinity,omitempty"`
	PodAffinity               *corev1.PodAffinity               `json:"podAffinity,omitempty"`
	PodAntiAffinity           *corev1.PodAntiAffinity           `json:"podAntiAffinity,omitempty"`
	Tolerations               []corev1.Toleration               `json:"tolerations,omitempty"`
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
}

// CephBlockPool is a Rook CephBlockPool.
type CephBlockPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              PoolSpec        `json:"spec"`
	Status            json.RawMessage `json:"status,omitempty"`
}

// PoolSpec is CephBlockPool.spec.
type PoolSpec struct {
	// Name overrides the Ceph pool name; only .mgr, .nfs and .rgw.root.
	Name            string          `json:"name,omitempty"`
	FailureDomain   string          `json:"failureDomain,omitempty"`
	DeviceClass     string          `json:"deviceClass,omitempty"`
	CrushRoot       string          `json:"crushRoot,omitempty"`
	Replicated      ReplicatedSpec  `json:"replicated"`
	ErasureCoded    json.RawMessage `json:"erasureCoded,omitempty"`
	Parameters      json.RawMessage `json:"parameters,omitempty"`
	Application     string          `json:"application,omitempty"`
	CompressionMode string          `json:"compressionMode,omitempty"`
	EnableRBDStats  bool            `json:"enableRBDStats,omitempty"`
	Mirroring       json.RawMessage `json:"mirroring,omitempty"`
	Quotas          json.RawMessage `json:"quotas,omitempty"`
	StatusCheck     json.RawMessage `json:"statusCheck,omitempty"`
}

// ReplicatedSpec is a pool's replication.
type ReplicatedSpec struct {
	Size                     int     `json:"size"`
	RequireSafeReplicaSize   bool    `json:"requireSafeReplicaSize,omitempty"`
	ReplicasPerFailureDomain int     `json:"replicasPerFailureDomain,omitempty"`
	SubFailureDomain         string  `json:"subFailureDomain,omitempty"`
	TargetSizeRatio          float64 `json:"targetSizeRatio,omitempty"`
}

// Labels Rook puts on its daemon pods (rook pkg/operator/ceph/cluster/mon/
// spec.go, osd/labels.go). The simulated Rook writes them and verify reads
// them.
const (
	LabelApp = "app"
	AppMon   = "rook-ceph-mon"
	AppOSD   = "rook-ceph-osd"
	AppMgr   = "rook-ceph-mgr"
	// LabelMonID and LabelMonZone name a mon and its stretch zone.
	LabelMonID   = "mon"
	LabelMonZone = "zone"
	// LabelOSDID, LabelOSDZone and LabelOSDHost name an OSD and its CRUSH
	// location.
	LabelOSDID   = "ceph-osd-id"
	LabelOSDZone = "topology-location-zone"
	LabelOSDHost = "topology-location-host"
)
