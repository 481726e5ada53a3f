package check

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/VERIFY.md")

// Markers around the generated part of docs/VERIFY.md.
const (
	docPath  = "../../docs/VERIFY.md"
	docBegin = "<!-- BEGIN GENERATED: go test ./internal/check -run TestVerifyDoc -update -->\n"
	docEnd   = "<!-- END GENERATED -->\n"
)

// TestVerifyDoc keeps docs/VERIFY.md's list of checks equal to the
// registry; -update rewrites it.
func TestVerifyDoc(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	head, rest, ok := strings.Cut(doc, docBegin)
	_, tail, ok2 := strings.Cut(rest, docEnd)
	if !ok || !ok2 {
		t.Fatalf("%s lacks the markers %q and %q", docPath, docBegin, docEnd)
	}
	want := head + docBegin + Markdown(Checks()) + docEnd + tail
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is stale: run go test ./internal/check -run TestVerifyDoc -update", docPath)
	}
}

// TestClusterRoleMatchesKinds keeps the bundle's stretch-verify ClusterRole
// equal to what verify and drill list: read-only, and exactly their kinds.
func TestClusterRoleMatchesKinds(t *testing.T) {
	t.Parallel()
	f, err := topology.Load(exampleTopology)
	if err != nil {
		t.Fatal(err)
	}
	out, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(exampleTopology)})
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	var binding rbacv1.ClusterRoleBinding
	for _, file := range out.Bundle.Files {
		switch file.Path {
		case "access/clusterrole-stretch-verify.yaml":
			err = yaml.UnmarshalStrict(file.Data, &role)
		case "access/clusterrolebinding-stretch-verify.yaml":
			err = yaml.UnmarshalStrict(file.Data, &binding)
		}
		if err != nil {
			t.Fatalf("%s: %v", file.Path, err)
		}
	}
	var granted []string
	for _, r := range role.Rules {
		if !slices.Equal(r.Verbs, []string{"get", "list", "watch"}) || len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: want the verbs get, list, watch and nothing else", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				granted = append(granted, res+"."+g)
			}
		}
	}
	var want []string
	for _, k := range DrillKinds() {
		want = append(want, k.Info().Resource+"."+k.Info().Group)
	}
	slices.Sort(granted)
	slices.Sort(want)
	if !slices.Equal(granted, want) {
		t.Errorf("the ClusterRole grants %v, verify and drill list %v", granted, want)
	}
	if role.Name != "stretch-verify" || binding.RoleRef.Name != "stretch-verify" || len(binding.Subjects) != 1 ||
		binding.Subjects[0].Kind != rbacv1.GroupKind || binding.Subjects[0].Name != "stretch:verifiers" {
		t.Errorf("role %s, binding %+v", role.Name, binding)
	}
}
