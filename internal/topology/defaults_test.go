package topology

import (
	"reflect"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

func TestDefaultFillsEmptyFields(t *testing.T) {
	t.Parallel()
	got := &v1alpha1.Topology{Spec: v1alpha1.Spec{
		Storage: v1alpha1.Storage{BlockPools: []v1alpha1.BlockPool{{Name: "b"}, {Name: "a", ReclaimPolicy: v1alpha1.ReclaimRetain}}},
		Workloads: v1alpha1.Workloads{Sources: []v1alpha1.Source{
			{Path: "apps/"},
			{Path: "./Web_Apps"},
			{Kustomize: "overlays/prod"},
			{Helm: &v1alpha1.HelmSource{Chart: "charts/shop", Release: "shop"}},
			{Name: "mine", Helm: &v1alpha1.HelmSource{Chart: "c", Release: "r", Namespace: "ns"}},
			{Path: "."},
		}},
	}}
	Default(got)
	want := &v1alpha1.Topology{Spec: v1alpha1.Spec{
		Kubernetes: v1alpha1.Kubernetes{PodSubnet: "10.233.64.0/18", ServiceSubnet: "10.233.0.0/18"},
		Network:    v1alpha1.Network{Encryption: "wireguard", UnderlayMTU: 1500},
		Storage: v1alpha1.Storage{
			Rook:       v1alpha1.Rook{Version: "v1.20.6", Namespace: "rook-ceph"},
			Ceph:       v1alpha1.Ceph{Image: "quay.io/ceph/ceph:v20.2.4", DataDirHostPath: "/var/lib/rook"},
			BlockPools: []v1alpha1.BlockPool{{Name: "b", ReclaimPolicy: "Delete"}, {Name: "a", ReclaimPolicy: "Retain"}},
		},
		Workloads: v1alpha1.Workloads{MinReplicas: 2, Sources: []v1alpha1.Source{
			{Name: "apps", Path: "apps/"},
			{Name: "web-apps", Path: "./Web_Apps"},
			{Name: "prod", Kustomize: "overlays/prod"},
			{Name: "shop", Helm: &v1alpha1.HelmSource{Chart: "charts/shop", Release: "shop", Namespace: "default"}},
			{Name: "mine", Helm: &v1alpha1.HelmSource{Chart: "c", Release: "r", Namespace: "ns"}},
			{Path: "."},
		}},
		GitOps: v1alpha1.GitOps{SourceName: "flux-system", Path: "."},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultKeepsUserValues(t *testing.T) {
	t.Parallel()
	in := func() *v1alpha1.Topology {
		return &v1alpha1.Topology{Spec: v1alpha1.Spec{
			Kubernetes: v1alpha1.Kubernetes{PodSubnet: "10.244.0.0/16", ServiceSubnet: "10.96.0.0/12"},
			Network:    v1alpha1.Network{Encryption: "none", UnderlayMTU: 9000},
			Regions:    []v1alpha1.Region{{Name: "z"}, {Name: "a"}},
			Storage: v1alpha1.Storage{
				Rook: v1alpha1.Rook{Version: "v1.19.0", Namespace: "ceph"},
				Ceph: v1alpha1.Ceph{Image: "example/ceph:1", DataDirHostPath: "/data/rook"},
			},
			Workloads: v1alpha1.Workloads{MinReplicas: 3},
			GitOps:    v1alpha1.GitOps{SourceName: "repo", Path: "clusters/x"},
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
