package topology

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// RelaxedStretchWeightCeph is the first Ceph release whose stretch mode
// accepts data zones whose CRUSH weights differ by up to 10 % (Ceph's
// mon_stretch_max_bucket_weight_delta); older releases need exactly equal
// weights. Rook v1.20.6 gates the same check on the same version
// (relaxedStretchCrushWeightCheckVersion in pkg/operator/ceph/cluster/mon/mon.go).
var RelaxedStretchWeightCeph = [3]int{20, 2, 2}

// cephTag matches the version at the start of a Ceph image tag, like
// v20.2.4 or v20.2.4-20260101.
var cephTag = regexp.MustCompile(`^v?(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})(?:-[0-9A-Za-z.-]+)?$`)

// CephImageVersion returns the major, minor and patch version of a Ceph
// image reference's tag (quay.io/ceph/ceph:v20.2.4), and false when the
// reference has no tag that names a version (a digest, latest, ...).
func CephImageVersion(image string) ([3]int, bool) {
	ref, _, _ := strings.Cut(image, "@")
	colon := strings.LastIndexByte(ref, ':')
	if colon < 0 || colon < strings.LastIndexByte(ref, '/') {
		return [3]int{}, false
	}
	m := cephTag.FindStringSubmatch(ref[colon+1:])
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1]) // the pattern guarantees small digits
	}
	return v, true
}

// atLeast reports whether version a is b or newer.
func atLeast(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// weightsBalanced is Rook's crushWeightsBalanced: two weights are within
// 10 % of the larger one.
func weightsBalanced(a, b int) bool {
	hi, diff := max(a, b), a-b
	if diff < 0 {
		diff = -diff
	}
	return hi > 0 && float64(diff)/float64(hi) <= 0.1
}

// crushBalance refuses data regions whose storage is not balanced enough
// for Ceph stretch mode. Rook enables stretch mode only after both data
// zones appear in the CRUSH map with equal weights (within 10 % from Ceph
// v20.2.2); until then the CephCluster never leaves its "enabling stretch
// mode" wait and no stretch pool is created. A zone's CRUSH weight is the
// sum of its OSDs' sizes; the topology does not give device sizes, so
// every device is taken to be the same size and a region's weight is its
// number of distinct devices on storage nodes. The rule is checked only
// when the regions, their nodes and the Ceph image passed the other checks,
// so that it never repeats what they already report.
func (v *validator) crushBalance() {
	for _, e := range v.errs {
		if strings.HasPrefix(e.Field, "spec.regions") || e.Field == "spec.storage.ceph.image" {
			return
		}
	}
	type zone struct {
		index   int
		devices int
	}
	var zones []zone
	for i, r := range v.t.Spec.Regions {
		if r.Role != v1alpha1.RegionRoleData {
			continue
		}
		z := zone{index: i}
		for _, n := range r.Nodes {
			if !hasRole(n, v1alpha1.NodeRoleStorage) {
				continue
			}
			seen := map[string]bool{}
			for _, d := range n.Devices {
				if validDevice(d) && !seen[d] {
					seen[d] = true
					z.devices++
				}
			}
		}
		zones = append(zones, z)
	}
	if len(zones) != 2 || zones[0].devices == 0 || zones[1].devices == 0 || zones[0].devices == zones[1].devices {
		return
	}
	image := v.t.Spec.Storage.Ceph.Image
	version, known := CephImageVersion(image)
	relaxed := known && atLeast(version, RelaxedStretchWeightCeph)
	a, b := zones[0], zones[1]
	if relaxed && weightsBalanced(a.devices, b.devices) {
		return
	}
	small, big := a, b
	if small.devices > big.devices {
		small, big = big, small
	}
	regions := v.t.Spec.Regions
	var rule string
	switch {
	case relaxed:
		rule = fmt.Sprintf("Ceph %s (the tag of spec.storage.ceph.image) accepts at most 10 %% difference, and %d against %d devices is %.0f %%",
			versionString(version), small.devices, big.devices, 100*float64(big.devices-small.devices)/float64(big.devices))
	case known:
		rule = fmt.Sprintf("Ceph %s (the tag of spec.storage.ceph.image) needs them exactly equal (%s and newer accept up to 10 %% difference)",
			versionString(version), versionString(RelaxedStretchWeightCeph))
	default:
		rule = fmt.Sprintf("the tag of spec.storage.ceph.image %s names no Ceph version, so they must be exactly equal (%s and newer accept up to 10 %% difference)",
			quote(image), versionString(RelaxedStretchWeightCeph))
	}
	v.errorf(regionField(small.index)+".nodes",
		"data region %s has %d storage %s and data region %s has %d; Ceph enters stretch mode only when the two data zones' CRUSH weights "+
			"(the sum of their disks' sizes, every device taken as the same size) are balanced, and %s; until then Rook waits and creates no pool. "+
			"Give both data regions the same number of devices of the same size",
		regionLabel(small.index, regions[small.index]), small.devices, plural(small.devices, "device", "devices"),
		regionLabel(big.index, regions[big.index]), big.devices, rule)
}

// versionString formats a version as v20.2.2.
func versionString(v [3]int) string {
	return fmt.Sprintf("v%d.%d.%d", v[0], v[1], v[2])
}
