package topology

import (
	"reflect"
	"testing"
)

func TestNewModelOfBundledExample(t *testing.T) {
	t.Parallel()
	f, err := Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(f.Topology)
	if want := (EtcdModel{HeartbeatIntervalMS: 250, ElectionTimeoutMS: 5000}); m.Etcd != want {
		t.Errorf("Etcd = %+v, want %+v", m.Etcd, want)
	}
	if m.Network.MTU != 1440 || !m.Network.WireGuard || m.Network.UnderlayMTU != 1500 || m.Network.RTTms != 12 {
		t.Errorf("Network = %+v, want MTU 1440 with WireGuard on a 1500 underlay, RTT 12", m.Network)
	}
	if m.Arbiter != "osl1" || !reflect.DeepEqual(m.Data, []string{"sto1", "sto2"}) {
		t.Errorf("Arbiter, Data = %q, %q", m.Arbiter, m.Data)
	}
	wantStorage := []string{"sto1-s-0", "sto1-s-1", "sto2-s-0", "sto2-s-1"}
	if !reflect.DeepEqual(m.Storage.StorageNodes, wantStorage) {
		t.Errorf("StorageNodes = %q, want %q", m.Storage.StorageNodes, wantStorage)
	}
	if m.Storage.CephImage != "quay.io/ceph/ceph:v19.2.3" || m.Storage.Provisioner != "rook-ceph.rbd.csi.ceph.com" {
		t.Errorf("Storage = %+v", m.Storage)
	}

	nodes := map[string]NodeModel{}
	for _, n := range m.Nodes {
		nodes[n.Name] = n
	}
	tests := []struct {
		node   string
		labels map[string]string
		taints []Taint
	}{
		{"osl1-cp-0",
			map[string]string{LabelZone: "osl1", LabelRegion: "demo-eu", LabelArbiter: "true"},
			[]Taint{{Key: TaintArbiter, Value: "true", Effect: "NoSchedule"}}},
		{"sto1-s-0",
			map[string]string{LabelZone: "sto1", LabelRegion: "demo-eu", LabelStorage: "true"},
			[]Taint{{Key: TaintStorage, Value: "true", Effect: "NoSchedule"}}},
		{"sto2-w-1",
			map[string]string{LabelZone: "sto2", LabelRegion: "demo-eu"},
			[]Taint{}},
	}
	for _, tt := range tests {
		n, ok := nodes[tt.node]
		if !ok {
			t.Errorf("no node %s", tt.node)
			continue
		}
		if !reflect.DeepEqual(n.Labels, tt.labels) {
			t.Errorf("%s labels = %v, want %v", tt.node, n.Labels, tt.labels)
		}
		if !reflect.DeepEqual(n.Taints, tt.taints) {
			t.Errorf("%s taints = %v, want %v", tt.node, n.Taints, tt.taints)
		}
	}
	if n := nodes["osl1-cp-0"]; n.SSHHost != "203.0.113.30" || n.KubeNode || !n.ControlPlane || !n.Etcd {
		t.Errorf("arbiter node = %+v", n)
	}
	if n := nodes["sto2-w-1"]; n.SSHHost != "10.20.0.21" || !n.KubeNode || n.CPU != "8" || n.Memory != "32Gi" {
		t.Errorf("worker node = %+v", n)
	}
}

func TestEtcdTimingAndTunnelMTU(t *testing.T) {
	t.Parallel()
	timing := map[int]EtcdModel{
		12:   {250, 5000},
		250:  {250, 5000},
		600:  {600, 6000},
		5000: {5000, 50000},
	}
	for rtt, want := range timing {
		if got := EtcdTiming(rtt); got != want {
			t.Errorf("EtcdTiming(%d) = %+v, want %+v", rtt, got, want)
		}
	}
	if got := TunnelMTU(9000, true); got != 8940 {
		t.Errorf("TunnelMTU(9000, wireguard) = %d, want 8940", got)
	}
	if got := TunnelMTU(1500, false); got != 1450 {
		t.Errorf("TunnelMTU(1500, none) = %d, want 1450", got)
	}
}

func TestInstalledTaints(t *testing.T) {
	t.Parallel()
	cp := Taint{Key: TaintControlPlane, Effect: "NoSchedule"}
	arbiter := Taint{Key: TaintArbiter, Value: "true", Effect: "NoSchedule"}
	storage := Taint{Key: TaintStorage, Value: "true", Effect: "NoSchedule"}
	// roomy has spare capacity, so that an append to the model's own slice
	// would not reallocate and would show in the model.
	roomy := append(make([]Taint, 0, 4), arbiter)
	tests := []struct {
		name string
		node NodeModel
		want []Taint
	}{
		{"dedicated control plane", NodeModel{ControlPlane: true, Taints: []Taint{}}, []Taint{cp}},
		{"arbiter control plane", NodeModel{ControlPlane: true, Arbiter: true, Taints: roomy}, []Taint{arbiter, cp}},
		{"control plane and worker", NodeModel{ControlPlane: true, Worker: true, KubeNode: true, Taints: []Taint{}}, []Taint{}},
		{"storage node", NodeModel{Storage: true, KubeNode: true, Taints: []Taint{storage}}, []Taint{storage}},
		{"worker", NodeModel{Worker: true, KubeNode: true, Taints: []Taint{}}, []Taint{}},
	}
	for _, tt := range tests {
		before := append([]Taint{}, tt.node.Taints...)
		got := tt.node.InstalledTaints()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: InstalledTaints() = %v, want %v", tt.name, got, tt.want)
		}
		if !reflect.DeepEqual(tt.node.Taints, before) {
			t.Errorf("%s: InstalledTaints changed the model's taints to %v", tt.name, tt.node.Taints)
		}
		if spare := tt.node.Taints[len(tt.node.Taints):cap(tt.node.Taints)]; len(spare) > 0 && spare[0] != (Taint{}) {
			t.Errorf("%s: InstalledTaints appended %v to the model's slice", tt.name, spare[0])
		}
	}
}

func TestCheckRegion(t *testing.T) {
	f, err := Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(f.Topology)
	for _, name := range []string{"sto1", "sto2", "osl1"} {
		if err := m.CheckRegion(name); err != nil {
			t.Errorf("CheckRegion(%q) = %v, want nil", name, err)
		}
	}
	err = m.CheckRegion("nowhere")
	if err == nil || err.Error() != `region "nowhere" is not in spec.regions (sto1, sto2, osl1)` {
		t.Errorf("CheckRegion(nowhere) = %v", err)
	}
}
