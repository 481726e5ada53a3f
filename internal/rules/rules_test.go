package rules

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// table is the rule book as docs/BUNDLE.md and docs/VERIFY.md show it.
func table() string {
	var b strings.Builder
	b.WriteString("| rule | what it checks | number | render (bundle check) | verify |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range Book {
		number := r.Number
		if number == "" {
			number = "-"
		}
		b.WriteString("| `" + r.ID + "` | " + r.Doc + " | " + number + " | " + strings.Join(r.Render, ", ") + " | " + strings.Join(r.Verify, ", ") + " |\n")
	}
	return b.String()
}

// TestRuleBookDocs keeps the rule book's table in the docs equal to Book.
func TestRuleBookDocs(t *testing.T) {
	t.Parallel()
	want := table()
	for _, doc := range []string{"../../docs/BUNDLE.md", "../../docs/VERIFY.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks the rule book's table; it is:\n%s", doc, want)
		}
	}
}

func TestBookIDsUnique(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, r := range Book {
		if r.ID == "" || slices.Contains(ids, r.ID) {
			t.Errorf("rule ID %q is empty or twice in the book", r.ID)
		}
		ids = append(ids, r.ID)
	}
}

// TestCheckNamesTheRule: Check gives every violation the ID of the rule
// that found it, in the order the rules were given.
func TestCheckNamesTheRule(t *testing.T) {
	t.Parallel()
	m := &topology.Model{Arbiter: "a", Regions: []topology.RegionModel{{Name: "a", Arbiter: true}, {Name: "b"}, {Name: "c"}}}
	o := &Objects{Cluster: &rook.CephCluster{}, Pools: []*rook.CephBlockPool{{}}}
	var got []string
	for _, v := range Check(m, o, MgrPool, Mons, Zones) {
		got = append(got, v.Rule+" "+v.Field)
	}
	want := []string{"mgr-pool " + FieldMgrPool, "mons " + FieldMonCount, "zones " + FieldStretch}
	if !slices.Equal(got, want) {
		t.Errorf("violations %q, want %q", got, want)
	}
}

// TestErasureCoded follows Rook's PoolSpec.IsErasureCoded: data or coding
// chunks above 0; what cannot be read as chunk counts is not replicated.
func TestErasureCoded(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		``: false, `null`: false, `{}`: false, `{"dataChunks":0,"codingChunks":0}`: false,
		`{"dataChunks":2,"codingChunks":1}`: true, `{"codingChunks":1}`: true, `{"dataChunks":1}`: true,
		`"2+1"`: true, `{"dataChunks":"2"}`: true,
	} {
		p := &rook.CephBlockPool{Spec: rook.PoolSpec{ErasureCoded: []byte(raw)}}
		if got := erasureCoded(p); got != want {
			t.Errorf("erasureCoded(%s) = %t, want %t", raw, got, want)
		}
	}
}
