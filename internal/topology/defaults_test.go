package topology

import (
	"reflect"
	"testing"
)

func TestDefaultFillsEmptyFields(t *testing.T) {
	t.Parallel()
	got := &Topology{Spec: Spec{
		Storage: Storage{BlockPools: []BlockPool{{Name: "b"}, {Name: "a", ReclaimPolicy: ReclaimRetain}}},
		Workloads: Workloads{Sources: []Source{
			{Path: "apps/"},
			{Path: "./Web_Apps"},
			{Kustomize: "overlays/prod"},
			{Helm: &HelmSource{Chart: "charts/shop", Release: "shop"}},
			{Name: "mine", Helm: &HelmSource{Chart: "c", Release: "r", Namespace: "ns"}},
			{Path: "."},
		}},
	}}
	Default(got)
	want := &Topology{Spec: Spec{
		Kubernetes: Kubernetes{PodSubnet: "10.233.64.0/18", ServiceSubnet: "10.233.0.0/18"},
		Network:    Network{Encryption: "wireguard", UnderlayMTU: 1500},
		Storage: Storage{
			Rook:       Rook{Version: "v1.20.6", Namespace: "rook-ceph"},
			Ceph:       Ceph{Image: "quay.io/ceph/ceph:v20.2.4", DataDirHostPath: "/var/lib/rook"},
			BlockPools: []BlockPool{{Name: "b", ReclaimPolicy: "Delete"}, {Name: "a", ReclaimPolicy: "Retain"}},
		},
		Workloads: Workloads{MinReplicas: 2, Sources: []Source{
			{Name: "apps", Path: "apps/"},
			{Name: "web-apps", Path: "./Web_Apps"},
			{Name: "prod", Kustomize: "overlays/prod"},
			{Name: "shop", Helm: &HelmSource{Chart: "charts/shop", Release: "shop", Namespace: "default"}},
			{Name: "mine", Helm: &HelmSource{Chart: "c", Release: "r", Namespace: "ns"}},
			{Path: "."},
		}},
		GitOps: GitOps{SourceName: "flux-system", Path: "."},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultKeepsUserValues(t *testing.T) {
	t.Parallel()
	in := func() *Topology {
		return &Topology{Spec: Spec{
			Kubernetes: Kubernetes{PodSubnet: "10.244.0.0/16", ServiceSubnet: "10.96.0.0/12"},
			Network:    Network{Encryption: "none", UnderlayMTU: 9000},
			Regions:    []Region{{Name: "z"}, {Name: "a"}},
			Storage: Storage{
				Rook: Rook{Version: "v1.19.0", Namespace: "ceph"},
				Ceph: Ceph{Image: "example/ceph:1", DataDirHostPath: "/data/rook"},
			},
			Workloads: Workloads{MinReplicas: 3},
			GitOps:    GitOps{SourceName: "repo", Path: "clusters/x"},
		}}
	}
	got := in()
	Default(got)
	if want := in(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default changed set fields:\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, file := range append(corpus(t, "valid"), "../../testdata/topology.yaml") {
		once, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		twice, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		Default(twice.Topology)
		if !reflect.DeepEqual(once.Topology, twice.Topology) {
			t.Errorf("%s: defaulting twice differs from once", file)
		}
	}
	Default(nil) // must not panic
}
