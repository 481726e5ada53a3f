package topology

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// Well-known labels, taints and names that every layer derives from the
// topology. They live here, in one place, so that two layers never disagree.
const (
	// LabelZone carries the region name: Rook's failureDomainLabel and the
	// spread patcher's topologyKey.
	LabelZone = "topology.kubernetes.io/zone"
	// LabelRegion carries the topology name. It must differ from every
	// region name (Rook's topology conflict check).
	LabelRegion = "topology.kubernetes.io/region"
	// LabelArbiter marks the nodes of the arbiter region.
	LabelArbiter = "stretch.dev/arbiter"
	// LabelStorage marks storage nodes.
	LabelStorage = "stretch.dev/storage"
	// TaintArbiter keeps workloads off the arbiter region.
	TaintArbiter = "stretch.dev/arbiter"
	// TaintStorage keeps workloads off dedicated storage nodes.
	TaintStorage = "stretch.dev/storage"
	// TaintControlPlane is the taint kubeadm puts on dedicated control planes.
	TaintControlPlane = "node-role.kubernetes.io/control-plane"
	// LabelControlPlane is the role label kubeadm puts on every control plane.
	LabelControlPlane = "node-role.kubernetes.io/control-plane"
)

// DataRegions is how many regions with role data a topology has: a stretch
// cluster is two data regions and one arbiter.
const DataRegions = 2

// Model is the normalised topology that generators and Jsonnet blueprints
// consume. Every value in it is derived from a defaulted, valid Topology;
// it holds no fact of its own. It is passed to Jsonnet as JSON, so its
// field names are part of the blueprint API.
type Model struct {
	Name       string              `json:"name"`
	Kubernetes v1alpha1.Kubernetes `json:"kubernetes"`
	Network    NetworkModel        `json:"network"`
	Etcd       EtcdModel           `json:"etcd"`
	AdminCIDRs []string            `json:"adminCIDRs"`
	Labels     LabelModel          `json:"labels"`
	Regions    []RegionModel       `json:"regions"`
	Arbiter    string              `json:"arbiterRegion"`
	Data       []string            `json:"dataRegions"`
	Nodes      []NodeModel         `json:"nodes"`
	Storage    StorageModel        `json:"storage"`
	Workloads  WorkloadsModel      `json:"workloads"`
	Ingress    *v1alpha1.Ingress   `json:"ingress"`
	GitOps     v1alpha1.GitOps     `json:"gitops"`
	Tolerate   TolerationModel     `json:"tolerations"`
}

// NetworkModel is the network layer with its derived values.
type NetworkModel struct {
	Encryption  v1alpha1.EncryptionMode `json:"encryption"`
	WireGuard   bool                    `json:"wireguard"`
	UnderlayMTU int                     `json:"underlayMTU"`
	// MTU is the pod and tunnel MTU: underlay - 60 with WireGuard, - 50 for VXLAN.
	MTU   int `json:"mtu"`
	RTTms int `json:"rttMs"`
}

// EtcdModel is etcd's timing, derived from the inter-region RTT.
type EtcdModel struct {
	HeartbeatIntervalMS int `json:"heartbeatIntervalMs"`
	ElectionTimeoutMS   int `json:"electionTimeoutMs"`
}

// LabelModel names the labels and taints the blueprints use.
type LabelModel struct {
	Zone    string `json:"zone"`
	Region  string `json:"region"`
	Arbiter string `json:"arbiter"`
	Storage string `json:"storage"`
}

// TolerationModel lists the taints of each node class, so that blueprints
// can build tolerations without knowing the taint keys.
type TolerationModel struct {
	Arbiter      []Taint `json:"arbiter"`
	Storage      []Taint `json:"storage"`
	ControlPlane []Taint `json:"controlPlane"`
}

// RegionModel is a region with its node names.
type RegionModel struct {
	Name    string              `json:"name"`
	Role    v1alpha1.RegionRole `json:"role"`
	Arbiter bool                `json:"arbiter"`
	Nodes   []string            `json:"nodes"`
}

