package v1alpha1

// RegionRole is what a region holds: data or the arbiter.
type RegionRole string

// Region roles. A Topology has exactly two data regions and one arbiter.
const (
	// RegionRoleData holds nodes of every role, storage included.
	RegionRoleData RegionRole = "data"
	// RegionRoleArbiter holds the tie-breaking etcd member and Ceph mon,
	// and no data.
	RegionRoleArbiter RegionRole = "arbiter"
)

// NodeRole is one job of a node.
type NodeRole string

// Node roles.
const (
	// NodeRoleControlPlane runs the Kubernetes control plane.
	NodeRoleControlPlane NodeRole = "control-plane"
	// NodeRoleEtcd runs an etcd member.
	NodeRoleEtcd NodeRole = "etcd"
	// NodeRoleWorker runs workloads.
	NodeRoleWorker NodeRole = "worker"
	// NodeRoleStorage runs Ceph OSDs on the node's devices (data regions
	// only).
	NodeRoleStorage NodeRole = "storage"
)

// NodeRoles lists the valid node roles in the order they are documented.
var NodeRoles = []NodeRole{NodeRoleControlPlane, NodeRoleEtcd, NodeRoleWorker, NodeRoleStorage}

// RoleNames returns roles as plain strings, for messages.
func RoleNames(roles []NodeRole) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// EncryptionMode is how traffic between nodes is encrypted.
type EncryptionMode string

// Encryption modes of the inter-node network.
const (
	// EncryptionWireGuard encrypts node and pod traffic with Calico's
	// WireGuard (the default).
	EncryptionWireGuard EncryptionMode = "wireguard"
	// EncryptionNone sends it in clear text; it needs allowUnencrypted.
	EncryptionNone EncryptionMode = "none"
)

// ReclaimPolicy is what happens to a block pool's volume when its claim
// is deleted.
type ReclaimPolicy string

// Reclaim policies of a block pool's StorageClass.
const (
	// ReclaimDelete deletes the volume (the default).
	ReclaimDelete ReclaimPolicy = "Delete"
	// ReclaimRetain keeps it.
	ReclaimRetain ReclaimPolicy = "Retain"
)

// Topology is the root object of a topology file: a cluster stretched over
// two data regions and an arbiter region. Every field below that names a
// default is optional; internal/topology fills it in (Default) before it
// validates the whole (Validate). Fields without a default are required
// unless their doc says otherwise.
type Topology struct {
	// APIVersion is stretch.dev/v1alpha1 (APIVersion). Required.
	APIVersion string `json:"apiVersion"`
	// Kind is Topology (KindTopology). Required.
	Kind string `json:"kind"`
	// Metadata names the topology. Required.
	Metadata Metadata `json:"metadata"`
	// Spec describes the cluster. Required.
	Spec Spec `json:"spec"`
}

// Metadata names the topology.
type Metadata struct {
	// Name becomes the topology.kubernetes.io/region label of every node;
	// a DNS-1123 label. Required, no default.
	Name string `json:"name"`
}

// Spec describes the cluster.
type Spec struct {
	// Kubernetes holds the cluster-wide Kubernetes settings. Required.
	Kubernetes Kubernetes `json:"kubernetes"`
	// Network describes the underlay between the regions. Required
	// (interRegionRTTms has no default).
	Network Network `json:"network"`
	// AdminCIDRs are the networks operators and CI reach the API and SSH
	// from. At least one; no default.
	AdminCIDRs []string `json:"adminCIDRs"`
	// Regions are the three regions: two with role data and one with role
	// arbiter. Required, no default.
	Regions []Region `json:"regions"`
	// Storage configures Rook and Ceph. Optional: every field has a
	// default, and blockPools may be empty.
	Storage Storage `json:"storage"`
	// Workloads lists the user's workloads to spread-patch. Optional
	// (default: none, minReplicas 2).
	Workloads Workloads `json:"workloads"`
	// Ingress is the public entry point for applications. Optional
	// (default: none).
	Ingress *Ingress `json:"ingress,omitempty"`
	// GitOps says where Flux finds the rendered bundle. Optional: every
	// field has a default.
	GitOps GitOps `json:"gitops"`
}

