package source

import (
	"context"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

const base = "../../testdata"

func TestLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  topology.Source
		want []string // substrings, in order
	}{
		{"folder", topology.Source{Path: "apps"}, []string{"kind: Namespace", "name: storefront", "kind: StatefulSet", "kind: DaemonSet"}},
		{"kustomize", topology.Source{Kustomize: "workloads/kustomize/overlay"}, []string{
			"kind: Deployment", "team: payments", "name: payments-api", "namespace: payments",
		}},
		{"helm", topology.Source{Helm: &topology.HelmSource{Chart: "workloads/charts/web", Release: "shop", Namespace: "web", ValuesFiles: []string{"workloads/charts/web/values-prod.yaml"}}}, []string{
			"# Source: web/templates/deployment.yaml", "name: shop", "namespace: web", `image: "registry.example/web-prod:2.4.1"`,
			"# Source: web/templates/hpa.yaml", "kind: HorizontalPodAutoscaler", "minReplicas: 1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Load(context.Background(), base, tc.src, KubeVersion, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			at := 0
			for _, w := range tc.want {
				i := strings.Index(s[at:], w)
				if i < 0 {
					t.Fatalf("%q missing (after offset %d) in:\n%s", w, at, s)
				}
				at += i + len(w)
			}
			again, err := Load(context.Background(), base, tc.src, KubeVersion, nil)
			if err != nil || string(again) != s {
				t.Errorf("a second load differs (err %v)", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  topology.Source
		want string
	}{
		{topology.Source{Path: "nope"}, "read workloads folder: open ../../testdata/nope: no such file or directory"},
		{topology.Source{Path: "topologies"}, "workloads folder ../../testdata/topologies holds no .yaml or .yml file"},
		{topology.Source{Kustomize: "apps"}, "kustomize build ../../testdata/apps:"},
		{topology.Source{Helm: &topology.HelmSource{Chart: "charts/none", Release: "x", Namespace: "x"}}, "helm chart ../../testdata/charts/none: not found (only local charts"},
		{topology.Source{}, "source sets none of path, kustomize and helm"},
	} {
		_, err := Load(context.Background(), base, tc.src, KubeVersion, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.src, err, tc.want)
		}
	}
}
