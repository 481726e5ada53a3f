package crds

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFelixConfiguration(t *testing.T) {
	t.Parallel()
	objs, err := Parse(FelixConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != FelixConfigurationName {
		t.Fatalf("got %d objects, want the one CRD %s", len(objs), FelixConfigurationName)
	}
	crd := objs[0].Object
	for _, f := range []struct {
		path []string
		want string
	}{
		{[]string{"spec", "group"}, "crd.projectcalico.org"},
		{[]string{"spec", "names", "kind"}, "FelixConfiguration"},
		{[]string{"spec", "scope"}, "Cluster"},
	} {
		if got, _, _ := unstructured.NestedString(crd, f.path...); got != f.want {
			t.Errorf("%s = %q, want %q", strings.Join(f.path, "."), got, f.want)
		}
	}
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	if len(versions) != 1 {
		t.Fatalf("%d versions, want 1", len(versions))
	}
	v1, _ := versions[0].(map[string]any)
	props, _, _ := unstructured.NestedMap(v1, "schema", "openAPIV3Schema", "properties", "spec", "properties")
	types := map[string]string{}
	for name, p := range props {
		prop, _ := p.(map[string]any)
		types[name], _ = prop["type"].(string)
	}
	want := map[string]string{
		"wireguardEnabled":                  "boolean",
		"wireguardEnabledV6":                "boolean",
		"wireguardListeningPort":            "integer",
		"wireguardListeningPortV6":          "integer",
		"wireguardMTU":                      "integer",
		"wireguardMTUV6":                    "integer",
		"wireguardHostEncryptionEnabled":    "boolean",
		"wireguardRoutingRulePriority":      "integer",
		"wireguardInterfaceName":            "string",
		"wireguardInterfaceNameV6":          "string",
		"wireguardKeepAlive":                "string",
		"wireguardThreadingEnabled":         "boolean",
		"prometheusWireGuardMetricsEnabled": "boolean",
		"vxlanEnabled":                      "boolean",
		"vxlanMTU":                          "integer",
		"ipipEnabled":                       "boolean",
		"ipipMTU":                           "integer",
		"logSeverityScreen":                 "string",
	}
	for _, name := range sortedUnion(types, want) {
		if types[name] != want[name] {
			t.Errorf("spec.%s has type %q, want %q", name, types[name], want[name])
		}
	}
	if hasKey(crd, "x-kubernetes-preserve-unknown-fields") {
		t.Error("the schema preserves unknown fields; they must be pruned")
	}
}

// hasKey reports whether key occurs in any map nested in v.
func hasKey(v any, key string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == key || hasKey(child, key) {
				return true
			}
		}
	case []any:
		for _, child := range v {
			if hasKey(child, key) {
				return true
			}
		}
	}
	return false
}

func sortedUnion(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	objs, err := Load(filepath.Join("testdata", "two-crds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	if want := []string{"widgets.example.com", "gadgets.example.com"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, want string
	}{
		{
			path: filepath.Join("testdata", "not-a-crd.yaml"),
			want: `testdata/not-a-crd.yaml: object 1 (v1 ConfigMap "nope") is not an apiextensions.k8s.io/v1 CustomResourceDefinition`,
		},
		{
			path: filepath.Join("testdata", "missing.yaml"),
			want: "read CRDs: open testdata/missing.yaml: no such file or directory",
		},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.path)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