// Kubernetes holds the cluster-wide Kubernetes settings.
type Kubernetes struct {
	// Version is a Kubespray kube_version, without a leading "v", like
	// 1.35.4. Required, no default.
	Version string `json:"version"`
	// APIEndpoint is the DNS name (or IP) clients use for the API server.
	// Required, no default.
	APIEndpoint string `json:"apiEndpoint"`
	// PodSubnet is the pods' CIDR (default 10.233.64.0/18, Kubespray's).
	PodSubnet string `json:"podSubnet"`
	// ServiceSubnet is the services' CIDR (default 10.233.0.0/18,
	// Kubespray's); it must not overlap PodSubnet.
	ServiceSubnet string `json:"serviceSubnet"`
}

// Network describes the underlay between the regions.
type Network struct {
	// Encryption is wireguard or none (default wireguard).
	Encryption EncryptionMode `json:"encryption"`
	// AllowUnencrypted must be true for encryption none (default false).
	AllowUnencrypted bool `json:"allowUnencrypted"`
	// UnderlayMTU is the MTU of the node network (default 1500).
	UnderlayMTU int `json:"underlayMTU"`
	// InterRegionRTTms is the worst round-trip time between two regions,
	// in milliseconds. Required, no default.
	InterRegionRTTms int `json:"interRegionRTTms"`
}

// Region is one of the three regions.
type Region struct {
	// Name becomes the topology.kubernetes.io/zone label of the region's
	// nodes; a DNS-1123 label. Required, no default.
	Name string `json:"name"`
	// Role is data or arbiter. Required, no default.
	Role RegionRole `json:"role"`
	// Nodes are the region's machines. At least one; no default.
	Nodes []Node `json:"nodes"`
}

// Node is one machine.
type Node struct {
	// Name is the node's Kubernetes name; a DNS-1123 subdomain. Required,
	// no default.
	Name string `json:"name"`
	// IP is the node's address on the private network. Required, no
	// default.
	IP string `json:"ip"`
	// PublicIP is the node's public address. Optional (default: none).
	PublicIP string `json:"publicIP"`
	// Roles are the node's jobs, at least one of control-plane, etcd,
	// worker and storage. Required, no default.
	Roles []NodeRole `json:"roles"`
	// CPU and Memory are the node's allocatable resources, as quantities.
	// Optional (default: none).
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
	// Devices are the raw disks Ceph may use on a storage node. Required
	// on a storage node, forbidden on others; no default.
	Devices []string `json:"devices"`
}

// Storage configures Rook and Ceph.
type Storage struct {
	// Rook configures the Rook operator (every field has a default).
	Rook Rook `json:"rook"`
	// Ceph configures the CephCluster (every field has a default).
	Ceph Ceph `json:"ceph"`
	// BlockPools are the replicated RBD pools, each with its
	// StorageClass. Optional (default: none).
	BlockPools []BlockPool `json:"blockPools"`
}

// Rook configures the Rook operator.
type Rook struct {
	// Version is the rook-ceph Helm chart version (default v1.20.6).
	Version string `json:"version"`
	// Namespace holds the operator and the CephCluster (default rook-ceph).
	Namespace string `json:"namespace"`
}

// Ceph configures the CephCluster.
type Ceph struct {
	// Image is the Ceph image (default quay.io/ceph/ceph:v20.2.4).
	Image string `json:"image"`
	// DataDirHostPath is where Ceph keeps its state on each host (default
	// /var/lib/rook).
	DataDirHostPath string `json:"dataDirHostPath"`
}

