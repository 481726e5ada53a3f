package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// Rook's phase of a reconciled object, and where the bundle holds the
// storage layer.
const (
	phaseReady       = "Ready"
	storageStageHint = "the bundle's " + layout.DirStorage + " (Flux stage " + layout.ObjectPrefix + layout.StageStorage + ")"
)

// storageChecks are the checks of the storage layer (Rook and Ceph).
func storageChecks() []Check {
	return []Check{
		{
			ID: "STOR001", Layer: LayerStorage, Severity: SeverityError,
			Title: "The CephCluster is in stretch mode over the topology's regions",
			Doc: fmt.Sprintf("The CephCluster in the storage namespace must run %d mons in stretch mode ", rules.MonCount) +
				"(spec.mon.stretchCluster) over exactly the topology's three regions, with the arbiter " +
				"region as its only arbiter zone and topology.kubernetes.io/zone as the failure domain " +
				"label. Rook cannot turn an existing cluster into a stretch cluster, so a wrong spec " +
				"found late is expensive.",
			Needs: []Kind{KindCephClusters},
			Run:   checkStretchSpec,
		},
		{
			ID: "STOR002", Layer: LayerStorage, Severity: SeverityError,
			Title: fmt.Sprintf("The mons are placed %d/%d/%d", rules.MonsPerDataRegion, rules.MonsPerDataRegion, rules.MonsInArbiter),
			Doc: "Ceph's stretch mode needs two mons in each data region and the tiebreaker in the " +
				"arbiter: OSDs only talk to the mons of their own region, and the arbiter decides which " +
				"side keeps quorum. The check counts the mon pods (app=rook-ceph-mon) by Rook's zone " +
				"label, and checks that each runs on a node of the region its label names.",
			Needs: []Kind{KindNodes, KindPods},
			Run:   checkMonPlacement,
		},
		{
			ID: "STOR003", Layer: LayerStorage, Severity: SeverityError,
			Title: "No OSD runs in the arbiter region",
			Doc: "An OSD in the arbiter puts a third zone in the CRUSH map, and Rook then refuses to " +
				"enable stretch mode. The check reads the OSD pods' topology-location-zone label " +
				"(app=rook-ceph-osd) and their nodes, and the CephCluster's spec that places them: " +
				"spec.storage lists only the data regions' storage nodes (no useAllNodes), and " +
				"spec.placement.osd requires a node affinity to the data regions.",
			Needs: []Kind{KindNodes, KindPods, KindCephClusters},
			Run:   checkNoArbiterOSD,
		},
		{
			ID: "STOR004", Layer: LayerStorage, Severity: SeverityError,
			Title: "Both data regions run the same number of OSDs",
			Doc: "Stretch mode needs the two data zones of the CRUSH map to weigh the same (Squid: " +
				"exactly; Tentacle 20.2.2 and later: within 10%), and a region with no OSD holds no copy. " +
				"The check counts OSD pods per data region; equal disks per OSD are assumed.",
			Needs: []Kind{KindNodes, KindPods},
			Run:   checkOSDBalance,
		},
		{
			ID: "STOR005", Layer: LayerStorage, Severity: SeverityError,
			Title: fmt.Sprintf("Every CephBlockPool is replicated with size %d", rules.Size),
			Doc: fmt.Sprintf("In a stretch cluster every pool keeps %d copies, %d per data region (Rook refuses other ", rules.Size, rules.ReplicasPerZone) +
				fmt.Sprintf("sizes and erasure coding: \"pools in a stretch cluster must have replication size %d\"). A ", rules.Size) +
				"pool of size 3 leaves one region with a single copy, or none.",
			Needs: []Kind{KindCephBlockPools},
			Run:   checkPoolSizes,
		},
		{
			ID: "STOR006", Layer: LayerStorage, Severity: SeverityError,
			Title: "The topology's block pools exist and are Ready",
			Doc: "Every block pool of the topology must exist as a CephBlockPool in the storage namespace " +
				"with status.phase Ready (Rook created it in Ceph).",
			Needs: []Kind{KindCephBlockPools},
			Run:   checkTopologyPools,
		},
		{
			ID: "STOR007", Layer: LayerStorage, Severity: SeverityError,
			Title: "The builtin .mgr pool is defined",
			Doc: "Without a CephBlockPool for .mgr (spec.name: .mgr), Ceph creates that pool with size 3 " +
				"and no stretch rule, and Rook (1.17 and later) does not enable stretch mode " +
				"(rook#12356).",
			Needs: []Kind{KindCephBlockPools},
			Run:   checkMgrPool,
		},
		{
			ID: "STOR008", Layer: LayerStorage, Severity: SeverityError,
			Title: "Ceph is healthy",
			Doc: "Rook copies Ceph's health into the CephCluster's status.ceph.health. HEALTH_OK passes; " +
				"HEALTH_WARN is a warning, except DEGRADED_STRETCH_MODE (a data region is down and every " +
				"pool runs on 2 copies with min_size 1), which fails, as does HEALTH_ERR.",
			Needs: []Kind{KindCephClusters},
			Run:   checkCephHealth,
		},
		{
			ID: "STOR009", Layer: LayerStorage, Severity: SeverityError,
			Title: "Rook reports the CephCluster Ready",
			Doc: "status.phase Ready means the operator reconciled the cluster: mons, mgrs and OSDs are " +
				"deployed and stretch mode is configured. Progressing for long, or Failure, needs a look at " +
				"the operator's log.",
			Needs: []Kind{KindCephClusters},
			Run:   checkCephReady,
		},
		{
			ID: "STOR010", Layer: LayerStorage, Severity: SeverityError,
			Title: "The topology's StorageClasses use its pools",
			Doc: "Each block pool's StorageClass must exist, use Rook's RBD provisioner " +
				"(<namespace>.rbd.csi.ceph.com) and point at that pool in the CephCluster's namespace, so " +
				fmt.Sprintf("that new volumes get %d copies over both data regions.", rules.Size),
			Needs: []Kind{KindStorageClasses},
			Run:   checkStorageClasses,
		},
		{
			ID: "STOR011", Layer: LayerStorage, Severity: SeverityError,
			Title: "The StorageClasses' CSI driver is registered",
			Doc: "A CSIDriver object named like the StorageClasses' provisioner (<namespace>.rbd.csi.ceph.com) " +
				"says that Ceph CSI's RBD driver is installed. Since Rook v1.20 the rook-ceph chart installs only " +
				"the Ceph CSI operator; the drivers come from the ceph-csi-drivers chart (the bundle's " +
				"ceph-csi-drivers HelmRelease). Without the driver every PersistentVolumeClaim on the " +
				"topology's classes stays Pending.",
			Needs: []Kind{KindCSIDrivers},
			Run:   checkCSIDriver,
		},
	}
}

