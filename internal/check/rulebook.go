package check

import (
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// ruleResult words a violation of the rule book for verify: what was found
// and what to do about it.
func ruleResult(m *topology.Model, v rules.Violation) Result {
	r := ruleFail(m, v)
	r.Rule = v.Rule
	return r
}

func ruleFail(m *topology.Model, v rules.Violation) Result {
	o := v.Object
	obj := ""
	if o.Name != "" {
		obj = ref(o.Kind, o.Namespace, o.Name)
	}
	switch v.Field {
	case rules.FieldMonCount:
		return fail(obj, "CephCluster %s/%s runs %d mons, want %d (%d per data region and %d in the arbiter): set spec.mon.count: %d",
			o.Namespace, o.Name, v.N, v.Want, rules.MonsPerDataRegion, rules.MonsInArbiter, v.Want)
	case rules.FieldStretch:
		return fail(obj, "CephCluster %s/%s is not in stretch mode (no spec.mon.stretchCluster.zones): Rook cannot convert a running cluster; recreate it from %s",
			o.Namespace, o.Name, storageStageHint)
	case rules.FieldZones:
		return fail(obj, "CephCluster %s/%s stretches over zones %s, the topology's regions are %s: the zone names must equal the node labels; fix spec.mon.stretchCluster.zones (render it again from the topology)",
			o.Namespace, o.Name, strings.Join(v.Names, ", "), strings.Join(rules.RegionNames(m), ", "))
	case rules.FieldArbiter:
		return fail(obj, "CephCluster %s/%s has arbiter zone(s) [%s], want exactly %s: set arbiter: true on zone %s only",
			o.Namespace, o.Name, strings.Join(v.Names, ", "), m.Arbiter, m.Arbiter)
	case rules.FieldFailureDomain:
		return fail(obj, "CephCluster %s/%s uses failure domain label %s, the nodes carry their region as %s: set spec.mon.stretchCluster.failureDomainLabel: %s",
			o.Namespace, o.Name, v.Got, m.Labels.Zone, m.Labels.Zone)
	case rules.FieldMonsInRegion:
		names := ""
		if len(v.Names) > 0 {
			names = " (" + strings.Join(v.Names, ", ") + ")"
		}
		return fail("", "region %s runs %s%s, want %d: Rook places %d mons per data region and %d in the arbiter; check that %s has %d schedulable nodes for mons with the right zone label, and the rook-ceph-operator log",
			v.Region, count(v.N, "mon", "mons"), names, v.Want, rules.MonsPerDataRegion, rules.MonsInArbiter, v.Region, v.Want)
	case rules.FieldMonZone:
		return fail("", "%s labelled with zone %s, which is not a region of the topology: fix spec.mon.stretchCluster.zones (STOR001)",
			count(v.N, "mon is", "mons are"), v.Got)
	case rules.FieldOSDNode:
		return fail(obj, "OSD %s runs on node %s in the arbiter region %s: Rook will not enable stretch mode with a third zone; keep OSDs in the data regions (spec.placement.osd node affinity, as rendered) and remove this OSD",
			v.Got, strings.Join(v.Names, ""), v.Region)
	case rules.FieldUseAllNodes:
		return fail(obj, "CephCluster %s/%s sets spec.storage.useAllNodes, which puts OSDs in the arbiter region %s, and Rook then does not enable stretch mode: list the storage nodes in spec.storage.nodes (render it again from the topology)",
			o.Namespace, o.Name, v.Region)
	case rules.FieldStorageNodes:
		return fail(obj, "CephCluster %s/%s lists node %s in spec.storage.nodes, which is not a storage node of a data region: remove it (render it again from the topology)",
			o.Namespace, o.Name, v.Got)
	case rules.FieldOSDAffinity:
		return fail(obj, "CephCluster %s/%s has no required node affinity in spec.placement.osd, so OSDs may run in the arbiter region %s: render it again from the topology",
			o.Namespace, o.Name, v.Region)
	case rules.FieldOSDTerm:
		return fail(obj, "CephCluster %s/%s: node selector term %d of spec.placement.osd does not keep OSDs out of the arbiter region %s: render it again from the topology",
			o.Namespace, o.Name, v.N, v.Region)
	case rules.FieldErasureCoded:
		return fail(obj, "CephBlockPool %s is erasure coded, which a stretch cluster does not support: replace it with a replicated pool of size %d",
			o.Name, rules.Size)
	case rules.FieldSize:
		return fail(obj, "CephBlockPool %s has replicated.size %d, want %d (%d copies per data region; Rook refuses other sizes in stretch mode): set spec.replicated.size: %d (the rendered bundle does)",
			o.Name, v.N, v.Want, rules.ReplicasPerZone, v.Want)
	case rules.FieldReplicasPerZone:
		return fail(obj, "CephBlockPool %s has replicated.replicasPerFailureDomain %d, want %d (the copies each data region keeps): set spec.replicated.replicasPerFailureDomain: %d (the rendered bundle does)",
			o.Name, v.N, v.Want, v.Want)
	case rules.FieldMgrPool:
		return fail("", "no CephBlockPool in %s has spec.name %s: Ceph creates %s with size 3 and Rook does not enable stretch mode; apply storage/rook/cluster/pool-builtin-mgr.yaml from the bundle",
			o.Namespace, v.Got, v.Got)
	case rules.FieldFelix:
		return fail(ref("FelixConfiguration", "", felixDefault), "FelixConfiguration default does not exist, so WireGuard is off: %s", felixFix)
	case rules.FieldWireGuard:
		return fail(obj, "FelixConfiguration default does not set wireguardEnabled: true, so traffic between regions is not encrypted: %s", felixFix)
	}
	return fail(obj, "%s: rule %s is broken", v.Field, v.Rule)
}
