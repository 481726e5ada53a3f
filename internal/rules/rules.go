// Package rules is the rule book of a stretch cluster: the rules that Rook
// and Ceph's stretch mode need, each one function over the typed objects
// (internal/upstream/rook, internal/upstream/calico) and the topology model, with a
// stable ID, and their numbers named once.
//
// render's bundle checks (generators) and verify's checks (internal/check)
// both call the rule book, so a rendered bundle and a live cluster are held
// to the same rules; each side words the violations in its own messages.
// Book is the ordered registry; each Rule names the render and verify
// checks that call it, the one table of that mapping.
package rules

import (
	"fmt"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// The numbers of the stretch rules. Blueprints receive them through the
// model (Numbers), never as literals.
const (
	// MonsPerDataRegion is how many mons Rook places in each data region.
	MonsPerDataRegion = 2
	// MonsInArbiter is how many mons run in the arbiter region: the
	// tiebreaker.
	MonsInArbiter = 1
	// MonCount is spec.mon.count of a stretch cluster: 2/2/1.
	MonCount = topology.DataRegions*MonsPerDataRegion + MonsInArbiter
	// Arbiters is how many stretch zones are the arbiter.
	Arbiters = 1
	// ReplicasPerZone is how many copies of every pool a data region holds
	// (replicated.replicasPerFailureDomain).
	ReplicasPerZone = 2
	// Size is replicated.size of every pool: the copies of both data
	// regions.
	Size = topology.DataRegions * ReplicasPerZone
	// MgrPoolName is the builtin pool Ceph creates for the mgr unless a
	// CephBlockPool defines it (spec.name).
	MgrPoolName = ".mgr"
)

// Numbers are the rules' numbers as the blueprints see them: the model's
// field stretch.
type Numbers struct {
	MonCount        int    `json:"monCount"`
	PoolSize        int    `json:"poolSize"`
	ReplicasPerZone int    `json:"replicasPerZone"`
	MgrPool         string `json:"mgrPool"`
}

// Blueprint returns the numbers passed to the blueprints.
func Blueprint() Numbers {
	return Numbers{MonCount: MonCount, PoolSize: Size, ReplicasPerZone: ReplicasPerZone, MgrPool: MgrPoolName}
}

// Objects are what the rules read: the typed objects of a rendered bundle
// or of a live cluster. A rule checks the parts it is given.
type Objects struct {
	// Cluster is the CephCluster; nil skips the rules over it.
	Cluster *rook.CephCluster
	// Pools are the CephBlockPools.
	Pools []*rook.CephBlockPool
	// Felix is FelixConfiguration default; nil when there is none.
	Felix *calico.FelixConfiguration
	// Daemons says that Mons and OSDs were read (a live cluster), so that
	// no mon pod in a region breaks the mons rule.
	Daemons bool
	// Mons and OSDs are Rook's running mon and OSD pods.
	Mons, OSDs []Daemon
}

// Daemon is a Ceph daemon's pod: its ID, the zone Rook labelled it with,
// its node and that node's region.
type Daemon struct {
	Pod    Object
	ID     string
	Zone   string
	Node   string
	Region string
}

// Object names a Kubernetes object.
type Object struct {
	Kind, Namespace, Name string
}

// Violation is one breach of a rule. Field says what breaks it; the other
// fields hold what the rule found, for the callers' messages.
type Violation struct {
	// Rule is the rule's ID; Check sets it.
	Rule   string
	Field  string
	Object Object
	// Got is the value found (a count, a label, a node, a daemon's ID).
	Got string
	// N is a number found (a count, a term's index); Want the rule's.
	N, Want int
	// Names are the names found (zones, arbiters, mons, an OSD's node).
	Names []string
	// Region is the region a finding is about.
	Region string
}

// The fields a violation names.
const (
	FieldMonCount        = "spec.mon.count"
	FieldMonsInRegion    = "mons per region"
	FieldMonZone         = "mon zone"
	FieldStretch         = "spec.mon.stretchCluster.zones"
	FieldZones           = "spec.mon.stretchCluster.zones[].name"
	FieldArbiter         = "spec.mon.stretchCluster.zones[].arbiter"
	FieldFailureDomain   = "spec.mon.stretchCluster.failureDomainLabel"
	FieldSize            = "spec.replicated.size"
	FieldReplicasPerZone = "spec.replicated.replicasPerFailureDomain"
	FieldMgrPool         = "spec.name"
	FieldErasureCoded    = "spec.erasureCoded"
	FieldUseAllNodes     = "spec.storage.useAllNodes"
	FieldStorageNodes    = "spec.storage.nodes"
	FieldOSDAffinity     = "spec.placement.osd.nodeAffinity"
	FieldOSDTerm         = "spec.placement.osd.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
	FieldOSDNode         = "spec.nodeName"
	FieldFelix           = "FelixConfiguration default"
	FieldWireGuard       = "spec.wireguardEnabled"
)

// Rule is one stretch rule.
type Rule struct {
	// ID is stable: reports, docs and tests name it.
	ID string
	// Doc says what the rule checks.
	Doc string
	// Number is the rule's number as the docs show it ("" for none).
	Number string
	// Render and Verify are the IDs of the checks that call the rule:
	// render's bundle checks and verify's checks. They are the one table
	// of that mapping; the docs and the test that runs each rule through
	// both sides read it.
	Render, Verify []string
	// Check returns the rule's violations in o (without their Rule, which
	// the package's Check sets); none when the rule holds.
	Check func(m *topology.Model, o *Objects) []Violation
}

// The rules.
var (
	Mons = Rule{"mons",
		fmt.Sprintf("the CephCluster runs %d mons, and a live cluster places them %d per data region and %d in the arbiter", MonCount, MonsPerDataRegion, MonsInArbiter),
		fmt.Sprintf("%d (%d/%d/%d)", MonCount, MonsPerDataRegion, MonsPerDataRegion, MonsInArbiter),
		[]string{"rook-stretch"}, []string{"STOR001", "STOR002"}, checkMons}
	Arbiter = Rule{"arbiter", "exactly one stretch zone is the arbiter: the topology's arbiter region",
		fmt.Sprint(Arbiters), []string{"rook-stretch"}, []string{"STOR001"}, checkArbiter}
	Zones = Rule{"zones", "the CephCluster is in stretch mode, and its zones are the topology's regions",
		"", []string{"rook-stretch"}, []string{"STOR001"}, checkZones}
	FailureDomain = Rule{"failure-domain", "the stretch failure-domain label (Rook's default when unset) is the label the nodes carry their region in",
		"", []string{"rook-stretch"}, []string{"STOR001"}, checkFailureDomain}
	PoolSize = Rule{"pool-size",
		fmt.Sprintf("every CephBlockPool is replicated with size %d, %d copies per data region", Size, ReplicasPerZone),
		fmt.Sprintf("%d (%d per zone)", Size, ReplicasPerZone),
		[]string{"rook-pools"}, []string{"STOR005"}, checkPoolSize}
	MgrPool = Rule{"mgr-pool", "a CephBlockPool defines the builtin " + MgrPoolName + " pool, so that Ceph does not create it with its default size",
		MgrPoolName, []string{"rook-pools"}, []string{"STOR007"}, checkMgrPool}
	NoErasureCoding = Rule{"no-erasure-coding", "no CephBlockPool is erasure coded (as Rook reads it: data or coding chunks above 0)",
		"", []string{"rook-pools"}, []string{"STOR005"}, checkErasureCoding}
	OSDRegions = Rule{"osd-regions", "OSDs run only on storage nodes of the data regions, never in the arbiter",
		"", []string{"rook-osd-placement"}, []string{"STOR003"}, checkOSDRegions}
	WireGuard = Rule{"wireguard", "FelixConfiguration default turns WireGuard on exactly when the topology encrypts",
		"", []string{"calico-wireguard"}, []string{"NET001"}, checkWireGuard}
)

// Book is the rule book, in the order the docs list it.
var Book = []Rule{Mons, Arbiter, Zones, FailureDomain, PoolSize, MgrPool, NoErasureCoding, OSDRegions, WireGuard}

// Check runs the given rules, in that order, and returns their violations.
func Check(m *topology.Model, o *Objects, rs ...Rule) []Violation {
	var out []Violation
	for _, r := range rs {
		for _, v := range r.Check(m, o) {
			v.Rule = r.ID
			out = append(out, v)
		}
	}
	return out
}