func checkCSIDriver(s *Snapshot, m *topology.Model) []Result {
	var classes []string
	for _, bp := range m.Storage.Pools {
		if bp.StorageClass != "" {
			classes = append(classes, bp.StorageClass)
		}
	}
	if len(classes) == 0 {
		return []Result{pass("the topology has no StorageClass")}
	}
	for i := range s.CSIDrivers {
		if s.CSIDrivers[i].Name == m.Storage.Provisioner {
			return []Result{pass("CSIDriver %s, the provisioner of %s, is registered", m.Storage.Provisioner, strings.Join(classes, ", "))}
		}
	}
	installer := "the Rook operator installs it (before Rook v1.20): see the rook-ceph-operator log"
	if m.Storage.CSIDrivers != nil {
		installer = fmt.Sprintf("the ceph-csi-drivers HelmRelease of %s installs it: "+
			"see kubectl get helmreleases -n %s", stageHint(layout.StageStorageOperator), m.Storage.Namespace)
	}
	return []Result{fail(ref("CSIDriver", "", m.Storage.Provisioner),
		"no CSIDriver %s: Ceph CSI's RBD driver, the provisioner of %s %s, is not installed, and every PersistentVolumeClaim on %s stays Pending; %s",
		m.Storage.Provisioner, plural(len(classes), "StorageClass", "StorageClasses"), strings.Join(classes, ", "),
		plural(len(classes), "it", "them"), installer)}
}