// NodeModel is a node with every derived fact about it.
type NodeModel struct {
	Name         string              `json:"name"`
	Region       string              `json:"region"`
	Arbiter      bool                `json:"arbiter"`
	IP           string              `json:"ip"`
	PublicIP     string              `json:"publicIP"`
	SSHHost      string              `json:"sshHost"`
	Roles        []v1alpha1.NodeRole `json:"roles"`
	ControlPlane bool                `json:"controlPlane"`
	Etcd         bool                `json:"etcd"`
	Worker       bool                `json:"worker"`
	Storage      bool                `json:"storage"`
	KubeNode     bool                `json:"kubeNode"`
	CPU          string              `json:"cpu"`
	Memory       string              `json:"memory"`
	Devices      []string            `json:"devices"`
	Labels       map[string]string   `json:"labels"`
	Taints       []Taint             `json:"taints"`
}

// InstalledTaints returns the taints the node carries once the cluster is
// installed: the topology's (Kubespray's node_taints) and, on a dedicated
// control plane (one Kubespray does not put in kube_node), the
// control-plane taint kubeadm gives it. Kubespray removes that taint from
// control planes that are also workers or storage nodes.
func (n NodeModel) InstalledTaints() []Taint {
	taints := append([]Taint{}, n.Taints...)
	if n.ControlPlane && !n.KubeNode {
		taints = append(taints, Taint{Key: TaintControlPlane, Effect: "NoSchedule"})
	}
	return taints
}

// Taint is a node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Effect string `json:"effect"`
}

// String renders the taint as kubectl and Kubespray's node_taints write it.
func (t Taint) String() string {
	if t.Value == "" {
		return fmt.Sprintf("%s:%s", t.Key, t.Effect)
	}
	return fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)
}

// StorageModel is the storage layer.
type StorageModel struct {
	RookVersion     string               `json:"rookVersion"`
	Namespace       string               `json:"namespace"`
	CephImage       string               `json:"cephImage"`
	DataDirHostPath string               `json:"dataDirHostPath"`
	Provisioner     string               `json:"provisioner"`
	Pools           []v1alpha1.BlockPool `json:"pools"`
	// StorageNodes are the storage nodes of the data regions, sorted by name.
	StorageNodes []string `json:"storageNodes"`
	// CSIDrivers is the ceph-csi-drivers release; nil before Rook v1.20.
	CSIDrivers *CSIDriversModel `json:"csiDrivers"`
	// RookRepository is the HelmRepository of the rook-ceph chart.
	RookRepository HelmRepositoryModel `json:"rookRepository"`
}

// WorkloadsModel is the workload layer.
type WorkloadsModel struct {
	MinReplicas int `json:"minReplicas"`
	// EvictionSeconds is spec.workloads.evictionSeconds; nil when unset.
	EvictionSeconds *int              `json:"evictionSeconds,omitempty"`
	Sources         []v1alpha1.Source `json:"sources"`
}

// EtcdTiming derives etcd's heartbeat interval and election timeout from the
// worst inter-region RTT, following etcd's tuning guide (heartbeat about one
// RTT, election at least ten RTTs, at most 50 s) with Kubespray's defaults
// (250 ms, 5000 ms) as the floor.
func EtcdTiming(rttMS int) EtcdModel {
	hb := max(250, rttMS)
	el := min(50000, max(5000, 10*hb, 10*rttMS))
	return EtcdModel{HeartbeatIntervalMS: hb, ElectionTimeoutMS: el}
}

// TunnelMTU is the MTU for pods and tunnels on the given underlay.
func TunnelMTU(underlay int, wireguard bool) int {
	if wireguard {
		return underlay - 60
	}
	return underlay - 50
}

