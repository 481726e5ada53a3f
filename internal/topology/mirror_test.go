package topology

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// WithChartMirrors adds spec.gitops.chartMirrors to a topology with or
// without a gitops section, replaces the entries of the repositories it
// mirrors and keeps everything else the file says.
func TestWithChartMirrors(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const url = "http://127.0.0.1:4321/charts"
	both := []v1alpha1.ChartMirror{{Name: RookRepositoryName, URL: url}, {Name: CSIRepositoryName, URL: url}}
	withOther := strings.Replace(string(Example()), "    # chartMirrors:\n", "    chartMirrors:\n    - name: ceph-csi-operator # the site's own\n      url: oci://registry.example.internal/charts\n    - name: rook-release\n      url: https://old.example.internal/rook\n", 1)
	for _, tc := range []struct {
		name    string
		data    string
		mirrors []v1alpha1.ChartMirror
		want    []v1alpha1.ChartMirror
		// keep are lines of the input the output still has.
		keep []string
	}{{
		name: "no gitops section", data: string(example), mirrors: both, want: both,
		keep: []string{"# A stretched cluster over three regions: two data regions and one arbiter.", "    - {name: sto1-cp-0, ip: 10.10.0.10, publicIP: 203.0.113.10, roles: [control-plane, etcd]}"},
	}, {
		name: "init's gitops section", data: string(Example()), mirrors: both, want: both,
		keep: []string{"  gitops:\n    sourceName: flux-system\n    path: clusters/prod\n", "# - {name: ceph-csi-operator, url: oci://registry.example.internal/charts}"},
	}, {
		// FuzzWithChartMirrors found it: "gitops:" with nothing under it.
		name: "an empty gitops section", data: string(example) + "  gitops:\n", mirrors: both, want: both,
	}, {
		name: "an entry replaced, another kept", data: withOther, mirrors: both[:1],
		want: []v1alpha1.ChartMirror{{Name: CSIRepositoryName, URL: "oci://registry.example.internal/charts"}, both[0]},
		keep: []string{"    - name: ceph-csi-operator # the site's own\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := WithChartMirrors([]byte(tc.data), "topology.yaml", tc.mirrors)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(out, "out.yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := f.Topology.Spec.GitOps.ChartMirrors; !slices.Equal(got, tc.want) {
				t.Errorf("chartMirrors %v, want %v\n%s", got, tc.want, out)
			}
			for _, line := range tc.keep {
				if !strings.Contains(string(out), line) {
					t.Errorf("the output lost %q:\n%s", line, out)
				}
			}
			if strings.Contains(string(out), "https://old.example.internal/rook") || strings.Contains(string(out), "config.kubernetes.io") {
				t.Errorf("the output keeps a replaced entry or kyaml's annotations:\n%s", out)
			}
			// Everything the input said but spec.gitops stays as it was.
			in, _ := Parse([]byte(tc.data), "in.yaml")
			in.Topology.Spec.GitOps.ChartMirrors, f.Topology.Spec.GitOps.ChartMirrors = nil, nil
			if a, b := mustJSON(t, in.Topology), mustJSON(t, f.Topology); a != b {
				t.Errorf("the topology changed beyond chartMirrors:\n%s\n%s", a, b)
			}
		})
	}
}

// A file that is no valid topology is refused with Load's errors, and a
// mirror that would make it invalid too.
func TestWithChartMirrorsRefuses(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(example), "  gitops:", "  gitopz:", 1)
	bad = strings.Replace(bad, "kind: Topology", "kind: Topology\nspecs: {}", 1)
	for _, tc := range []struct {
		name    string
		data    string
		mirrors []v1alpha1.ChartMirror
		want    string
	}{
		{"unknown field", bad, nil, `topology.yaml:`},
		{"a repository the bundle lacks", string(example), []v1alpha1.ChartMirror{{Name: "bitnami", URL: "https://x.example"}}, `spec.gitops.chartMirrors[0].name: the bundle has no HelmRepository "bitnami"`},
		{"credentials", string(example), []v1alpha1.ChartMirror{{Name: RookRepositoryName, URL: "https://u:p@x.example"}}, `holds credentials`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := WithChartMirrors([]byte(tc.data), "topology.yaml", tc.mirrors)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("output with an error:\n%s", out)
			}
		})
	}
}

// HelmRepositoryNames follows the Rook version.
func TestHelmRepositoryNames(t *testing.T) {
	t.Parallel()
	if got := HelmRepositoryNames("v1.19.4"); !slices.Equal(got, []string{RookRepositoryName}) {
		t.Errorf("v1.19.4: %v", got)
	}
	if got := HelmRepositoryNames("v1.20.6"); !slices.Equal(got, []string{RookRepositoryName, CSIRepositoryName}) {
		t.Errorf("v1.20.6: %v", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
