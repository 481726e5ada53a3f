package krm

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// run executes the function on a ResourceList, as kustomize's exec
// functions do.
func run(t *testing.T, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rw := &kio.ByteReadWriter{Reader: strings.NewReader(in), Writer: &out}
	err := Execute(".", rw)
	return out.String(), err
}

const deployment = `  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: web, image: web}]}
`

func resourceList(spec string) string {
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + deployment +
		"functionConfig:\n  apiVersion: stretch.dev/v1alpha1\n  kind: SpreadPolicy\n  metadata: {name: spread}\n  spec:\n" + spec
}

// TestSpreadPolicyErrors checks that a mistaken SpreadPolicy is refused
// with the path of the bad field, and a good one patches the items.
func TestSpreadPolicyErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"typo", "    dataZones: [a, b]\n    minReplica: 3\n", "functionConfig SpreadPolicy: spec.minReplica: unknown field"},
		{"wrong type", "    dataZones: [a, b]\n    minReplicas: three\n", "functionConfig SpreadPolicy: spec.minReplicas: expected int, got string"},
		{"wrong case", "    dataZones: [a, b]\n    MinReplicas: 3\n", "functionConfig SpreadPolicy: spec.MinReplicas: unknown field"},
		{"explicit zero", "    dataZones: [a, b]\n    minReplicas: 0\n", "spread policy: minReplicas is 0, want at least 1"},
		{"above int32", "    dataZones: [a, b]\n    minReplicas: 2147483648\n", "spread policy: minReplicas is 2147483648, want at most 2147483647"},
		{"eviction above an hour", "    dataZones: [a, b]\n    evictionSeconds: 3601\n", "spread policy: evictionSeconds is 3601, want 0 to 3600"},
		{"negative eviction", "    dataZones: [a, b]\n    evictionSeconds: -1\n", "spread policy: evictionSeconds is -1, want 0 to 3600"},
	} {
		_, err := run(t, resourceList(tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	out, err := run(t, resourceList("    dataZones: [a, b]\n    minReplicas: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replicas: 3", "nodeTaintsPolicy: Honor", "kind: PodDisruptionBudget"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, resourceList("    dataZones: [a, b]\n    evictionSeconds: 45\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "tolerationSeconds: 45") {
		t.Errorf("evictionSeconds 45: output lacks tolerationSeconds: 45:\n%s", out)
	}
}

// TestSpreadPolicyIsPolicyFor checks that the transformer's door derives
// its policy as render, post-render and lint do: a SpreadPolicy that says
// what a topology says gets spread.PolicyFor's policy of that topology,
// field for field, whatever fields Policy gains.
func TestSpreadPolicyIsPolicyFor(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := topology.NewModel(f.Topology)
	want := spread.PolicyFor(m)
	min := m.Workloads.MinReplicas
	for name, spec := range map[string]v1alpha1.SpreadPolicySpec{
		"defaults": {DataZones: slices.Clone(m.Data)},
		"explicit": {ZoneKey: m.Labels.Zone, DataZones: slices.Clone(m.Data), ArbiterTaintKey: topology.TaintArbiter, MinReplicas: &min},
	} {
		if got := policyOf(spec); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: SpreadPolicy gives %+v\nspread.PolicyFor gives %+v", name, got, want)
		}
	}
	// What only a SpreadPolicy can say is kept on top.
	zero, ev := 0, 20
	got := policyOf(v1alpha1.SpreadPolicySpec{ZoneKey: "zone", DataZones: []string{"a", "b"}, ArbiterTaintKey: "taint", MinReplicas: &zero, ZoneBoundStorageClasses: []string{"local"}, EvictionSeconds: &ev})
	if got.ZoneKey != "zone" || got.ArbiterTaintKey != "taint" || got.MinReplicas != 0 || !slices.Equal(got.ZoneBoundStorageClasses, []string{"local"}) ||
		got.EvictionSeconds == nil || *got.EvictionSeconds != 20 {
		t.Errorf("SpreadPolicy's own fields lost: %+v", got)
	}
}

// TestOnlyResourceLists checks that a v1 List or bare resources, which
// kyaml's reader takes and its writer would answer in kind, are refused
// with what the input was (FuzzResourceList found a List answered as one).
func TestOnlyResourceLists(t *testing.T) {
	t.Parallel()
	policy := "functionConfig:\n  apiVersion: stretch.dev/v1alpha1\n  kind: SpreadPolicy\n  spec:\n    dataZones: [a, b]\n"
	for _, tc := range []struct{ in, want string }{
		{"apiVersion: v1\nkind: List\nitems: []\n" + policy, `the input is a List "v1": a KRM function reads an apiVersion config.kubernetes.io/v1, kind ResourceList`},
		{"kind: List\nitems: []\n" + policy, `the input is a List "": a KRM function reads`},
		{"apiVersion: config.kubernetes.io/v1alpha1\nkind: ResourceList\nitems: []\n" + policy, `the input is a ResourceList "config.kubernetes.io/v1alpha1"`},
	} {
		out, err := run(t, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("input %q: error %v, want one containing %q", tc.in, err, tc.want)
		}
		if strings.Contains(out, "kind: List") {
			t.Errorf("input %q: answered as a List:\n%s", tc.in, out)
		}
	}
	if _, err := run(t, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"+policy); err != nil {
		t.Errorf("a ResourceList: %v", err)
	}
}
