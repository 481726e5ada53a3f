package spread

import (
	"reflect"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TestPolicyFor derives the policy of the example topology.
func TestPolicyFor(t *testing.T) {
	f, err := topology.Decode("example.yaml", topology.Example())
	if err != nil {
		t.Fatal(err)
	}
	topology.Default(f.Topology)
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	m := topology.NewModel(f.Topology)
	got := PolicyFor(m)
	want := Policy{
		ZoneKey:         "topology.kubernetes.io/zone",
		DataZones:       []string{"sto1", "sto2"},
		ArbiterTaintKey: "stretch.dev/arbiter",
		MinReplicas:     2,
		SkipAnnotation:  "stretch.dev/skip",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PolicyFor = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	got.DataZones[0] = "changed"
	if m.Data[0] != "sto1" {
		t.Error("PolicyFor shares DataZones with the model")
	}
}