// inNamespace returns the objects of namespace ns.
func inNamespace[T any, P interface {
	*T
	GetNamespace() string
}](objs []T, ns string) []*T {
	var out []*T
	for i := range objs {
		if P(&objs[i]).GetNamespace() == ns {
			out = append(out, &objs[i])
		}
	}
	return out
}

// cephClusters returns the CephClusters of the storage namespace.
func cephClusters(s *Snapshot, m *topology.Model) []*rook.CephCluster {
	return inNamespace(s.CephClusters, m.Storage.Namespace)
}

func clusterRef(c *rook.CephCluster) string { return ref("CephCluster", c.Namespace, c.Name) }

func noCephCluster(m *topology.Model) string {
	return fmt.Sprintf("no CephCluster in namespace %s: apply %s, after the Rook operator", m.Storage.Namespace, storageStageHint)
}

func checkStretchSpec(s *Snapshot, m *topology.Model) []Result {
	clusters := cephClusters(s, m)
	if len(clusters) == 0 {
		return []Result{fail("", "%s", noCephCluster(m))}
	}
	var out []Result
	for _, c := range clusters {
		for _, v := range rules.Check(m, &rules.Objects{Cluster: c}, rules.Mons, rules.Zones, rules.Arbiter, rules.FailureDomain) {
			out = append(out, ruleResult(m, v))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("CephCluster %s/%s runs %d mons in stretch mode over %s, arbiter %s", clusters[0].Namespace, clusters[0].Name,
			rules.MonCount, strings.Join(rules.RegionNames(m), ", "), m.Arbiter))
	}
	return out
}

// cephPods returns the placed, live pods of the storage namespace with
// label app=app.
func cephPods(s *Snapshot, m *topology.Model, app string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Namespace == m.Storage.Namespace && p.Labels[rook.LabelApp] == app && p.Spec.NodeName != "" && live(p) {
			out = append(out, p)
		}
	}
	return out
}

// daemonName names a Ceph daemon by its ID label, else its pod name.
func daemonName(p *corev1.Pod, idLabel string) string {
	if id := p.Labels[idLabel]; id != "" {
		return id
	}
	return p.Name
}

func checkMonPlacement(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	mons := cephPods(s, m, rook.AppMon)
	byZone := map[string][]string{}
	var out []Result
	for _, p := range mons {
		zone := p.Labels[rook.LabelMonZone]
		byZone[zone] = append(byZone[zone], daemonName(p, rook.LabelMonID))
		obj := ref("Pod", p.Namespace, p.Name)
		region, known := idx.regions[p.Spec.NodeName]
		switch {
		case zone == "":
			out = append(out, fail(obj, "mon %s has no %s label: it was not created by Rook in stretch mode; check the CephCluster (STOR001)",
				daemonName(p, rook.LabelMonID), rook.LabelMonZone))
		case known && region != "" && region != zone:
			out = append(out, fail(obj, "mon %s is labelled zone %s but runs on node %s in region %s: fix the node's zone label (NODE002), then let Rook fail the mon over (delete its Deployment rook-ceph-mon-%s)",
				daemonName(p, rook.LabelMonID), zone, p.Spec.NodeName, region, daemonName(p, rook.LabelMonID)))
		}
	}
	for _, v := range rules.Check(m, &rules.Objects{Daemons: true, Mons: daemons(idx, mons, rook.LabelMonID, rook.LabelMonZone)}, rules.Mons) {
		out = append(out, ruleResult(m, v))
	}
	if len(out) == 0 {
		parts := make([]string, 0, len(m.Regions))
		for _, r := range m.Regions {
			parts = append(parts, fmt.Sprintf("%s: %d", r.Name, len(byZone[r.Name])))
		}
		out = append(out, pass("%d mons placed %s", len(mons), strings.Join(parts, ", ")))
	}
	return out
}

