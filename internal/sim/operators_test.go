package sim

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// exampleModel is the model of the project's example topology (demo-eu:
// data regions sto1 and sto2 with five nodes each, arbiter osl1 with one).
func exampleModel(t testing.TB) *topology.Model {
	t.Helper()
	f, err := topology.Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return topology.NewModel(f.Topology)
}

// exampleCephCluster is the CephCluster of the example bundle, as
// rendered, and the example's nodes by name.
func exampleCephCluster(t testing.TB) (*rook.CephCluster, map[string]*corev1.Node) {
	t.Helper()
	data, err := os.ReadFile("../../testdata/golden/example/storage/rook/cluster/cephcluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	c, err := decodeCephCluster(&unstructured.Unstructured{Object: obj})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]*corev1.Node{}
	for _, n := range exampleModel(t).Nodes {
		node, err := NodeObject(n, "1.35.4")
		if err != nil {
			t.Fatal(err)
		}
		nodes[n.Name] = node
	}
	return c, nodes
}

// TestPlanDaemons: the daemons of the example's CephCluster are Rook's,
// with Rook's zones and placement, and none is given a node.
func TestPlanDaemons(t *testing.T) {
	t.Parallel()
	c, nodes := exampleCephCluster(t)
	daemons, problems := planDaemons(c, nodes)
	if len(problems) > 0 {
		t.Errorf("problems: %q", problems)
	}
	var got []string
	for _, d := range daemons {
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", d.podName(), d.kind, d.zone, d.node)))
		if d.pod.Spec.NodeName != "" {
			t.Errorf("%s: spec.nodeName %q: the scheduler places the daemons", d.podName(), d.pod.Spec.NodeName)
		}
		if d.pod.Namespace != "rook-ceph" || d.pod.Name != d.podName() {
			t.Errorf("pod %s/%s, want rook-ceph/%s", d.pod.Namespace, d.pod.Name, d.podName())
		}
	}
	// Rook's findAvailableZone, in the order of stretchCluster.zones
	// (osl1 is the arbiter and first).
	want := []string{
		"rook-ceph-mon-a mon osl1",
		"rook-ceph-mon-b mon sto1",
		"rook-ceph-mon-c mon sto1",
		"rook-ceph-mon-d mon sto2",
		"rook-ceph-mon-e mon sto2",
		"rook-ceph-mgr-a mgr",
		"rook-ceph-mgr-b mgr",
		"rook-ceph-osd-0 osd sto1 sto1-s-0",
		"rook-ceph-osd-1 osd sto1 sto1-s-1",
		"rook-ceph-osd-2 osd sto2 sto2-s-0",
		"rook-ceph-osd-3 osd sto2 sto2-s-1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	byName := map[string]*corev1.Pod{}
	for _, d := range daemons {
		byName[d.podName()] = d.pod
	}
	required := func(p *corev1.Pod) []string {
		var out []string
		if p.Spec.Affinity == nil || p.Spec.Affinity.NodeAffinity == nil || p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			return nil
		}
		for _, term := range p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				out = append(out, e.Key+" "+string(e.Operator)+" "+strings.Join(e.Values, ","))
			}
			out = append(out, "|")
		}
		return out
	}
	tolerates := func(p *corev1.Pod, key string) bool {
		return slices.ContainsFunc(p.Spec.Tolerations, func(t corev1.Toleration) bool { return t.Key == key })
	}
	// A data mon: its zone, with the mons' placement (no node affinity of
	// its own) and its tolerations.
	if got, want := required(byName["rook-ceph-mon-d"]), []string{"topology.kubernetes.io/zone In sto2", "|"}; !slices.Equal(got, want) {
		t.Errorf("mon d node affinity %q, want %q", got, want)
	}
	if p := byName["rook-ceph-mon-d"]; !tolerates(p, "stretch.dev/storage") || tolerates(p, "stretch.dev/arbiter") {
		t.Errorf("mon d tolerations %v: want the mons' placement", p.Spec.Tolerations)
	}
	// The arbiter's mon: the arbiter's placement only.
	if p := byName["rook-ceph-mon-a"]; !tolerates(p, "stretch.dev/arbiter") || tolerates(p, "stretch.dev/storage") {
		t.Errorf("mon a tolerations %v: want the arbiter's placement", p.Spec.Tolerations)
	}
	anti := byName["rook-ceph-mon-b"].Spec.Affinity.PodAntiAffinity
	if anti == nil || len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 1 ||
		anti.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("mon b anti-affinity %+v, want one required term on kubernetes.io/hostname", anti)
	}
	// mgrs: their placement, kept apart per zone.
	if got, want := required(byName["rook-ceph-mgr-a"]), []string{"topology.kubernetes.io/zone In sto1,sto2", "|"}; !slices.Equal(got, want) {
		t.Errorf("mgr a node affinity %q, want %q", got, want)
	}
	if anti := byName["rook-ceph-mgr-a"].Spec.Affinity.PodAntiAffinity; anti == nil ||
		anti.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "topology.kubernetes.io/zone" {
		t.Errorf("mgr a anti-affinity %+v, want a required term on the zone", anti)
	}
	// OSDs: pinned to their node by hostname, with the OSDs' placement.
	osd := byName["rook-ceph-osd-2"]
	if !maps.Equal(osd.Spec.NodeSelector, map[string]string{"kubernetes.io/hostname": "sto2-s-0"}) {
		t.Errorf("OSD 2 nodeSelector %v", osd.Spec.NodeSelector)
	}
	if got, want := required(osd), []string{"stretch.dev/storage In true", "topology.kubernetes.io/zone In sto1,sto2", "|"}; !slices.Equal(got, want) {
		t.Errorf("OSD 2 node affinity %q, want %q", got, want)
	}
}

