package generators

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// TestLayoutTableMatchesBundle walks the layer table and the rendered
// example bundle together: every row writes files, only in its folders; a
// kustomization.yaml sits in exactly the folders of the rows whose files
// are cluster objects (and in the stage folders that list folders); each
// row's kinds are written by that row only; the files of a row that is not
// cluster objects are exactly its listed files; and the Flux
// Kustomizations are the table's stages, in its apply order, named and
// filed as the table says, each applying its folder after the one before.
func TestLayoutTableMatchesBundle(t *testing.T) {
	t.Parallel()
	b := renderFile(t, "../testdata/topology.yaml", Options{})
	rows := layout.Layers()
	byLayer := map[string][]string{}
	kustomizations := map[string]bool{}
	for _, f := range b.Files {
		if path.Base(f.Path) == layout.KustomizationFile {
			kustomizations[path.Dir(f.Path)] = true
			continue
		}
		byLayer[f.Layer] = append(byLayer[f.Layer], f.Path)
	}
	wantKust := map[string]bool{}
	for _, row := range rows {
		files := byLayer[row.Name]
		if len(files) == 0 {
			t.Errorf("layer %s: no file in the example bundle", row.Name)
		}
		for _, p := range files {
			if !slices.ContainsFunc(row.Dirs, func(d string) bool { return matchDir(d, path.Dir(p)) }) {
				t.Errorf("layer %s: %s is not in its folders %v", row.Name, p, row.Dirs)
			}
			if layout.ClusterFile(row.Name, p) != row.Cluster {
				t.Errorf("layer %s: ClusterFile(%s) = %v, the table says %v", row.Name, p, !row.Cluster, row.Cluster)
			}
			if row.Cluster {
				wantKust[path.Dir(p)] = true
				if parent := path.Dir(path.Dir(p)); isAggregate(parent) {
					wantKust[parent] = true
				}
			}
		}
		if !row.Cluster {
			// Every file is one the row lists, and every listed file (or
			// pattern, one file per region) is written.
			used := make([]bool, len(row.Files))
			for _, p := range files {
				if slices.Contains(row.Text, p) {
					continue // derived by the generator from a listed file
				}
				i := slices.IndexFunc(row.Files, func(f layout.File) bool { return f.Match(p) })
				if i < 0 {
					t.Errorf("layer %s writes %s, which the table does not list", row.Name, p)
					continue
				}
				used[i] = true
			}
			for i, f := range row.Files {
				if !used[i] {
					t.Errorf("layer %s: the table lists %s, which the example bundle does not have", row.Name, f.Path)
				}
			}
		}
		delete(byLayer, row.Name)
	}
	for layer, files := range byLayer {
		t.Errorf("layer %s is not in the table but writes %v", layer, files)
	}
	for dir := range kustomizations {
		if !wantKust[dir] {
			t.Errorf("%s/kustomization.yaml is in a folder of no cluster layer", dir)
		}
	}
	for dir := range wantKust {
		if !kustomizations[dir] {
			t.Errorf("%s holds cluster objects but no kustomization.yaml", dir)
		}
		if layout.ClusterFile(layout.Flux, dir+"/"+layout.KustomizationFile) {
			t.Errorf("ClusterFile calls %s/kustomization.yaml a cluster object", dir)
		}
	}

	objs, _, err := exampleObjects(t, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var tm struct{ APIVersion, Kind string }
		if o.Raw == nil || yaml.Unmarshal(o.Raw, &tm) != nil {
			continue
		}
		for _, row := range rows {
			if slices.ContainsFunc(row.Kinds, func(k layout.Kind) bool { return k.APIVersion == tm.APIVersion && k.Kind == tm.Kind }) && row.Name != o.Layer {
				t.Errorf("%s: a %s of layer %s, a kind of the %s row", o.Path, tm.Kind, o.Layer, row.Name)
			}
		}
	}

	stages := layout.Stages()
	var ks []*flux.Kustomization
	for _, o := range objs {
		if k, ok := o.Typed.(*flux.Kustomization); ok {
			ks = append(ks, k)
		}
	}
	if len(ks) != len(stages) {
		t.Fatalf("%d Flux Kustomizations for the table's %d stages", len(ks), len(stages))
	}
	var prev string
	for _, st := range stages {
		i := slices.IndexFunc(objs, func(o object) bool { return o.Path == st.File() })
		if i < 0 {
			t.Errorf("stage %s: no %s", st.Name, st.File())
			continue
		}
		k, ok := objs[i].Typed.(*flux.Kustomization)
		switch {
		case !ok:
			t.Errorf("stage %s: %s is not a Kustomization", st.Name, st.File())
			continue
		case k.Name != st.Object():
			t.Errorf("stage %s: Kustomization %s, want %s", st.Name, k.Name, st.Object())
		case !strings.HasSuffix(k.Spec.Path, "/"+st.Dir):
			t.Errorf("stage %s: applies %s, want the folder %s", st.Name, k.Spec.Path, st.Dir)
		}
		var deps []string
		for _, d := range k.Spec.DependsOn {
			deps = append(deps, d.Name)
		}
		if want := []string{prev}; prev == "" && len(deps) != 0 || prev != "" && !slices.Equal(deps, want) {
			t.Errorf("stage %s depends on %v, want %q (the stage before in the table's order)", st.Name, deps, prev)
		}
		prev = st.Object()
	}
}

// TestExampleCommentsNameRenderedFolders holds init's commented example
// to what render does: every bundle folder its comments name, such as
// "(network/firewall/)", is a folder render writes files in.
func TestExampleCommentsNameRenderedFolders(t *testing.T) {
	t.Parallel()
	b := renderFile(t, "../testdata/topology.yaml", Options{})
	written := map[string]bool{}
	for _, f := range b.Files {
		written[path.Dir(f.Path)] = true
	}
	folder := regexp.MustCompile(`\(([a-z]+(?:/[a-z]+)+)/\)`)
	named := 0
	for _, line := range strings.Split(string(topology.Example()), "\n") {
		comment, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok {
			continue
		}
		for _, m := range folder.FindAllStringSubmatch(comment, -1) {
			named++
			if !written[m[1]] {
				t.Errorf("init's example names %s/, where render writes nothing: %s", m[1], line)
			}
		}
	}
	if named == 0 {
		t.Error("init's example names no bundle folder; the firewall allowlists' folder should be named at adminCIDRs")
	}
}