// osdRegion is the region of an OSD pod: Rook's topology-location-zone
// label, else its node's region.
func osdRegion(idx *index, p *corev1.Pod) string {
	if z := p.Labels[rook.LabelOSDZone]; z != "" {
		return z
	}
	return idx.regions[p.Spec.NodeName]
}

func checkNoArbiterOSD(s *Snapshot, m *topology.Model) []Result {
	osds := cephPods(s, m, rook.AppOSD)
	var out []Result
	// The OSDs that run, and the CephCluster spec that places them (STOR001
	// reports a missing or second CephCluster).
	o := &rules.Objects{Daemons: true, OSDs: daemons(s.index(m), osds, rook.LabelOSDID, rook.LabelOSDZone)}
	if cs := cephClusters(s, m); len(cs) == 1 {
		o.Cluster = cs[0]
	}
	for _, v := range rules.Check(m, o, rules.OSDRegions) {
		out = append(out, ruleResult(m, v))
	}
	if len(out) == 0 {
		out = append(out, pass("none of the %d OSDs runs in the arbiter region %s", len(osds), m.Arbiter))
	}
	return out
}

// daemons gives the rule book Rook's daemon pods: their ID and zone
// labels, their nodes and those nodes' regions.
func daemons(idx *index, pods []*corev1.Pod, idLabel, zoneLabel string) []rules.Daemon {
	out := make([]rules.Daemon, len(pods))
	for i, p := range pods {
		out[i] = rules.Daemon{Pod: rules.Object{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}, ID: daemonName(p, idLabel),
			Zone: p.Labels[zoneLabel], Node: p.Spec.NodeName, Region: idx.regions[p.Spec.NodeName]}
	}
	return out
}

func checkOSDBalance(s *Snapshot, m *topology.Model) []Result {
	idx := s.index(m)
	perRegion := map[string]int{}
	for _, p := range cephPods(s, m, rook.AppOSD) {
		perRegion[osdRegion(idx, p)]++
	}
	var parts []string
	counts := make([]int, 0, len(m.Data))
	for _, r := range m.Data {
		parts = append(parts, fmt.Sprintf("%s: %d", r, perRegion[r]))
		counts = append(counts, perRegion[r])
	}
	if slices.Contains(counts, 0) {
		return []Result{fail("", "a data region runs no OSD (%s): it holds no copy of the data; check the storage nodes there (NODE004, NODE005) and the OSD prepare jobs in namespace %s",
			strings.Join(parts, ", "), m.Storage.Namespace)}
	}
	if slices.Min(counts) != slices.Max(counts) {
		return []Result{fail("", "the data regions run different numbers of OSDs (%s): stretch mode needs both zones to weigh the same; add disks to the smaller region or list the same devices per region in spec.storage.nodes",
			strings.Join(parts, ", "))}
	}
	return []Result{pass("OSDs per data region: %s", strings.Join(parts, ", "))}
}

// pools returns the CephBlockPools of the storage namespace.
func pools(s *Snapshot, m *topology.Model) []*rook.CephBlockPool {
	return inNamespace(s.CephBlockPools, m.Storage.Namespace)
}

func poolRef(p *rook.CephBlockPool) string { return ref("CephBlockPool", p.Namespace, p.Name) }