// TestPlanDaemonsFromSpec: the counts, zones and OSDs follow the spec, and
// what Rook would refuse is said.
func TestPlanDaemonsFromSpec(t *testing.T) {
	t.Parallel()
	c, nodes := exampleCephCluster(t)
	c.Spec.Mon.Count = 7
	c.Spec.Mgr.Count = 1
	c.Spec.Storage.Nodes[0].Devices = append(c.Spec.Storage.Nodes[0].Devices, rook.Device{Name: "vdc"})
	c.Spec.Storage.Nodes = append(c.Spec.Storage.Nodes, rook.StorageNode{Name: "nowhere", Devices: []rook.Device{{Name: "vdb"}}})
	daemons, problems := planDaemons(c, nodes)
	count := map[string]int{}
	for _, d := range daemons {
		count[d.kind]++
	}
	// Seven mons: Rook assigns zones to the first three (two per data
	// zone only with five mons) and stops.
	if want := map[string]int{daemonMon: 3, daemonMgr: 1, daemonOSD: 5}; !maps.Equal(count, want) {
		t.Errorf("daemons %v, want %v", count, want)
	}
	want := []string{
		"no zone is left for mon d of 7 (zones osl1, sto1, sto2): Rook stops here",
		"storage node nowhere is not a node of the cluster: no OSD there",
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
}

func TestAssignMonZones(t *testing.T) {
	t.Parallel()
	stretch := &rook.ClusterSpec{Mon: rook.MonSpec{StretchCluster: &rook.StretchClusterSpec{Zones: []rook.MonZoneSpec{
		{Name: "x"}, {Name: "arb", Arbiter: true}, {Name: "y"},
	}}}}
	plain := &rook.ClusterSpec{}
	zoned := &rook.ClusterSpec{Mon: rook.MonSpec{Zones: []rook.MonZoneSpec{{Name: "x"}, {Name: "y"}, {Name: "z"}}}}
	tests := []struct {
		name  string
		spec  *rook.ClusterSpec
		count int
		want  []string
		err   bool
	}{
		{"stretch, 5 mons", stretch, 5, []string{"x", "x", "arb", "y", "y"}, false},
		{"stretch, 3 mons", stretch, 3, []string{"x", "arb", "y"}, false},
		{"stretch, 4 mons", stretch, 4, []string{"x", "arb", "y"}, true},
		{"no zones", plain, 3, []string{"", "", ""}, false},
		{"mon zones", zoned, 3, []string{"x", "y", "z"}, false},
	}
	for _, tc := range tests {
		got, err := assignMonZones(tc.spec, tc.count)
		if !slices.Equal(got, tc.want) || (err != nil) != tc.err {
			t.Errorf("%s: %q, %v; want %q, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestMergeNodeAffinity: Rook ANDs the first required terms of the
// placement and of the pod.
func TestMergeNodeAffinity(t *testing.T) {
	t.Parallel()
	term := func(key, value string) *corev1.NodeAffinity {
		return &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}},
			}}},
		}}
	}
	got := mergeNodeAffinity(term("zone", "sto1"), term("zone", "sto2"))
	exprs := got.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions
	if len(exprs) != 2 || exprs[0].Values[0] != "sto2" || exprs[1].Values[0] != "sto1" {
		t.Errorf("merged %+v, want the pod's zone AND the placement's", exprs)
	}
	if got := mergeNodeAffinity(term("a", "b"), nil); !reflect.DeepEqual(got, term("a", "b")) {
		t.Errorf("onto no affinity: %+v", got)
	}
	if got := mergeNodeAffinity(&corev1.NodeAffinity{}, term("a", "b")); !reflect.DeepEqual(got, term("a", "b")) {
		t.Errorf("no required terms in the placement: %+v", got)
	}
}

