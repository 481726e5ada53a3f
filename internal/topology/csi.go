package topology

import (
	"strconv"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// CSIDriversChartVersion is the version of the ceph-csi-drivers chart
// (Helm repository https://ceph.github.io/ceph-csi-operator) the bundle
// installs. It is the version of the ceph-csi-operator subchart that the
// rook-ceph chart of Rook v1.20.6 pins (deploy/charts/rook-ceph/Chart.yaml);
// ceph-csi-operator publishes both charts from one release at the release's
// version, so the drivers match the operator Rook installs. Change it with
// DefaultRookVersion.
const CSIDriversChartVersion = "1.0.4"

// CSIDriversModel is the ceph-csi-drivers release of the bundle.
type CSIDriversModel struct {
	// ChartVersion pins the chart.
	ChartVersion string `json:"chartVersion"`
	// RBDDriver is the RBD driver's name, the StorageClasses' provisioner.
	RBDDriver string `json:"rbdDriver"`
	// CephFSDriver, NFSDriver and NVMeoFDriver name the other drivers,
	// prefixed with the operator namespace like the RBD one.
	CephFSDriver string `json:"cephfsDriver"`
	NFSDriver    string `json:"nfsDriver"`
	NVMeoFDriver string `json:"nvmeofDriver"`
	// Repository is the HelmRepository of the chart.
	Repository HelmRepositoryModel `json:"repository"`
}

// csiDriversFor returns the CSI drivers release for a Rook version and
// operator namespace, or nil before Rook v1.20, whose operator deploys the
// drivers itself.
func csiDriversFor(rookVersion, namespace string, g v1alpha1.GitOps) *CSIDriversModel {
	if !rookAtLeast(rookVersion, 1, 20) {
		return nil
	}
	return &CSIDriversModel{
		ChartVersion: CSIDriversChartVersion,
		RBDDriver:    namespace + ".rbd.csi.ceph.com",
		CephFSDriver: namespace + ".cephfs.csi.ceph.com",
		NFSDriver:    namespace + ".nfs.csi.ceph.com",
		NVMeoFDriver: namespace + ".nvmeof.csi.ceph.com",
		Repository:   helmRepository(g, CSIRepositoryName),
	}
}

// rookAtLeast reports whether version (vMAJOR.MINOR.PATCH) is at least
// major.minor. A version it cannot read counts as current.
func rookAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return true
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}
