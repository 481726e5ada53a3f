package topology

// APIVersion and Kind identify a topology file.
const (
	Group      = "stretch.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
	Kind       = "Topology"
)

// Region roles.
const (
	RoleData    = "data"
	RoleArbiter = "arbiter"
)

// Node roles.
const (
	NodeRoleControlPlane = "control-plane"
	NodeRoleEtcd         = "etcd"
	NodeRoleWorker       = "worker"
	NodeRoleStorage      = "storage"
)

// NodeRoles lists the valid node roles in the order they are documented.
var NodeRoles = []string{NodeRoleControlPlane, NodeRoleEtcd, NodeRoleWorker, NodeRoleStorage}

// Encryption modes of the inter-node network.
const (
	EncryptionWireGuard = "wireguard"
	EncryptionNone      = "none"
)

// Topology is the root object of a topology file.
type Topology struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the topology. The name becomes the
// topology.kubernetes.io/region label of every node.
type Metadata struct {
	Name string `json:"name"`
}

// Spec describes the cluster.
type Spec struct {
	Kubernetes Kubernetes `json:"kubernetes"`
	Network    Network    `json:"network"`
	// AdminCIDRs are the networks operators and CI reach the API and SSH from.
	AdminCIDRs []string  `json:"adminCIDRs"`
	Regions    []Region  `json:"regions"`
	Storage    Storage   `json:"storage"`
	Workloads  Workloads `json:"workloads"`
	Ingress    *Ingress  `json:"ingress,omitempty"`
	GitOps     GitOps    `json:"gitops"`
}

// Kubernetes holds the cluster-wide Kubernetes settings.
type Kubernetes struct {
	// Version is a Kubespray kube_version, without a leading "v".
	Version string `json:"version"`
	// APIEndpoint is the DNS name clients use for the API server.
	APIEndpoint   string `json:"apiEndpoint"`
	PodSubnet     string `json:"podSubnet"`
	ServiceSubnet string `json:"serviceSubnet"`
}

// Network describes the underlay between the regions.
type Network struct {
	// Encryption is wireguard (default) or none.
	Encryption string `json:"encryption"`
	// AllowUnencrypted must be true for encryption none.
	AllowUnencrypted bool `json:"allowUnencrypted"`
	// UnderlayMTU is the MTU of the node network (default 1500).
	UnderlayMTU int `json:"underlayMTU"`
	// InterRegionRTTms is the worst round-trip time between two regions.
	InterRegionRTTms int `json:"interRegionRTTms"`
}

// Region is one of the three regions.
type Region struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Nodes []Node `json:"nodes"`
}

// Node is one machine.
type Node struct {
	Name     string   `json:"name"`
	IP       string   `json:"ip"`
	PublicIP string   `json:"publicIP"`
	Roles    []string `json:"roles"`
	// CPU and Memory are the node's allocatable resources, as quantities.
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
	// Devices are the raw disks Ceph may use on a storage node.
	Devices []string `json:"devices"`
}

// Storage configures Rook and Ceph.
type Storage struct {
	Rook       Rook        `json:"rook"`
	Ceph       Ceph        `json:"ceph"`
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
	Image           string `json:"image"`
	DataDirHostPath string `json:"dataDirHostPath"`
}

// BlockPool is a replicated RBD pool with its StorageClass.
type BlockPool struct {
	Name          string `json:"name"`
	StorageClass  string `json:"storageClass"`
	Default       bool   `json:"default"`
	ReclaimPolicy string `json:"reclaimPolicy"`
}

// Workloads lists the user's workloads to spread-patch.
type Workloads struct {
	// MinReplicas is the smallest replica count a spread workload gets (default 2).
	MinReplicas int      `json:"minReplicas"`
	Sources     []Source `json:"sources"`
}

// Source is one set of workloads: a folder of YAML, a kustomize folder or a
// Helm chart. Exactly one of Path, Kustomize and Helm is set.
type Source struct {
	// Name names the output folder workloads/<name>/ (default: derived).
	Name      string      `json:"name"`
	Path      string      `json:"path"`
	Kustomize string      `json:"kustomize"`
	Helm      *HelmSource `json:"helm,omitempty"`
}

// HelmSource is a chart rendered in-process.
type HelmSource struct {
	Chart       string   `json:"chart"`
	Release     string   `json:"release"`
	Namespace   string   `json:"namespace"`
	ValuesFiles []string `json:"valuesFiles"`
}

// Ingress describes the public entry point for applications.
type Ingress struct {
	Host       string `json:"host"`
	HealthPath string `json:"healthPath"`
}

// GitOps says where Flux finds the rendered bundle.
type GitOps struct {
	// SourceName is the Flux GitRepository (default flux-system).
	SourceName string `json:"sourceName"`
	// Path is the bundle's folder inside the Git repository (default ".").
	Path string `json:"path"`
}