// exampleStates are the example's daemons as the scheduler may place
// them: mon a on the arbiter, b and c in sto1, d and e in sto2, one OSD per
// storage node, mgrs in sto1 and sto2.
func exampleStates() []daemonState {
	return []daemonState{
		{kind: daemonMon, id: "a", zone: "osl1", host: "osl1-cp-0"},
		{kind: daemonMon, id: "b", zone: "sto1", host: "sto1-s-0"},
		{kind: daemonMon, id: "c", zone: "sto1", host: "sto1-w-0"},
		{kind: daemonMon, id: "d", zone: "sto2", host: "sto2-s-0"},
		{kind: daemonMon, id: "e", zone: "sto2", host: "sto2-w-1"},
		{kind: daemonMgr, id: "a", zone: "sto1", host: "sto1-w-1"},
		{kind: daemonMgr, id: "b", zone: "sto2", host: "sto2-w-0"},
		{kind: daemonOSD, id: "0", zone: "sto1", host: "sto1-s-0"},
		{kind: daemonOSD, id: "1", zone: "sto1", host: "sto1-s-1"},
		{kind: daemonOSD, id: "2", zone: "sto2", host: "sto2-s-0"},
		{kind: daemonOSD, id: "3", zone: "sto2", host: "sto2-s-1"},
	}
}