// NewModel builds the normalised model of a defaulted and valid topology.
// It assumes Validate returned no error.
func NewModel(t *v1alpha1.Topology) *Model {
	s := &t.Spec
	wg := s.Network.Encryption == v1alpha1.EncryptionWireGuard
	m := &Model{
		Name:       t.Metadata.Name,
		Kubernetes: s.Kubernetes,
		Network: NetworkModel{
			Encryption:  s.Network.Encryption,
			WireGuard:   wg,
			UnderlayMTU: s.Network.UnderlayMTU,
			MTU:         TunnelMTU(s.Network.UnderlayMTU, wg),
			RTTms:       s.Network.InterRegionRTTms,
		},
		Etcd:       EtcdTiming(s.Network.InterRegionRTTms),
		AdminCIDRs: append([]string{}, s.AdminCIDRs...),
		Labels:     LabelModel{Zone: LabelZone, Region: LabelRegion, Arbiter: LabelArbiter, Storage: LabelStorage},
		Tolerate: TolerationModel{
			Arbiter:      []Taint{{Key: TaintArbiter, Value: "true", Effect: "NoSchedule"}},
			Storage:      []Taint{{Key: TaintStorage, Value: "true", Effect: "NoSchedule"}},
			ControlPlane: []Taint{{Key: TaintControlPlane, Effect: "NoSchedule"}},
		},
		Storage: StorageModel{
			RookVersion:     s.Storage.Rook.Version,
			Namespace:       s.Storage.Rook.Namespace,
			CephImage:       s.Storage.Ceph.Image,
			DataDirHostPath: s.Storage.Ceph.DataDirHostPath,
			Provisioner:     s.Storage.Rook.Namespace + ".rbd.csi.ceph.com",
			Pools:           append([]v1alpha1.BlockPool{}, s.Storage.BlockPools...),
			CSIDrivers:      csiDriversFor(s.Storage.Rook.Version, s.Storage.Rook.Namespace, s.GitOps),
			RookRepository:  helmRepository(s.GitOps, RookRepositoryName),
		},
		Workloads: WorkloadsModel{
			MinReplicas:     s.Workloads.MinReplicas,
			EvictionSeconds: cloneInt(s.Workloads.EvictionSeconds),
			Sources:         append([]v1alpha1.Source{}, s.Workloads.Sources...),
		},
		Ingress: s.Ingress,
		GitOps:  cloneGitOps(s.GitOps),
	}
	for _, r := range s.Regions {
		arb := r.Role == v1alpha1.RegionRoleArbiter
		rm := RegionModel{Name: r.Name, Role: r.Role, Arbiter: arb, Nodes: []string{}}
		if arb {
			m.Arbiter = r.Name
		} else {
			m.Data = append(m.Data, r.Name)
		}
		for _, n := range r.Nodes {
			rm.Nodes = append(rm.Nodes, n.Name)
			nm := newNodeModel(t.Metadata.Name, r, n)
			if nm.Storage && !arb {
				m.Storage.StorageNodes = append(m.Storage.StorageNodes, n.Name)
			}
			m.Nodes = append(m.Nodes, nm)
		}
		m.Regions = append(m.Regions, rm)
	}
	sort.Strings(m.Storage.StorageNodes)
	return m
}

func newNodeModel(topologyName string, r v1alpha1.Region, n v1alpha1.Node) NodeModel {
	nm := NodeModel{
		Name:     n.Name,
		Region:   r.Name,
		Arbiter:  r.Role == v1alpha1.RegionRoleArbiter,
		IP:       n.IP,
		PublicIP: n.PublicIP,
		SSHHost:  n.IP,
		Roles:    append([]v1alpha1.NodeRole{}, n.Roles...),
		CPU:      n.CPU,
		Memory:   n.Memory,
		Devices:  append([]string{}, n.Devices...),
		Labels:   map[string]string{LabelZone: r.Name, LabelRegion: topologyName},
		Taints:   []Taint{},
	}
	if n.PublicIP != "" {
		nm.SSHHost = n.PublicIP
	}
	for _, role := range n.Roles {
		switch role {
		case v1alpha1.NodeRoleControlPlane:
			nm.ControlPlane = true
		case v1alpha1.NodeRoleEtcd:
			nm.Etcd = true
		case v1alpha1.NodeRoleWorker:
			nm.Worker = true
		case v1alpha1.NodeRoleStorage:
			nm.Storage = true
		}
	}
	// A node runs a kubelet that Kubespray schedules on when it is in
	// kube_node: workers and storage nodes. Dedicated control planes keep
	// kubeadm's control-plane taint.
	nm.KubeNode = nm.Worker || nm.Storage
	switch {
	case nm.Arbiter:
		nm.Labels[LabelArbiter] = "true"
		nm.Taints = append(nm.Taints, Taint{Key: TaintArbiter, Value: "true", Effect: "NoSchedule"})
	case nm.Storage && !nm.Worker:
		nm.Taints = append(nm.Taints, Taint{Key: TaintStorage, Value: "true", Effect: "NoSchedule"})
	}
	if nm.Storage {
		nm.Labels[LabelStorage] = "true"
	}
	return nm
}

// cloneInt returns a copy of *p, or nil.
func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// CheckRegion returns nil when name is one of the model's regions, and
// otherwise an error that lists them.
func (m *Model) CheckRegion(name string) error {
	names := make([]string, 0, len(m.Regions))
	for _, r := range m.Regions {
		if r.Name == name {
			return nil
		}
		names = append(names, r.Name)
	}
	return fmt.Errorf("region %q is not in spec.regions (%s)", name, strings.Join(names, ", "))
}
