package namespaces

import (
	"reflect"
	"strings"
	"testing"
)

func TestMissing(t *testing.T) {
	t.Parallel()
	refs := []Ref{
		{Kind: "Service", Namespace: "billing", Name: "api", Source: "b", File: "b/a.yaml"},
		{Kind: "ConfigMap", Namespace: "billing", Name: "rates", Source: "a"},
		{Kind: "ConfigMap", Namespace: "shop", Name: "cart", Source: "a"},
		{Kind: "Namespace", Name: "shop", Source: "c"},
		{Kind: "ConfigMap", Namespace: "rook-ceph", Name: "x"},
		{Kind: "ConfigMap", Namespace: "kube-system", Name: "y"},
		{Kind: "ConfigMap", Name: "no-namespace"},
		{Kind: "ClusterRole", Namespace: "ignored", Name: "view"},
		{Kind: "Secret", Namespace: "audit", Name: "key"},
	}
	got := Missing(refs, "rook-ceph")
	want := []Group{
		{Namespace: "audit", Objects: []Ref{refs[8]}},
		{Namespace: "billing", Objects: []Ref{refs[1], refs[0]}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %+v\nwant %+v", got, want)
	}
	if got := Missing(refs[2:4]); len(got) != 0 {
		t.Errorf("Missing with the Namespace = %+v, want none", got)
	}
}

func TestFindingNamesTheObjects(t *testing.T) {
	t.Parallel()
	var objs []Ref
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g\x1b"} {
		objs = append(objs, Ref{Kind: "ConfigMap", Namespace: "billing", Name: n})
	}
	g := Group{Namespace: "billing", Objects: objs}
	f := g.Finding(objs[:1])
	if f.ID != Rule.ID || f.Severity != Rule.Severity || f.Kind != "Namespace" || f.Name != "billing" || f.Changed ||
		!strings.Contains(f.Message, "1 object is in it (ConfigMap/a)") {
		t.Errorf("finding of one object: %+v", f)
	}
	f = g.Finding(objs)
	if !strings.Contains(f.Message, "7 objects are in it (ConfigMap/a, ConfigMap/b, ConfigMap/c, ConfigMap/d, ConfigMap/e, and 2 more)") {
		t.Errorf("finding of seven objects: %s", f.Message)
	}
	f = g.Finding(objs[6:])
	if strings.Contains(f.Message, "\x1b") || !strings.Contains(f.Message, `"ConfigMap/g\x1b"`) {
		t.Errorf("a control character is printed raw: %q", f.Message)
	}
}

// TestFindingForSaysTheEffect checks that FindingFor ends the problem with
// what the door's missing namespace breaks and places the finding at its
// first object's line, and that Finding speaks of Flux.
func TestFindingForSaysTheEffect(t *testing.T) {
	t.Parallel()
	objs := []Ref{{Kind: "ConfigMap", Namespace: "billing", Name: "rates", Line: 7}, {Kind: "Secret", Namespace: "billing", Name: "key", Line: 2}}
	g := Group{Namespace: "billing", Objects: objs}
	for _, effect := range []string{EffectHelm, EffectApply} {
		f := g.FindingFor(objs, effect)
		if !strings.HasSuffix(f.Problem, "2 objects are in it (ConfigMap/rates, Secret/key): "+effect) || f.Message != f.Problem || f.Line != 7 {
			t.Errorf("FindingFor(%q) = %+v", effect, f)
		}
	}
	if f := g.Finding(objs[1:]); !strings.HasSuffix(f.Message, ": "+EffectFlux) || f.Line != 2 {
		t.Errorf("Finding = %+v, want the Flux effect at line 2", f)
	}
}
