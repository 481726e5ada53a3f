package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// header is the start of every topology in the inline decode tests.
const header = "apiVersion: stretch.dev/v1alpha1\nkind: Topology\n"

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "t.yaml: empty file; expected a Topology (apiVersion: stretch.dev/v1alpha1)"},
		{"only document markers", "---\n---\n", "t.yaml: empty file; expected a Topology (apiVersion: stretch.dev/v1alpha1)"},
		{"null document", "~\n", "t.yaml:1:1: expected a mapping, got null"},
		{"scalar document", "hello\n", "t.yaml:1:1: expected a mapping, got string \"hello\""},
		{"two documents", header + "---\n" + header, "t.yaml:4:1: a second YAML document; a topology file holds exactly one"},
		{"scanner error", header + "metadata:\n\t name: x\n", "t.yaml:4: invalid YAML: found character that cannot start any token"},
		{"parser error", header + "- x\n", "t.yaml:3: invalid YAML: did not find expected key"},
		{"unknown anchor", header + "metadata: *m\n", "t.yaml: invalid YAML: unknown anchor 'm' referenced"},
		{"alias", header + "metadata: &m {name: a}\nspec: {gitops: *m}\n",
			"t.yaml:4:16: spec.gitops: YAML aliases (*m) are not supported; write the value out"},
		{"merge key", header + "metadata: {<<: {name: a}}\n",
			"t.yaml:3:12: metadata.<<: YAML merge keys (<<) are not supported; write the fields out"},
		{"non-string key", header + "metadata: {[a]: b}\n", "t.yaml:3:12: metadata: field names must be strings, got a list"},
		{"kind only wrong", "apiVersion: stretch.dev/v1alpha1\nkind: topology\nbogus: 1\n",
			"t.yaml:2:7: kind: unsupported kind \"topology\"; a topology file has kind: Topology"},
		{"empty apiVersion", "apiVersion: ''\nkind: Topology\n",
			"t.yaml:1:13: apiVersion: unsupported apiVersion \"\"; a topology file has apiVersion: stretch.dev/v1alpha1"},
		{"null apiVersion", "apiVersion:\nkind: Topology\n", "t.yaml:1:1: apiVersion: required; a topology file starts with apiVersion: stretch.dev/v1alpha1"},
		{"apiVersion mapping", "apiVersion: {a: b}\nkind: Topology\n", "t.yaml:1:13: apiVersion: expected a string, got a mapping"},
		{"did you mean, case", header + "metaData: {}\n", "t.yaml:3:1: metaData: unknown field \"metaData\" (did you mean \"metadata\"?)"},
		{"did you mean, typo", header + "spec: {netwrok: {}}\n", "t.yaml:3:8: spec.netwrok: unknown field \"netwrok\" (did you mean \"network\"?)"},
		{"no suggestion for short keys", header + "metadata: {x: 1}\n", "t.yaml:3:12: metadata.x: unknown field \"x\"; known fields: name"},
		{"duplicate key in flow mapping", header + "metadata: {name: a, name: b}\n",
			"t.yaml:3:21: metadata.name: duplicate field \"name\" (first set on line 3)"},
		{"bool as int", header + "spec: {network: {underlayMTU: true}}\n",
			"t.yaml:3:31: spec.network.underlayMTU: expected an integer, got boolean true"},
		{"float as int", header + "spec: {network: {underlayMTU: 1e3}}\n",
			"t.yaml:3:31: spec.network.underlayMTU: expected an integer, got number 1e3"},
		{"quoted bool", header + "spec: {network: {allowUnencrypted: 'false'}}\n",
			"t.yaml:3:36: spec.network.allowUnencrypted: expected a boolean (true or false), got string \"false\"; remove the quotes"},
		{"on is a string", header + "spec: {network: {allowUnencrypted: on}}\n",
			"t.yaml:3:36: spec.network.allowUnencrypted: expected a boolean (true or false), got string \"on\""},
		{"list as string", header + "metadata: {name: [a]}\n", "t.yaml:3:18: metadata.name: expected a string, got a list"},
		{"mapping as list", header + "spec: {adminCIDRs: {a: b}}\n", "t.yaml:3:20: spec.adminCIDRs: expected a list, got a mapping"},
		{"pointer struct as string", header + "spec: {ingress: apps}\n", "t.yaml:3:17: spec.ingress: expected a mapping, got string \"apps\""},
		{"all errors together", header + "metadata: {nam: a}\nspec: {network: {underlayMTU: x}, adminCIDRs: [[a]]}\n",
			"t.yaml:3:12: metadata.nam: unknown field \"nam\" (did you mean \"name\"?)\n" +
				"t.yaml:4:31: spec.network.underlayMTU: expected an integer, got string \"x\"\n" +
				"t.yaml:4:48: spec.adminCIDRs[0]: expected a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Decode("t.yaml", []byte(tt.in))
			if f != nil {
				t.Errorf("Decode returned a File with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Decode error is %T (%v), want Errors", err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Decode errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestDecodeScalars(t *testing.T) {
	t.Parallel()
	in := header + `metadata: {name: ~}
spec:
  kubernetes: {version: 1.35.4, apiEndpoint: 10.0.0.1}
  network: {underlayMTU: 1_500, interRegionRTTms: 0x0c, allowUnencrypted: true}
  regions:
  - nodes:
    - {cpu: 8, memory: 32Gi, devices: [vdb]}
  ingress: {host: on, healthPath: /}
  gitops: null
`
	f, err := Decode("t.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &v1alpha1.Topology{
		APIVersion: v1alpha1.APIVersion,
		Kind:       v1alpha1.KindTopology,
		Spec: v1alpha1.Spec{
			Kubernetes: v1alpha1.Kubernetes{Version: "1.35.4", APIEndpoint: "10.0.0.1"},
			Network:    v1alpha1.Network{UnderlayMTU: 1500, InterRegionRTTms: 12, AllowUnencrypted: true},
			Regions:    []v1alpha1.Region{{Nodes: []v1alpha1.Node{{CPU: "8", Memory: "32Gi", Devices: []string{"vdb"}}}}},
			Ingress:    &v1alpha1.Ingress{Host: "on", HealthPath: "/"},
		},
	}
	if !reflect.DeepEqual(f.Topology, want) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", f.Topology, want)
	}
}

func TestPosition(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode("topology.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field     string
		line, col int
	}{
		{"", 3, 1},
		{"metadata", 5, 1},
		{"metadata.name", 6, 9},
		{"spec.kubernetes.version", 9, 14},
		{"spec.adminCIDRs", 17, 3},
		{"spec.adminCIDRs[0]", 18, 5},
		{"spec.regions[0]", 20, 5},
		{"spec.regions[0].nodes[1].ip", 24, 28},
		{"spec.regions[0].nodes[3].devices[0]", 26, 68},
		// Unset fields fall back to their nearest parent.
		{"spec.regions[0].nodes[1].publicIP", 24, 7},
		{"spec.storage.rook.version", 40, 3},
		{"spec.gitops.path", 7, 1},
		{"nosuch", 3, 1},
	}
	for _, tt := range tests {
		line, col := f.Position(tt.field)
		if line != tt.line || col != tt.col {
			t.Errorf("Position(%q) = %d:%d, want %d:%d", tt.field, line, col, tt.line, tt.col)
		}
	}
	got := f.Errorf("spec.regions[0].nodes[1].ip", "bad %s", "ip")
	want := Error{File: "topology.yaml", Line: 24, Column: 28, Field: "spec.regions[0].nodes[1].ip", Message: "bad ip"}
	if got != want {
		t.Errorf("Errorf = %+v, want %+v", got, want)
	}
	var none *File
	if l, c := none.Position("metadata"); l != 0 || c != 0 {
		t.Errorf("nil File Position = %d:%d, want 0:0", l, c)
	}
	if got := (&File{Path: "x.yaml"}).Errorf("metadata.name", "m"); got != (Error{File: "x.yaml", Field: "metadata.name", Message: "m"}) {
		t.Errorf("Errorf without positions = %+v", got)
	}
}

func TestLoadReadError(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/missing.yaml"
	f, err := Load(path)
	if f != nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load = %v, %v; want fs.ErrNotExist", f, err)
	}
	if want := "read topology: open " + path + ": no such file or directory"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestLoadReturnsFileWithValidationErrors(t *testing.T) {
	t.Parallel()
	f, err := Load("../../testdata/topologies/invalid/min-replicas-one.yaml")
	if f == nil || f.Topology.Spec.Workloads.MinReplicas != 1 {
		t.Fatalf("Load returned File %v, want the decoded file", f)
	}
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Load error = %v, want one validation error", err)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"name", "ip", "publicIP", "roles", "cpu", "memory", "devices"}
	tests := map[string]string{
		"nmae":     "name",
		"publicip": "publicIP",
		"PublicIp": "publicIP",
		"role":     "roles",
		"device":   "devices",
		"mem":      "",
		"x":        "",
		"zones":    "roles",
		"disks":    "",
	}
	for in, want := range tests {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// Parse is Load without the file: the same File, defaults and errors for
// the same bytes, named as the caller says.
func TestParseAgreesWithLoad(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"../../testdata/topology.yaml", "../../testdata/topologies/valid/minimal.yaml", "../../testdata/topologies/invalid/min-replicas-one.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lf, lerr := Load(p)
		pf, perr := Parse(data, p)
		if fmt.Sprint(lerr) != fmt.Sprint(perr) {
			t.Errorf("%s: Parse error %v, Load error %v", p, perr, lerr)
		}
		if lf == nil || pf == nil || !reflect.DeepEqual(lf, pf) {
			t.Errorf("%s: Parse gave %+v, Load %+v", p, pf, lf)
		}
	}
	// Defaults are filled in: the minimal topology sets no minReplicas.
	data, err := os.ReadFile("../../testdata/topologies/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, "functionConfig")
	if err != nil || f.Topology.Spec.Workloads.MinReplicas != DefaultMinReplicas || f.Path != "functionConfig" {
		t.Errorf("Parse: %v, minReplicas %d, path %q", err, f.Topology.Spec.Workloads.MinReplicas, f.Path)
	}
	// A decode error names the name given and returns no File.
	f, err = Parse([]byte("apiVersion: stretch.dev/v1alpha1\nkind: Topology\nspce: {}\n"), "functionConfig")
	if f != nil || err == nil || !strings.HasPrefix(err.Error(), "functionConfig:3:1: ") {
		t.Errorf("Parse of a misspelt field = %v, %v", f, err)
	}
}
