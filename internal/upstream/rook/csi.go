package rook

// The Ceph CSI drivers. Since Rook v1.20 the rook-ceph chart installs only
// the Ceph-CSI operator; the drivers come from the ceph-csi-drivers chart of
// the ceph-csi-operator Helm repository, installed after rook-ceph in the
// operator namespace with the values Rook ships in
// deploy/charts/ceph-csi-drivers/values.yaml (Rook v1.20.6,
// Documentation/Helm-Charts/csi-drivers-chart.md).
const (
	CSIDriversChart    = "ceph-csi-drivers"
	CSIOperatorRepoURL = "https://ceph.github.io/ceph-csi-operator"
	// CSIImageSetConfigMap is the ConfigMap of CSI images the Rook operator
	// writes; the drivers read their images from it.
	CSIImageSetConfigMap = "rook-csi-operator-image-set-configmap"
	// OperatorChart is the chart of the Rook operator.
	OperatorChart = "rook-ceph"
)

// CSIDriversValues is the part of the ceph-csi-drivers chart's values the
// bundle sets and checks (ceph-csi-operator v1.0.4,
// deploy/charts/ceph-csi-drivers/values.yaml). Other values pass through.
type CSIDriversValues struct {
	OperatorConfig CSIOperatorConfig `json:"operatorConfig"`
	Drivers        CSIDrivers        `json:"drivers"`
}

// CSIOperatorConfig is values.operatorConfig.
type CSIOperatorConfig struct {
	// Namespace is the Rook operator namespace.
	Namespace          string                `json:"namespace"`
	DriverSpecDefaults CSIDriverSpecDefaults `json:"driverSpecDefaults"`
}

// CSIDriverSpecDefaults is values.operatorConfig.driverSpecDefaults.
type CSIDriverSpecDefaults struct {
	ImageSet         CSIImageSet  `json:"imageSet"`
	NodePlugin       CSIPluginPod `json:"nodePlugin"`
	ControllerPlugin CSIPluginPod `json:"controllerPlugin"`
}

// CSIImageSet names the ConfigMap of CSI images.
type CSIImageSet struct {
	Name string `json:"name"`
}

// CSIPluginPod is the part of a plugin's pod settings the bundle sets.
type CSIPluginPod struct {
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// CSIDrivers is values.drivers: one entry per driver the chart knows.
type CSIDrivers struct {
	RBD    CSIDriver `json:"rbd"`
	CephFS CSIDriver `json:"cephfs"`
	NFS    CSIDriver `json:"nfs"`
	NVMeoF CSIDriver `json:"nvmeof"`
}

// CSIDriver is one driver: its CSI name (a StorageClass's provisioner) and
// whether the chart deploys it.
type CSIDriver struct {
	Enabled bool   `json:"enabled"`
	Name    string `json:"name"`
}

// Each returns the drivers by the key the chart's values use, in order.
func (d *CSIDrivers) Each() []struct {
	Key    string
	Driver CSIDriver
} {
	return []struct {
		Key    string
		Driver CSIDriver
	}{{"rbd", d.RBD}, {"cephfs", d.CephFS}, {"nfs", d.NFS}, {"nvmeof", d.NVMeoF}}
}

// OperatorRepoURL is the Helm repository Rook publishes the rook-ceph chart
// in (Rook's Helm chart documentation: helm repo add rook-release
// https://charts.rook.io/release).
const OperatorRepoURL = "https://charts.rook.io/release"
