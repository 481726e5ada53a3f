package generators

import (
	"fmt"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// ruleObjects gives the rule book the bundle's typed objects, and the
// bundle path of each by the name the rules give it.
func ruleObjects(m *topology.Model, objs []object) (*rules.Objects, map[rules.Object]string) {
	o := &rules.Objects{}
	paths := map[rules.Object]string{}
	for _, obj := range objs {
		switch t := obj.Typed.(type) {
		case *rook.CephCluster:
			paths[rules.Object{Kind: "CephCluster", Namespace: t.Namespace, Name: t.Name}] = obj.Path
		case *rook.CephBlockPool:
			o.Pools = append(o.Pools, t)
			paths[rules.Object{Kind: "CephBlockPool", Namespace: t.Namespace, Name: t.Name}] = obj.Path
		case *calico.FelixConfiguration:
			paths[rules.Object{Kind: "FelixConfiguration", Name: t.Name}] = obj.Path
		}
	}
	// More than one CephCluster is rook-stretch's own failure.
	if cs := typedOf[*rook.CephCluster](objs); len(cs) == 1 {
		o.Cluster = cs[0]
	}
	o.Felix = felixDefault(objs)
	paths[rules.Object{Kind: "CephBlockPool", Namespace: m.Storage.Namespace}] = "storage/rook"
	return o, paths
}

// ruleMessage words a violation of the rule book for render: the bundle
// path first, then what is wrong.
func ruleMessage(m *topology.Model, v rules.Violation, paths map[rules.Object]string) string {
	where, name := paths[v.Object], v.Object.Name
	if where == "" {
		where = "?"
	}
	switch v.Field {
	case rules.FieldMonCount:
		return fmt.Sprintf("%s: spec.mon.count is %d; a stretch cluster needs %d mons (%d per data region, %d arbiter)",
			where, v.N, v.Want, rules.MonsPerDataRegion, rules.MonsInArbiter)
	case rules.FieldStretch:
		return fmt.Sprintf("%s: spec.mon.stretchCluster is missing or has no zones", where)
	case rules.FieldZones:
		return fmt.Sprintf("%s: the stretch zones are %v; the topology's regions are %v", where, v.Names, rules.RegionNames(m))
	case rules.FieldArbiter:
		return fmt.Sprintf("%s: the stretch zones need exactly %d arbiter, %s; found %v", where, v.Want, m.Arbiter, v.Names)
	case rules.FieldFailureDomain:
		return fmt.Sprintf("%s: spec.mon.stretchCluster.failureDomainLabel is %q; the nodes carry their region in %s", where, v.Got, m.Labels.Zone)
	case rules.FieldSize, rules.FieldReplicasPerZone:
		key := strings.TrimPrefix(v.Field, "spec.replicated.")
		return fmt.Sprintf("%s: CephBlockPool %s has replicated.%s %d; pools in a stretch cluster must have %s %d (%d copies per data region)",
			where, name, key, v.N, key, v.Want, rules.ReplicasPerZone)
	case rules.FieldErasureCoded:
		return fmt.Sprintf("%s: CephBlockPool %s is erasure coded; stretch clusters support only replicated pools", where, name)
	case rules.FieldMgrPool:
		return fmt.Sprintf("%s: the builtin %s pool (CephBlockPool with spec.name %s, size %d) is missing; without it Ceph creates %s with size 3 and stretch mode fails",
			where, rules.MgrPoolName, rules.MgrPoolName, rules.Size, rules.MgrPoolName)
	case rules.FieldUseAllNodes:
		return fmt.Sprintf("%s: spec.storage.useAllNodes would put OSDs in the arbiter region, and stretch mode never enables with three CRUSH zones", where)
	case rules.FieldStorageNodes:
		return fmt.Sprintf("%s: spec.storage.nodes lists %s, which is not a storage node of a data region", where, v.Got)
	case rules.FieldOSDAffinity:
		return fmt.Sprintf("%s: spec.placement.osd needs a required node affinity to the data regions", where)
	case rules.FieldOSDTerm:
		return fmt.Sprintf("%s: spec.placement.osd node selector term %d does not keep OSDs out of the arbiter region %s", where, v.N, v.Region)
	case rules.FieldFelix:
		return "network/calico: FelixConfiguration default is missing"
	case rules.FieldWireGuard:
		return fmt.Sprintf("FelixConfiguration default: wireguardEnabled is %s; the topology's encryption is %s", v.Got, m.Network.Encryption)
	}
	// A field render has no objects for (a live cluster's pods).
	return fmt.Sprintf("%s: %s: rule %s is broken", where, v.Field, v.Rule)
}

// blueprintModel is the model as the blueprints and mixins see it: the
// topology's model and, as stretch, the rule book's numbers, so that no
// blueprint writes them as literals.
type blueprintModel struct {
	*topology.Model
	Stretch rules.Numbers `json:"stretch"`
}