// BlockPool is a replicated RBD pool with its StorageClass.
type BlockPool struct {
	// Name is the pool's name. Required, no default.
	Name string `json:"name"`
	// StorageClass names the pool's StorageClass. Required, no default.
	StorageClass string `json:"storageClass"`
	// Default makes the StorageClass the cluster's default (default
	// false; at most one pool).
	Default bool `json:"default"`
	// ReclaimPolicy is Delete or Retain (default Delete).
	ReclaimPolicy ReclaimPolicy `json:"reclaimPolicy"`
}

// Workloads lists the user's workloads to spread-patch.
type Workloads struct {
	// MinReplicas is the smallest replica count a spread workload gets
	// (default 2).
	MinReplicas int `json:"minReplicas"`
	// EvictionSeconds is how long the pods of the workloads render patches
	// stay bound to a node that is unreachable or not ready before they are
	// evicted and replaced: the tolerationSeconds of their NoExecute
	// tolerations of node.kubernetes.io/unreachable and
	// node.kubernetes.io/not-ready, which replace any the pod template
	// has. Optional, 0 to 3600 (default: unset, the tolerations are left
	// alone and Kubernetes' DefaultTolerationSeconds admission gives the
	// pods 300 s). A short value speeds fail-over but also moves pods on a
	// brief network partition.
	EvictionSeconds *int `json:"evictionSeconds,omitempty"`
	// Sources are the sets of workloads. Optional (default: none).
	Sources []Source `json:"sources"`
}

// Source is one set of workloads: a folder of YAML, a kustomize folder or a
// Helm chart. Exactly one of Path, Kustomize and Helm is set.
type Source struct {
	// Name names the output folder workloads/<name>/ (default: derived
	// from the path, the kustomize folder or the Helm release).
	Name string `json:"name"`
	// Path is a folder of YAML manifests (default: none).
	Path string `json:"path"`
	// Kustomize is a kustomize folder (default: none).
	Kustomize string `json:"kustomize"`
	// Helm is a chart rendered in-process (default: none).
	Helm *HelmSource `json:"helm,omitempty"`
}

// HelmSource is a chart rendered in-process.
type HelmSource struct {
	// Chart is the chart's folder or archive. Required, no default.
	Chart string `json:"chart"`
	// Release is the Helm release name, a DNS-1123 subdomain of at most
	// 53 characters. Required, no default.
	Release string `json:"release"`
	// Namespace is the release's namespace (default "default").
	Namespace string `json:"namespace"`
	// ValuesFiles are values files, applied in order (default: none).
	ValuesFiles []string `json:"valuesFiles"`
}

// Ingress describes the public entry point for applications.
type Ingress struct {
	// Host is the public DNS name. Required, no default.
	Host string `json:"host"`
	// HealthPath is the path the health check requests, like /healthz.
	// Required, no default.
	HealthPath string `json:"healthPath"`
}

// GitOps says where Flux finds the rendered bundle.
type GitOps struct {
	// SourceName is the Flux GitRepository (default flux-system).
	SourceName string `json:"sourceName"`
	// Path is the bundle's folder inside the Git repository (default ".").
	Path string `json:"path"`
	// ChartMirrors replace the upstream address of Helm repositories the
	// bundle installs charts from, by the name of the bundle's
	// HelmRepository (rook-release, ceph-csi-operator): for air-gapped
	// and sovereign-cloud clusters that reach no public chart repository.
	// Optional; an unnamed repository keeps its upstream address.
	ChartMirrors []ChartMirror `json:"chartMirrors,omitempty"`
}

// ChartMirror is a Helm chart repository that serves the same charts as
// one the bundle installs from.
type ChartMirror struct {
	// Name is the bundle's HelmRepository the mirror replaces.
	Name string `json:"name"`
	// URL is the mirror: http:// or https:// for a Helm repository
	// (index.yaml), oci:// for an OCI registry (the HelmRepository gets
	// type oci).
	URL string `json:"url"`
}