func checkPoolSizes(s *Snapshot, m *topology.Model) []Result {
	var out []Result
	all := pools(s, m)
	for _, p := range all {
		for _, v := range rules.Check(m, &rules.Objects{Pools: []*rook.CephBlockPool{p}}, rules.NoErasureCoding, rules.PoolSize) {
			out = append(out, ruleResult(m, v))
		}
	}
	if len(out) == 0 {
		if len(all) == 0 {
			return []Result{pass("no CephBlockPool in %s (see STOR006, STOR007)", m.Storage.Namespace)}
		}
		out = append(out, pass("%s in %s %s replicated.size %d", allOf(len(all), "CephBlockPool", "CephBlockPools"), m.Storage.Namespace, plural(len(all), "has", "have"), rules.Size))
	}
	return out
}

// poolPhase returns a pool's status.phase.
func poolPhase(p *rook.CephBlockPool) string {
	var st struct {
		Phase string `json:"phase"`
	}
	if len(p.Status) > 0 {
		_ = json.Unmarshal(p.Status, &st) // an unreadable status has no phase
	}
	return st.Phase
}

func checkTopologyPools(s *Snapshot, m *topology.Model) []Result {
	byName := map[string]*rook.CephBlockPool{}
	for _, p := range pools(s, m) {
		byName[p.Name] = p
	}
	var out []Result
	for _, bp := range m.Storage.Pools {
		p := byName[bp.Name]
		switch {
		case p == nil:
			out = append(out, fail(ref("CephBlockPool", m.Storage.Namespace, bp.Name), "CephBlockPool %s/%s does not exist: apply %s",
				m.Storage.Namespace, bp.Name, storageStageHint))
		case poolPhase(p) != phaseReady:
			phase := poolPhase(p)
			if phase == "" {
				phase = "none yet"
			}
			out = append(out, fail(poolRef(p), "CephBlockPool %s is not Ready (phase: %s): see its status.conditions and the rook-ceph-operator log",
				bp.Name, phase))
		}
	}
	if len(out) == 0 {
		names := make([]string, 0, len(m.Storage.Pools))
		for _, bp := range m.Storage.Pools {
			names = append(names, bp.Name)
		}
		out = append(out, pass("%s %s %s Ready", plural(len(names), "pool", "pools"), strings.Join(names, ", "), plural(len(names), "is", "are")))
	}
	return out
}

func checkMgrPool(s *Snapshot, m *topology.Model) []Result {
	all := pools(s, m)
	if vs := rules.Check(m, &rules.Objects{Pools: all}, rules.MgrPool); len(vs) > 0 {
		return []Result{ruleResult(m, vs[0])}
	}
	for _, p := range all {
		if p.Spec.Name == rules.MgrPoolName {
			return []Result{pass("CephBlockPool %s defines the %s pool", p.Name, rules.MgrPoolName)}
		}
	}
	return nil
}