func TestAssessCeph(t *testing.T) {
	t.Parallel()
	const (
		warn = HealthWarn
		err  = HealthErr
	)
	tests := []struct {
		name string
		down []string // zones or hosts that are down
		// unscheduled are the mons the scheduler could not place (their
		// zone is the one Rook assigned).
		unscheduled []string
		want        cephHealth
	}{
		{name: "all up", want: cephHealth{health: HealthOK, details: map[string]healthMessage{}}},
		{name: "data region lost", down: []string{"sto1"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown:             {warn, "2/5 mons down, quorum a,d,e"},
			CheckOSDDown:             {warn, "2 osds down"},
			CheckOSDHostDown:         {warn, "2 hosts (2 osds) down"},
			CheckOSDZoneDown:         {warn, "1 zone (2 osds) down"},
			CheckDegradedStretchMode: {warn, "We are missing stretch mode buckets, only requiring 1 of 2 buckets to peer"},
		}}},
		{name: "arbiter lost", down: []string{"osl1"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown: {warn, "1/5 mons down, quorum b,c,d,e"},
		}}},
		{name: "one storage host lost", down: []string{"sto2-s-0"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown:     {warn, "1/5 mons down, quorum a,b,c,e"},
			CheckOSDDown:     {warn, "1 osds down"},
			CheckOSDHostDown: {warn, "1 host (1 osds) down"},
		}}},
		{name: "data region and arbiter lost", down: []string{"sto1", "osl1"}, want: cephHealth{health: err, details: map[string]healthMessage{
			CheckMonDown:     {err, "3/5 mons down, no quorum (a real cluster would not answer at all)"},
			CheckOSDDown:     {warn, "2 osds down"},
			CheckOSDHostDown: {warn, "2 hosts (2 osds) down"},
			CheckOSDZoneDown: {warn, "1 zone (2 osds) down"},
		}}},
		// A placement that confines the mons to sto1: the other zones'
		// mons cannot be scheduled, and the mons have no quorum.
		{name: "mons confined to one region", unscheduled: []string{"a", "d", "e"}, want: cephHealth{health: err, details: map[string]healthMessage{
			CheckMonDown: {err, "3/5 mons down, no quorum (a real cluster would not answer at all)"},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			states := exampleStates()
			for i, d := range states {
				if d.kind == daemonMon && slices.Contains(tc.unscheduled, d.id) {
					states[i].host = ""
					continue
				}
				states[i].up = !slices.Contains(tc.down, d.host) && !slices.Contains(tc.down, d.zone)
			}
			got := assessCeph([]string{"sto1", "sto2"}, states)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDaemonStates: a daemon is up only when its pod was scheduled onto a
// Ready node and is not being deleted; its zone is its node's.
func TestDaemonStates(t *testing.T) {
	t.Parallel()
	c, nodes := exampleCephCluster(t)
	daemons, _ := planDaemons(c, nodes)
	rc := rookCluster{spec: c, daemons: daemons}
	for _, n := range nodes {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	}
	pods := map[string]*corev1.Pod{}
	for _, d := range daemons {
		p := d.pod.DeepCopy()
		pods[p.Namespace+"/"+p.Name] = p
	}
	pods["rook-ceph/rook-ceph-mon-b"].Spec.NodeName = "sto2-w-0" // scheduled elsewhere than its zone
	pods["rook-ceph/rook-ceph-mon-c"].Spec.NodeName = "sto1-w-0"
	pods["rook-ceph/rook-ceph-mon-d"].Spec.NodeName = "sto2-s-0"
	pods["rook-ceph/rook-ceph-mon-d"].DeletionTimestamp = &metav1.Time{}
	nodes["sto1-w-0"].Status.Conditions[0].Status = corev1.ConditionUnknown
	got := map[string]string{}
	for _, st := range daemonStates(rc, pods, nodes) {
		if st.kind == daemonMon {
			got[st.id] = fmt.Sprintf("%s %s %v", st.zone, st.host, st.up)
		}
	}
	want := map[string]string{
		"a": "osl1  false",         // not scheduled
		"b": "sto2 sto2-w-0 true",  // where it runs
		"c": "sto1 sto1-w-0 false", // its node is not Ready
		"d": "sto2 sto2-s-0 false", // being deleted
		"e": "sto2  false",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestDaemonLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    daemon
		want map[string]string
	}{
		{daemon{kind: daemonMon, id: "a", zone: "osl1"}, map[string]string{
			"app": "rook-ceph-mon", "mon": "a", "mon_cluster": "rook-ceph", "zone": "osl1",
			"ceph_daemon_type": "mon", "ceph_daemon_id": "a", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
		{daemon{kind: daemonOSD, id: "2", node: "sto2-s-0", zone: "sto2"}, map[string]string{
			"app": "rook-ceph-osd", "osd": "2", "ceph-osd-id": "2", "topology-location-zone": "sto2",
			"topology-location-host": "sto2-s-0",
			"ceph_daemon_type":       "osd", "ceph_daemon_id": "2", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
		{daemon{kind: daemonMgr, id: "a"}, map[string]string{
			"app": "rook-ceph-mgr", "mgr": "a", "instance": "a",
			"ceph_daemon_type": "mgr", "ceph_daemon_id": "a", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
	}
	for _, tc := range tests {
		if got := daemonLabels("rook-ceph", tc.d); !maps.Equal(got, tc.want) {
			t.Errorf("%s: got  %v\nwant %v", tc.d.podName(), got, tc.want)
		}
	}
}

// TestCalicoAnnotationsWireGuardOff: without WireGuard a node gets its
// address only.
func TestCalicoAnnotationsWireGuardOff(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	got := calicoAnnotations(m, func(node string) bool { return node == "sto1-w-0" })
	if a := got["sto2-w-0"]; len(a) != 2 || a[annotationIPv4Address] == "" || a[annotationWireguardKey] != "" {
		t.Errorf("sto2-w-0 without WireGuard: %v, want the node address and the simulated label only", a)
	}
	if a := got["sto1-w-0"]; a[annotationWireguardKey] == "" || a[annotationWireguardAddr] == "" {
		t.Errorf("sto1-w-0 with WireGuard: %v", a)
	}
}

func TestCalicoAnnotations(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	got := calicoAnnotations(m, func(string) bool { return true })
	pool := netip.MustParsePrefix(m.Kubernetes.PodSubnet)
	keys, tunnels := map[string]bool{}, map[string]bool{}
	for _, n := range m.Nodes {
		a := got[n.Name]
		key := a[annotationWireguardKey]
		raw, err := base64.StdEncoding.DecodeString(key)
		if len(key) != 44 || err != nil || len(raw) != 32 {
			t.Errorf("%s: WireGuard key %q is not the base64 of 32 bytes (%v)", n.Name, key, err)
		}
		tunnel, err := netip.ParseAddr(a[annotationWireguardAddr])
		if err != nil || !pool.Contains(tunnel) {
			t.Errorf("%s: tunnel address %q not in %s (%v)", n.Name, a[annotationWireguardAddr], pool, err)
		}
		if a[annotationIPv4Address] != n.IP+"/24" {
			t.Errorf("%s: IPv4Address %q, want %s/24", n.Name, a[annotationIPv4Address], n.IP)
		}
		if keys[key] || tunnels[tunnel.String()] {
			t.Errorf("%s: key or tunnel address used twice", n.Name)
		}
		keys[key], tunnels[tunnel.String()] = true, true
	}
	// The same on every run and machine.
	if got, want := WireGuardPublicKey("sto1-w-0"), "spvdnqAxq+UQdr7XFyVxeeetmBH8bLdIlbNDDy8zXWE="; got != want {
		t.Errorf("WireGuardPublicKey(sto1-w-0) = %q, want %q", got, want)
	}
	if got, want := got["sto1-cp-0"][annotationWireguardAddr], "10.233.64.1"; got != want {
		t.Errorf("tunnel address of the first node %s, want %s", got, want)
	}
	if got, want := got["sto1-w-0"][annotationWireguardAddr], "10.233.64.65"; got != want {
		t.Errorf("tunnel address of the second node %s, want %s", got, want)
	}
}

func TestNodeObject(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	byName := map[string]topology.NodeModel{}
	for _, n := range m.Nodes {
		byName[n.Name] = n
	}
	tests := []struct {
		node        string
		taints      []string
		cpu, memory string
		roleLabel   bool
	}{
		{"osl1-cp-0", []string{"stretch.dev/arbiter=true:NoSchedule", "node-role.kubernetes.io/control-plane=:NoSchedule"}, "4", "16Gi", true},
		{"sto1-cp-0", []string{"node-role.kubernetes.io/control-plane=:NoSchedule"}, "4", "16Gi", true},
		{"sto1-w-0", nil, "8", "32Gi", false},
		{"sto2-s-1", []string{"stretch.dev/storage=true:NoSchedule"}, "4", "16Gi", false},
	}
	for _, tc := range tests {
		t.Run(tc.node, func(t *testing.T) {
			t.Parallel()
			n := byName[tc.node]
			node, err := NodeObject(n, "1.35.4")
			if err != nil {
				t.Fatal(err)
			}
			var taints []string
			for _, taint := range node.Spec.Taints {
				taints = append(taints, taint.Key+"="+taint.Value+":"+string(taint.Effect))
			}
			if !slices.Equal(taints, tc.taints) {
				t.Errorf("taints %q, want %q", taints, tc.taints)
			}
			for k, v := range n.Labels {
				if node.Labels[k] != v {
					t.Errorf("label %s=%q, want %q", k, node.Labels[k], v)
				}
			}
			if node.Labels["kubernetes.io/hostname"] != tc.node {
				t.Errorf("kubernetes.io/hostname=%q", node.Labels["kubernetes.io/hostname"])
			}
			if _, ok := node.Labels["node-role.kubernetes.io/control-plane"]; ok != tc.roleLabel {
				t.Errorf("control-plane role label present %v, want %v", ok, tc.roleLabel)
			}
			want := corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(tc.cpu),
				corev1.ResourceMemory: resource.MustParse(tc.memory),
				corev1.ResourcePods:   resource.MustParse("110"),
			}
			for name, q := range want {
				if got := node.Status.Capacity[name]; got.Cmp(q) != 0 {
					t.Errorf("capacity %s %s, want %s", name, got.String(), q.String())
				}
				if got := node.Status.Allocatable[name]; got.Cmp(q) != 0 {
					t.Errorf("allocatable %s %s, want %s", name, got.String(), q.String())
				}
			}
			if node.Status.NodeInfo.KubeletVersion != "v1.35.4" {
				t.Errorf("kubelet version %q", node.Status.NodeInfo.KubeletVersion)
			}
			if node.Status.Addresses[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: n.IP}) {
				t.Errorf("first address %v, want InternalIP %s", node.Status.Addresses[0], n.IP)
			}
		})
	}
}

func TestRegionPodCIDR(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	for region, want := range map[string]string{"sto1": "10.233.64.0/20", "sto2": "10.233.80.0/20", "osl1": "10.233.96.0/20"} {
		if got, err := regionPodCIDR(m, region); err != nil || got != want {
			t.Errorf("regionPodCIDR(%s) = %s, %v; want %s", region, got, err, want)
		}
	}
	m.Kubernetes.PodSubnet = ""
	if got, err := regionPodCIDR(m, "sto2"); err != nil || got != "10.244.64.0/18" {
		t.Errorf("without a pod subnet: %s, %v; want 10.244.64.0/18", got, err)
	}
	if _, err := regionPodCIDR(m, "nowhere"); err == nil || err.Error() != `unknown region "nowhere" (regions: sto1, sto2, osl1)` {
		t.Errorf("unknown region: %v", err)
	}
}

func TestLetters(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "a", 4: "e", 25: "z", 26: "aa", 27: "ab", 52: "ba"} {
		if got := letters(i); got != want {
			t.Errorf("letters(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestCephVersion(t *testing.T) {
	t.Parallel()
	for image, want := range map[string]string{
		"quay.io/ceph/ceph:v19.2.3":   "19.2.3-0",
		"quay.io/ceph/ceph":           "",
		"localhost:5000/ceph/ceph":    "",
		"localhost:5000/ceph:v20.2.4": "20.2.4-0",
	} {
		if got := cephVersion(image); got != want {
			t.Errorf("cephVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
