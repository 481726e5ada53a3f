package sim

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
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

func TestPlanDaemons(t *testing.T) {
	t.Parallel()
	var got []string
	for _, d := range planDaemons(exampleModel(t)) {
		got = append(got, fmt.Sprintf("%s %s %s %s", d.podName(), d.kind, d.node, d.region))
	}
	want := []string{
		"rook-ceph-mon-a mon sto1-s-0 sto1",
		"rook-ceph-mon-b mon sto1-s-1 sto1",
		"rook-ceph-mon-c mon sto2-s-0 sto2",
		"rook-ceph-mon-d mon sto2-s-1 sto2",
		"rook-ceph-mon-e mon osl1-cp-0 osl1",
		"rook-ceph-osd-0 osd sto1-s-0 sto1",
		"rook-ceph-osd-1 osd sto1-s-1 sto1",
		"rook-ceph-osd-2 osd sto2-s-0 sto2",
		"rook-ceph-osd-3 osd sto2-s-1 sto2",
		"rook-ceph-mgr-a mgr sto1-s-0 sto1",
		"rook-ceph-mgr-b mgr sto2-s-0 sto2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestDaemonLabels(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	tests := []struct {
		d    daemon
		want map[string]string
	}{
		{daemon{kind: daemonMon, id: "e", node: "osl1-cp-0", region: "osl1"}, map[string]string{
			"app": "rook-ceph-mon", "mon": "e", "mon_cluster": "rook-ceph", "zone": "osl1",
			"ceph_daemon_type": "mon", "ceph_daemon_id": "e", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
		{daemon{kind: daemonOSD, id: "2", node: "sto2-s-0", region: "sto2"}, map[string]string{
			"app": "rook-ceph-osd", "osd": "2", "ceph-osd-id": "2", "topology-location-zone": "sto2",
			"topology-location-host": "sto2-s-0", "topology-location-region": "demo-eu",
			"ceph_daemon_type": "osd", "ceph_daemon_id": "2", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
		{daemon{kind: daemonMgr, id: "a", node: "sto1-s-0", region: "sto1"}, map[string]string{
			"app": "rook-ceph-mgr", "mgr": "a", "instance": "a",
			"ceph_daemon_type": "mgr", "ceph_daemon_id": "a", "rook_cluster": "rook-ceph", LabelSimulated: "true",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.d.podName(), func(t *testing.T) {
			t.Parallel()
			if got := daemonLabels(m, tc.d); !maps.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestAssessCeph(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	plan := planDaemons(m)
	regionOf := map[string]string{}
	for _, n := range m.Nodes {
		regionOf[n.Name] = n.Region
	}
	const (
		warn = HealthWarn
		err  = HealthErr
	)
	tests := []struct {
		name string
		down []string // regions or node names that are down
		want cephHealth
	}{
		{name: "all up", want: cephHealth{health: HealthOK, details: map[string]healthMessage{}}},
		{name: "data region lost", down: []string{"sto1"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown:             {warn, "2/5 mons down, quorum c,d,e"},
			CheckOSDDown:             {warn, "2 osds down"},
			CheckOSDHostDown:         {warn, "2 hosts (2 osds) down"},
			CheckOSDZoneDown:         {warn, "1 zone (2 osds) down"},
			CheckDegradedStretchMode: {warn, "We are missing stretch mode buckets, only requiring 1 of 2 buckets to peer"},
		}}},
		{name: "arbiter lost", down: []string{"osl1"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown: {warn, "1/5 mons down, quorum a,b,c,d"},
		}}},
		{name: "one storage host lost", down: []string{"sto2-s-0"}, want: cephHealth{health: warn, details: map[string]healthMessage{
			CheckMonDown:     {warn, "1/5 mons down, quorum a,b,d,e"},
			CheckOSDDown:     {warn, "1 osds down"},
			CheckOSDHostDown: {warn, "1 host (1 osds) down"},
		}}},
		{name: "data region and arbiter lost", down: []string{"sto1", "osl1"}, want: cephHealth{health: err, details: map[string]healthMessage{
			CheckMonDown:     {err, "3/5 mons down, no quorum (a real cluster would not answer at all)"},
			CheckOSDDown:     {warn, "2 osds down"},
			CheckOSDHostDown: {warn, "2 hosts (2 osds) down"},
			CheckOSDZoneDown: {warn, "1 zone (2 osds) down"},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := assessCeph(m, plan, func(d daemon) bool {
				return !slices.Contains(tc.down, d.node) && !slices.Contains(tc.down, regionOf[d.node])
			})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCalicoAnnotations(t *testing.T) {
	t.Parallel()
	m := exampleModel(t)
	got := calicoAnnotations(m)
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
