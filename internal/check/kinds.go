package check

import "strings"

// Kind is one kind of object verify lists.
type Kind int

// The kinds verify lists, in the order Take lists them, then the kinds
// only drill lists.
const (
	KindNodes Kind = iota
	KindPods
	KindDeployments
	KindStatefulSets
	KindReplicaSets
	KindDaemonSets
	KindHPAs
	KindPDBs
	KindPVCs
	KindStorageClasses
	KindCSIDrivers
	KindCephClusters
	KindCephBlockPools
	KindFelixConfigurations
	KindServices
	// verifyKindCount ends verify's kinds; drill lists the kinds after
	// it as well (DrillKinds).
	verifyKindCount
	// KindPersistentVolumes: drill reads the volumes' node affinity.
	KindPersistentVolumes = verifyKindCount
	kindCount             = KindPersistentVolumes + 1
)

// KindInfo says where the API serves a kind.
type KindInfo struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
	// CRD is true for kinds that a CustomResourceDefinition adds, so that a
	// NotFound on LIST means the CRD is not installed.
	CRD bool `json:"crd,omitempty"`
	// Provider says what installs the CRD, for the error message.
	Provider string `json:"-"`
}

var kindInfos = [kindCount]KindInfo{
	KindNodes:               {Version: "v1", Resource: "nodes"},
	KindPods:                {Version: "v1", Resource: "pods"},
	KindDeployments:         {Group: "apps", Version: "v1", Resource: "deployments"},
	KindStatefulSets:        {Group: "apps", Version: "v1", Resource: "statefulsets"},
	KindReplicaSets:         {Group: "apps", Version: "v1", Resource: "replicasets"},
	KindDaemonSets:          {Group: "apps", Version: "v1", Resource: "daemonsets"},
	KindHPAs:                {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	KindPDBs:                {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	KindPVCs:                {Version: "v1", Resource: "persistentvolumeclaims"},
	KindStorageClasses:      {Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
	KindCSIDrivers:          {Group: "storage.k8s.io", Version: "v1", Resource: "csidrivers"},
	KindCephClusters:        {Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters", CRD: true, Provider: rookProvider},
	KindCephBlockPools:      {Group: "ceph.rook.io", Version: "v1", Resource: "cephblockpools", CRD: true, Provider: rookProvider},
	KindFelixConfigurations: {Group: "crd.projectcalico.org", Version: "v1", Resource: "felixconfigurations", CRD: true, Provider: "Calico (Kubespray installs it with the network plugin)"},
	KindServices:            {Version: "v1", Resource: "services"},
	KindPersistentVolumes:   {Version: "v1", Resource: "persistentvolumes"},
}

// Kinds returns every kind verify lists, in listing order.
func Kinds() []Kind {
	out := make([]Kind, verifyKindCount)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// DrillKinds returns every kind drill lists: verify's and the
// PersistentVolumes. The bundle's stretch-verify ClusterRole grants
// exactly these, so that one role serves both commands.
func DrillKinds() []Kind {
	out := make([]Kind, kindCount)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Info returns where the API serves k.
func (k Kind) Info() KindInfo { return kindInfos[k] }

// String is the resource name as kubectl writes it: pods,
// cephclusters.ceph.rook.io.
func (k Kind) String() string {
	if k < 0 || k >= kindCount {
		return "unknown"
	}
	i := kindInfos[k]
	if i.Group == "" {
		return i.Resource
	}
	return i.Resource + "." + i.Group
}

// path is the URL path of a LIST of every object of the kind.
func (i KindInfo) path() string {
	if i.Group == "" {
		return "/api/" + i.Version + "/" + i.Resource
	}
	return "/apis/" + i.Group + "/" + i.Version + "/" + i.Resource
}

// groupVersion is the kind's apiVersion.
func (i KindInfo) groupVersion() string {
	return strings.TrimPrefix(i.Group+"/"+i.Version, "/")
}
