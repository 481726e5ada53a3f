package rules

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

func clusterObject(c *rook.CephCluster) Object {
	return Object{Kind: "CephCluster", Namespace: c.Namespace, Name: c.Name}
}

func poolObject(p *rook.CephBlockPool) Object {
	return Object{Kind: "CephBlockPool", Namespace: p.Namespace, Name: p.Name}
}

// MonsIn is how many mons a region runs: MonsInArbiter in the arbiter,
// MonsPerDataRegion in a data region.
func MonsIn(r topology.RegionModel) int {
	if r.Arbiter {
		return MonsInArbiter
	}
	return MonsPerDataRegion
}

// RegionNames returns the names of the topology's regions, in its order.
func RegionNames(m *topology.Model) []string {
	out := make([]string, len(m.Regions))
	for i, r := range m.Regions {
		out[i] = r.Name
	}
	return out
}

func checkMons(m *topology.Model, o *Objects) []Violation {
	var out []Violation
	if c := o.Cluster; c != nil && c.Spec.Mon.Count != MonCount {
		out = append(out, Violation{Field: FieldMonCount, Object: clusterObject(c), N: c.Spec.Mon.Count, Want: MonCount})
	}
	if !o.Daemons {
		return out
	}
	byZone := map[string][]string{}
	for _, d := range o.Mons {
		byZone[d.Zone] = append(byZone[d.Zone], d.ID)
	}
	for _, r := range m.Regions {
		if got := byZone[r.Name]; len(got) != MonsIn(r) {
			out = append(out, Violation{Field: FieldMonsInRegion, Region: r.Name, Names: got, N: len(got), Want: MonsIn(r)})
		}
	}
	regions := RegionNames(m)
	for _, zone := range slices.Sorted(maps.Keys(byZone)) {
		if zone != "" && !slices.Contains(regions, zone) {
			out = append(out, Violation{Field: FieldMonZone, Got: zone, Names: byZone[zone], N: len(byZone[zone])})
		}
	}
	return out
}

// stretchZones returns the CephCluster's stretch zones, or nil when it is
// not in stretch mode (the zones rule reports that).
func stretchZones(o *Objects) []rook.MonZoneSpec {
	if o.Cluster == nil || o.Cluster.Spec.Mon.StretchCluster == nil {
		return nil
	}
	return o.Cluster.Spec.Mon.StretchCluster.Zones
}

func checkArbiter(m *topology.Model, o *Objects) []Violation {
	zones := stretchZones(o)
	if len(zones) == 0 {
		return nil
	}
	var arbiters []string
	for _, z := range zones {
		if z.Arbiter {
			arbiters = append(arbiters, z.Name)
		}
	}
	if len(arbiters) == Arbiters && arbiters[0] == m.Arbiter {
		return nil
	}
	return []Violation{{Field: FieldArbiter, Object: clusterObject(o.Cluster), Names: arbiters, N: len(arbiters), Want: Arbiters}}
}

func checkZones(m *topology.Model, o *Objects) []Violation {
	if o.Cluster == nil {
		return nil
	}
	zones := stretchZones(o)
	if len(zones) == 0 {
		return []Violation{{Field: FieldStretch, Object: clusterObject(o.Cluster)}}
	}
	names := make([]string, len(zones))
	for i, z := range zones {
		names[i] = z.Name
	}
	if slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(RegionNames(m)))) {
		return nil
	}
	return []Violation{{Field: FieldZones, Object: clusterObject(o.Cluster), Names: names}}
}

// failureDomainLabel is the label Rook reads a stretch zone from: the
// CephCluster's, else Rook's default.
func failureDomainLabel(sc *rook.StretchClusterSpec) string {
	if sc.FailureDomainLabel == "" {
		return rook.DefaultFailureDomainLabel
	}
	return sc.FailureDomainLabel
}

func checkFailureDomain(m *topology.Model, o *Objects) []Violation {
	if len(stretchZones(o)) == 0 {
		return nil
	}
	if label := failureDomainLabel(o.Cluster.Spec.Mon.StretchCluster); label != m.Labels.Zone {
		return []Violation{{Field: FieldFailureDomain, Object: clusterObject(o.Cluster), Got: label}}
	}
	return nil
}

