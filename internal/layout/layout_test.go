package layout

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// TestTableIsConsistent checks the rules a row must follow, so that a new
// row cannot break what the generators, diff and the KRM function assume.
func TestTableIsConsistent(t *testing.T) {
	t.Parallel()
	names, stages, orders, kinds, dirs := map[string]bool{}, map[string]bool{}, map[int]bool{}, map[string]bool{}, map[string]string{}
	for _, l := range Layers() {
		if l.Name == "" || names[l.Name] {
			t.Errorf("layer %q: empty or listed twice", l.Name)
		}
		names[l.Name] = true
		if len(l.Dirs) == 0 {
			t.Errorf("layer %s: no folders", l.Name)
		}
		for _, d := range l.Dirs {
			if path.Clean(d) != d || path.IsAbs(d) || strings.HasPrefix(d, "../") {
				t.Errorf("layer %s: folder %q is not clean and relative", l.Name, d)
			}
			if prev, ok := dirs[d]; ok {
				t.Errorf("layers %s and %s share the folder %s", prev, l.Name, d)
			}
			dirs[d] = l.Name
		}
		if l.KRM && !l.Cluster {
			t.Errorf("layer %s: the KRM function emits it, but its files are not cluster objects", l.Name)
		}
		if l.Cluster == (len(l.Files) > 0) {
			t.Errorf("layer %s: Cluster %v with %d listed files; a layer either holds objects or lists its files", l.Name, l.Cluster, len(l.Files))
		}
		for _, f := range l.Files {
			if !slices.ContainsFunc(l.Dirs, func(d string) bool { return d == path.Dir(f.Path) }) || f.New() == nil {
				t.Errorf("layer %s: file %s is outside its folders or has no type", l.Name, f.Path)
			}
		}
		for _, f := range l.Text {
			if l.Cluster || len(l.Files) == 0 || !slices.Contains(l.Dirs, path.Dir(f)) ||
				slices.ContainsFunc(l.Files, func(lf File) bool { return lf.Path == f }) {
				t.Errorf("layer %s: text file %s is in a cluster layer, outside its folders, listed as a typed file too, or derived from no typed file", l.Name, f)
			}
		}
		for _, k := range l.Kinds {
			key := k.APIVersion + " " + k.Kind
			if kinds[key] || k.New() == nil {
				t.Errorf("layer %s: kind %s listed twice or without a type", l.Name, key)
			}
			kinds[key] = true
		}
		for _, s := range l.Stages {
			if !l.Cluster {
				t.Errorf("layer %s: stage %s applies files that are not cluster objects", l.Name, s.Name)
			}
			if stages[s.Name] || orders[s.Order] {
				t.Errorf("stage %s: name or order %d used twice", s.Name, s.Order)
			}
			stages[s.Name], orders[s.Order] = true, true
			// A stage applies one of its layer's folders, or the folder
			// above its "*" folders.
			if !slices.Contains(l.Dirs, s.Dir) && !slices.Contains(l.Dirs, s.Dir+"/*") {
				t.Errorf("stage %s applies %s, not a folder of layer %s", s.Name, s.Dir, l.Name)
			}
		}
	}
	if len(names) < 6 || len(stages) < 5 {
		t.Fatalf("%d layers and %d stages; the bundle has at least 6 and 5", len(names), len(stages))
	}
}

func TestStagesInApplyOrder(t *testing.T) {
	t.Parallel()
	var got []string
	for _, s := range Stages() {
		got = append(got, s.Object()+"="+s.File()+":"+s.Dir)
	}
	want := []string{
		"stretch-access=flux/access.yaml:access",
		"stretch-network=flux/network.yaml:network/calico",
		"stretch-storage-operator=flux/storage-operator.yaml:storage/rook/operator",
		"stretch-storage=flux/storage.yaml:storage/rook/cluster",
		"stretch-workloads=flux/workloads.yaml:workloads",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stages %v\nwant %v", got, want)
	}
	if s, ok := StageNamed(StageNetwork); !ok || s.Dir != "network/calico" {
		t.Errorf("StageNamed(network) = %+v, %v", s, ok)
	}
	if _, ok := StageNamed("nope"); ok {
		t.Error("StageNamed found a stage that does not exist")
	}
}

// ClusterFile is the one answer to "is this file a cluster object?".
func TestClusterFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		layer, path string
		want        bool
	}{
		{Calico, "network/calico/felixconfiguration.yaml", true},
		{Calico, "network/calico/kustomization.yaml", false},
		{Workloads, "workloads/apps/deployment_shop_web.yaml", true},
		{Workloads, "workloads/kustomization.yaml", false},
		{Flux, "flux/network.yaml", true},
		{Access, "access/clusterrole-stretch-verify.yaml", true},
		{Kubespray, "kubespray/hosts.yaml", false},
		{Kubespray, "kubespray/group_vars/all/etcd.yml", false},
		{"nope", "nope/x.yaml", false},
	} {
		if got := ClusterFile(tc.layer, tc.path); got != tc.want {
			t.Errorf("ClusterFile(%s, %s) = %v, want %v", tc.layer, tc.path, got, tc.want)
		}
	}
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	if layer, ok := Aggregate("workloads"); !ok || layer != Workloads {
		t.Errorf("Aggregate(workloads) = %q, %v", layer, ok)
	}
	for _, d := range []string{"network/calico", "access", "flux", "kubespray", "storage/rook"} {
		if _, ok := Aggregate(d); ok {
			t.Errorf("Aggregate(%s) is true", d)
		}
	}
}