// clusterStatus is the part of a CephCluster's status the checks read.
type clusterStatus struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
	Ceph    *struct {
		Health  string `json:"health"`
		Details map[string]struct {
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"details"`
	} `json:"ceph"`
}

func statusOf(c *rook.CephCluster) clusterStatus {
	var st clusterStatus
	if len(c.Status) > 0 {
		_ = json.Unmarshal(c.Status, &st) // an unreadable status reads as none
	}
	return st
}

// perCluster runs one cluster's part of a status check on each CephCluster
// of the storage namespace; it skips when there is none (STOR001 fails).
func perCluster(s *Snapshot, m *topology.Model, one func(c *rook.CephCluster, st clusterStatus) Result) []Result {
	clusters := cephClusters(s, m)
	if len(clusters) == 0 {
		return []Result{skip("no CephCluster in %s (see STOR001)", m.Storage.Namespace)}
	}
	out := make([]Result, len(clusters))
	for i, c := range clusters {
		out[i] = one(c, statusOf(c))
	}
	return out
}

func checkCephHealth(s *Snapshot, m *topology.Model) []Result {
	return perCluster(s, m, cephHealth)
}

func cephHealth(c *rook.CephCluster, st clusterStatus) Result {
	obj := clusterRef(c)
	if st.Ceph == nil || st.Ceph.Health == "" {
		return fail(obj, "CephCluster %s/%s reports no health (status.ceph.health): is the rook-ceph-operator running? See its log", c.Namespace, c.Name)
	}
	codes := slices.Sorted(maps.Keys(st.Ceph.Details))
	var details []string
	for _, code := range codes {
		details = append(details, code+": "+st.Ceph.Details[code].Message)
	}
	detail := ""
	if len(details) > 0 {
		detail = " (" + strings.Join(details, "; ") + ")"
	}
	switch {
	case st.Ceph.Health == rook.HealthOK:
		return pass("CephCluster %s/%s is %s", c.Namespace, c.Name, rook.HealthOK)
	case slices.Contains(codes, rook.CheckDegradedStretchMode):
		return fail(obj, "Ceph is in degraded stretch mode%s: a data region is down and every pool runs on 2 copies with min_size 1; bring the region back; Ceph recovers by itself when it returns",
			detail)
	case st.Ceph.Health == rook.HealthWarn:
		return warn(obj, "Ceph reports %s%s: check \"ceph health detail\" in the rook-ceph-tools pod", rook.HealthWarn, detail)
	}
	return fail(obj, "Ceph reports %s%s: data may be unavailable; check \"ceph health detail\" in the rook-ceph-tools pod", st.Ceph.Health, detail)
}

func checkCephReady(s *Snapshot, m *topology.Model) []Result {
	return perCluster(s, m, cephReady)
}

func cephReady(c *rook.CephCluster, st clusterStatus) Result {
	if st.Phase == phaseReady {
		return pass("CephCluster %s/%s is Ready", c.Namespace, c.Name)
	}
	phase := st.Phase
	if phase == "" {
		phase = "none yet"
	}
	msg := ""
	if st.Message != "" {
		msg = ": " + st.Message
	}
	return fail(clusterRef(c), "CephCluster %s/%s is not Ready (phase %s%s): see its status.conditions and the rook-ceph-operator log",
		c.Namespace, c.Name, phase, msg)
}

func checkStorageClasses(s *Snapshot, m *topology.Model) []Result {
	byName := map[string]int{}
	for i := range s.StorageClasses {
		byName[s.StorageClasses[i].Name] = i + 1
	}
	var out []Result
	var names []string
	for _, bp := range m.Storage.Pools {
		if bp.StorageClass == "" {
			continue
		}
		names = append(names, bp.StorageClass)
		obj := ref("StorageClass", "", bp.StorageClass)
		i := byName[bp.StorageClass]
		if i == 0 {
			out = append(out, fail(obj, "StorageClass %s does not exist: apply %s", bp.StorageClass, storageStageHint))
			continue
		}
		sc := &s.StorageClasses[i-1]
		if sc.Provisioner != m.Storage.Provisioner {
			out = append(out, fail(obj, "StorageClass %s uses provisioner %s, want %s: its volumes are not in the stretched Ceph pools; recreate it from %s",
				sc.Name, sc.Provisioner, m.Storage.Provisioner, storageStageHint))
		}
		if p := sc.Parameters["pool"]; p != bp.Name {
			out = append(out, fail(obj, "StorageClass %s uses pool %q, want %s: recreate it from %s (StorageClass parameters cannot be changed)",
				sc.Name, p, bp.Name, storageStageHint))
		}
		if id := sc.Parameters["clusterID"]; id != m.Storage.Namespace {
			out = append(out, fail(obj, "StorageClass %s has clusterID %q, want %s (the CephCluster's namespace): recreate it from %s",
				sc.Name, id, m.Storage.Namespace, storageStageHint))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("%s %s %s the stretched pools", plural(len(names), "StorageClass", "StorageClasses"), strings.Join(names, ", "), plural(len(names), "uses", "use")))
	}
	return out
}
