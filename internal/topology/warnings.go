package topology

// MaxRecommendedRTTms is the inter-region round-trip time above which
// Warnings speaks: Ceph stretch mode writes to both data regions
// synchronously, so every write waits for the link.
const MaxRecommendedRTTms = 10

// Warnings returns what a valid topology allows but costs, each placed at
// its field like an Error. They never stop a command.
func (f *File) Warnings() Errors {
	if f == nil || f.Topology == nil {
		return nil
	}
	var out Errors
	if rtt := f.Topology.Spec.Network.InterRegionRTTms; rtt > MaxRecommendedRTTms {
		etcd := EtcdTiming(rtt)
		out = append(out, f.Errorf("spec.network.interRegionRTTms", "%d ms is above the %d ms a stretch cluster is built for: "+
			"Ceph stretch mode acknowledges a write only when both data regions hold it, so every volume write (each database commit) "+
			"waits at least %d ms more; etcd commits wait for a quorum across regions too, and its election timeout grows to %d ms, "+
			"so a lost control plane is noticed later",
			rtt, MaxRecommendedRTTms, rtt, etcd.ElectionTimeoutMS))
	}
	if v := f.Topology.Spec.Storage.Rook.Version; rookAtLeast(v, 1, 21) {
		out = append(out, f.Errorf("spec.storage.rook.version", "the bundle pins the ceph-csi-drivers chart at %s, the ceph-csi-operator version "+
			"that Rook v1.20.6's rook-ceph chart installs; check the ceph-csi-operator dependency in Rook %s's deploy/charts/rook-ceph/Chart.yaml "+
			"and, if it differs, set the drivers release's spec.chart.spec.version with a mixin, since drivers of another version than the operator may not run",
			CSIDriversChartVersion, v))
	}
	return out
}