func checkPoolSize(_ *topology.Model, o *Objects) []Violation {
	var out []Violation
	for _, p := range o.Pools {
		if erasureCoded(p) {
			continue // not replicated: the no-erasure-coding rule reports it
		}
		if size := p.Spec.Replicated.Size; size != Size {
			out = append(out, Violation{Field: FieldSize, Object: poolObject(p), N: size, Want: Size})
		}
		if n := p.Spec.Replicated.ReplicasPerFailureDomain; n != ReplicasPerZone {
			out = append(out, Violation{Field: FieldReplicasPerZone, Object: poolObject(p), N: n, Want: ReplicasPerZone})
		}
	}
	return out
}

func checkMgrPool(m *topology.Model, o *Objects) []Violation {
	for _, p := range o.Pools {
		if p.Spec.Name == MgrPoolName {
			return nil
		}
	}
	return []Violation{{Field: FieldMgrPool, Object: Object{Kind: "CephBlockPool", Namespace: m.Storage.Namespace}, Got: MgrPoolName}}
}

// erasureCoded says whether Rook reads the pool as erasure coded: its
// spec.erasureCoded has data or coding chunks (rook
// pkg/apis/ceph.rook.io/v1 PoolSpec.IsErasureCoded). `erasureCoded: {}`
// and zero chunks are a replicated pool; a value that is not an object of
// whole chunk counts cannot be read as replicated, and counts as erasure
// coded.
func erasureCoded(p *rook.CephBlockPool) bool {
	raw := p.Spec.ErasureCoded
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	var ec struct {
		DataChunks   int `json:"dataChunks"`
		CodingChunks int `json:"codingChunks"`
	}
	if err := json.Unmarshal(raw, &ec); err != nil {
		return true
	}
	return ec.DataChunks > 0 || ec.CodingChunks > 0
}

func checkErasureCoding(_ *topology.Model, o *Objects) []Violation {
	var out []Violation
	for _, p := range o.Pools {
		if erasureCoded(p) {
			out = append(out, Violation{Field: FieldErasureCoded, Object: poolObject(p), Got: string(p.Spec.ErasureCoded)})
		}
	}
	return out
}

func checkOSDRegions(m *topology.Model, o *Objects) []Violation {
	var out []Violation
	if c := o.Cluster; c != nil {
		out = append(out, osdSpec(m, c)...)
	}
	for _, d := range o.OSDs {
		if d.Zone == m.Arbiter || d.Region == m.Arbiter {
			out = append(out, Violation{Field: FieldOSDNode, Object: d.Pod, Got: d.ID, Region: m.Arbiter, Names: []string{d.Node}})
		}
	}
	return out
}

// osdSpec checks that the CephCluster's spec keeps OSDs on the data
// regions' storage nodes.
func osdSpec(m *topology.Model, c *rook.CephCluster) []Violation {
	var out []Violation
	v := func(field, got string, n int) {
		out = append(out, Violation{Field: field, Object: clusterObject(c), Got: got, N: n, Region: m.Arbiter})
	}
	st := c.Spec.Storage
	if st.UseAllNodes {
		v(FieldUseAllNodes, "true", 0)
	}
	for _, n := range st.Nodes {
		if !slices.Contains(m.Storage.StorageNodes, n.Name) {
			v(FieldStorageNodes, n.Name, 0)
		}
	}
	osd, ok := c.Spec.Placement["osd"]
	if !ok || osd.NodeAffinity == nil || osd.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		v(FieldOSDAffinity, "", 0)
		return out
	}
	for i, term := range osd.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if !slices.ContainsFunc(term.MatchExpressions, func(e corev1.NodeSelectorRequirement) bool {
			return e.Key == m.Labels.Zone && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) > 0 && !slices.Contains(e.Values, m.Arbiter)
		}) {
			v(FieldOSDTerm, "", i)
		}
	}
	return out
}

func checkWireGuard(m *topology.Model, o *Objects) []Violation {
	if o.Felix == nil {
		return []Violation{{Field: FieldFelix, Object: Object{Kind: "FelixConfiguration", Name: "default"}}}
	}
	on := o.Felix.Spec.WireguardEnabled != nil && *o.Felix.Spec.WireguardEnabled
	if on == m.Network.WireGuard {
		return nil
	}
	return []Violation{{Field: FieldWireGuard, Object: Object{Kind: "FelixConfiguration", Name: o.Felix.Name}, Got: strconv.FormatBool(on)}}
}
