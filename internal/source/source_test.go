package source

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

const base = "../../testdata"

func TestLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  v1alpha1.Source
		want []string // substrings, in order
	}{
		{"folder", v1alpha1.Source{Path: "apps"}, []string{"kind: Namespace", "name: storefront", "kind: StatefulSet", "kind: DaemonSet"}},
		{"kustomize", v1alpha1.Source{Kustomize: "workloads/kustomize/overlay"}, []string{
			"kind: Deployment", "team: payments", "name: payments-api", "namespace: payments",
		}},
		{"helm", v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "workloads/charts/web", Release: "shop", Namespace: "web", ValuesFiles: []string{"workloads/charts/web/values-prod.yaml"}}}, []string{
			"# Source: web/templates/deployment.yaml", "name: shop", "namespace: web", `image: "registry.example/web-prod:2.4.1"`,
			"# Source: web/templates/hpa.yaml", "kind: HorizontalPodAutoscaler", "minReplicas: 1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := Load(context.Background(), base, tc.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for _, f := range files {
				s += string(f.Data)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(s[at:], w)
				if i < 0 {
					t.Fatalf("%q missing (after offset %d) in:\n%s", w, at, s)
				}
				at += i + len(w)
			}
			again, err := Load(context.Background(), base, tc.src, Options{})
			if err != nil || !reflect.DeepEqual(again, files) {
				t.Errorf("a second load differs (err %v)", err)
			}
		})
	}
}

// TestLoadFolderNamesFiles checks that a folder source gives its files
// one by one, named by their path, for errors that name file and line.
func TestLoadFolderNamesFiles(t *testing.T) {
	t.Parallel()
	files, err := Load(context.Background(), base, v1alpha1.Source{Path: "lint"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{filepath.Join(base, "lint", "clean.yaml"), filepath.Join(base, "lint", "risky.yaml")}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	built, err := Load(context.Background(), base, v1alpha1.Source{Kustomize: "workloads/kustomize/overlay"}, Options{})
	if err != nil || len(built) != 1 || built[0].Name != "" {
		t.Errorf("a kustomize build gave %d files (err %v), want one with no name", len(built), err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  v1alpha1.Source
		want string
	}{
		{v1alpha1.Source{Path: "nope"}, "read workloads folder: open ../../testdata/nope: no such file or directory"},
		{v1alpha1.Source{Path: "topologies"}, "workloads folder ../../testdata/topologies holds no .yaml or .yml file"},
		{v1alpha1.Source{Kustomize: "apps"}, "kustomize build ../../testdata/apps:"},
		{v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "charts/none", Release: "x", Namespace: "x"}}, "helm chart ../../testdata/charts/none: not found (only local charts"},
		{v1alpha1.Source{}, "source sets none of path, kustomize and helm"},
	} {
		_, err := Load(context.Background(), base, tc.src, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.src, err, tc.want)
		}
	}
}
