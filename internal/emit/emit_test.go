package emit_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/emit"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// decodeAll decodes every document of a YAML stream into nodes.
func decodeAll(t testing.TB, in []byte) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(in))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		docs = append(docs, &n)
	}
}

// same checks that Append writes n as yaml.v3 does, or declines it, and
// reports whether it wrote it.
func same(t testing.TB, n *yaml.Node) bool {
	t.Helper()
	var want bytes.Buffer
	got, ok := emit.Append([]byte("prefix"), n)
	if err := fallback(&want, n); err != nil {
		if ok {
			t.Fatalf("Append wrote what yaml.v3 cannot (%v):\n%s", err, got[len("prefix"):])
		}
		return false
	}
	if !ok {
		if string(got) != "prefix" {
			t.Fatalf("declined, but dst changed to %q", got)
		}
		return false
	}
	if g := string(got[len("prefix"):]); g != want.String() {
		t.Fatalf("Append differs from yaml.v3\n--- yaml.v3\n%s--- Append\n%s", want.String(), g)
	}
	return true
}

// fallback is emit.Fallback with yaml.v3's panics (it has some on odd
// comments) as errors.
func fallback(buf *bytes.Buffer, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml.v3 panicked: %v", r)
		}
	}()
	return emit.Fallback(buf, n)
}

func TestAppendCases(t *testing.T) {
	cases := []struct {
		name, in string
		handled  bool
	}{
		{"nested collections", "a:\n- - x\n  - y\n- - {}\n  - []\n- {}\n- []\n- a: 1\n  b:\n  - c: 2\n    d: []\n", true},
		{"root sequence", "- a\n- b:\n  - c\n- - - d\n", true},
		{"empty root mapping", "{}\n", true},
		{"empty root sequence", "[]\n", true},
		{"nulls", "a:\nb: ~\nc: null\nd:\n-\n- ~\n", true},
		{"quoting", "a: ''\nb: \"x\"\nc: ' x'\n'': 1\n\"3\": x\nd: 'it''s'\ne: \"say \\\"hi\\\" \\\\\"\nf: '-'\ng: ':x'\nh: 'x: y'\ni: 'x #y'\nj: x#y\nk: '---x'\nl: '...'\nm: '@x'\nn: '? x'\n", true},
		{"typed plain", "a: 1\nb: -2\nc: 0x1F\nd: 1.5\ne: .5\nf: 1e3\ng: true\nh: .inf\ni: 2001-12-14\nj: 0o17\nk: 1_000\nl: 100m\nm: 128Mi\nn: 1.0.0\no: 0b101\n", true},
		{"strings that look typed", "a: \"1\"\nb: 'true'\nc: \"\"\nd: '2001-12-14'\ne: \"0b-1\"\nf: 'null'\n", true},
		{"deep", "a:\n  b:\n    c:\n    - - - 1\n      - d: e\n        f:\n        - g\n", true},
		{"long key", "? " + strings.Repeat("k", 129) + "\n: v\n", false},
		{"key of 128", strings.Repeat("k", 128) + ": v\n", true},
		{"line comment", "k: v # c\n", false},
		{"head comment", "# Source: x\n# more\nk: v\n", true},
		{"document comment", "# c1\n\n# c2\nk: v\n", true},
		{"nested head comments", "a: 1\n# c\nb:\n  # d\n  c: 2\n  e:\n  - f: 1\n    # g\n    h: 2\n# i\nj: 3\n", true},
		{"comment after a dash", "- # c\n  a: 1\n", false},
		{"foot comment", "a: 1\n\n# foot\n", false},
		{"trailing space in a comment", "#   c  \na: 1\n", false},
		{"flow", "a: [x, '', \"y\", 'a:b', 'a,b', '-', '- x', ':x', 'x:', '?x', 1, ~, a-b, 'a b']\nb: {k: v, '': x, 'a:b': c, d: }\nc: [[a], {b: c}, [], {}]\nd: [a: b]\n", true},
		{"flow root", "[a, {b: c}]\n", true},
		{"anchor", "a: &x 1\nb: *x\n", false},
		{"tag", "a: !!binary aGk=\nb: !custom x\n", false},
		{"literal", "a: |\n  x\n\n  y\nb:\n  c: |-\n    x\n     y\nd:\n- |\n  x\n- e: |\n    y\n  f: 1\ng:\n- - |-\n    z\n", true},
		{"literal keep", "a: |+\n  x\n\n", false},
		{"literal with an indentation indicator", "a: |2\n   x\n  y\n", false},
		{"literal line ending in a space", "a: \"x \\ny\"\n", false},
		{"multi-line key", "? |\n  x\n: 1\n", false},
		{"multi-line in a flow list", "a: [\"x\\ny\"]\n", false},
		{"folded", "a: >\n  x\n", false},
		{"unicode", "a: grüße\n", false},
		{"tab", "a: \"x\\ty\"\n", false},
		{"scalar document", "just text\n", false},
		{"complex key", "? [a]\n: b\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, d := range decodeAll(t, []byte(c.in)) {
				if got := same(t, d); got != c.handled {
					t.Errorf("document %d handled = %v, want %v", i+1, got, c.handled)
				}
			}
		})
	}
}

// TestAppendBuiltNodes covers trees built in code, as the patcher builds
// them: no styles, tags set by hand, values that need quoting.
func TestAppendBuiltNodes(t *testing.T) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	values := []string{"", "x", "1", "true", "null", "~", "yes", "1.5", "-", "- x", "a: b", "a #b", " x", "x ",
		"'q'", "\"d\"", "back\\slash", "2001-12-14", "<<", ".inf", "+1", "0b-1", "0o-7", "-0b1", "1__0", "0x_1"}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, v := range values {
		m.Content = append(m.Content, str("k"+v), str(v))
		s.Content = append(s.Content, str(v))
	}
	m.Content = append(m.Content, str("list"), s, str("untagged"), &yaml.Node{Kind: yaml.ScalarNode, Value: "true"})
	if !same(t, m) {
		t.Fatal("built mapping not handled")
	}
	wrong := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("k"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: "abc"}}}
	if same(t, wrong) {
		t.Fatal("an !!int that is not one was written without its tag")
	}
}

// policy is the patcher's policy for the example's regions.
var policy = spread.Policy{
	ZoneKey:         "topology.kubernetes.io/zone",
	DataZones:       []string{"sto1", "sto2"},
	ArbiterTaintKey: "stretch.dev/arbiter",
	MinReplicas:     2,
	SkipAnnotation:  spread.AnnotationSkip,
}

// TestAppendRepository runs every YAML file of the repository's test data,
// and the patcher's output on the benchmark corpus, through both encoders.
// The corpus and the patched corpus must be handled in full: they are what
// the fast path is for.
func TestAppendRepository(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	handled, docs := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml") {
			return err
		}
		in, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var ns []*yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(in))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				break // invalid test inputs end the file's documents
			}
			ns = append(ns, &n)
		}
		for _, n := range ns {
			docs++
			if same(t, n) {
				handled++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs < 100 || handled == 0 {
		t.Fatalf("%d of %d documents handled: the walk found too little", handled, docs)
	}
	t.Logf("%d of %d documents of testdata handled by Append", handled, docs)

	corpus := spreadtest.Corpus(40, 10)
	for i, n := range decodeAll(t, corpus) {
		if !same(t, n) {
			t.Errorf("corpus document %d not handled", i+1)
		}
	}
	out, _, err := spread.PatchStream(corpus, policy)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range decodeAll(t, out) {
		if !same(t, n) {
			t.Errorf("patched corpus document %d not handled", i+1)
		}
	}
}

// FuzzAppend decodes arbitrary YAML and requires Append to write every
// document it accepts exactly as yaml.v3 does.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"a: 1\n", "- a\n- b: [c]\n", "a:\n  b: ''\n  c: \"x\"\n", "k: 'x: y'\n", "a: -\n",
		"a: |\n  x\n\n  y\n", "- |-\n  x\n   y\n", "a:\n- b: |\n    x\n  c: |+\n    y\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		dec := yaml.NewDecoder(bytes.NewReader(in))
		for range 8 {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				return
			}
			same(t, &n)
		}
	})
}

// FuzzScalar puts one string, in every style and with every tag a
// decoded or built node may carry, at every position: block value, block
// key, sequence item, flow mapping key and value, flow sequence item; and
// as a head comment of a key and of a document. Append must write each as
// yaml.v3 does, or decline it.
func FuzzScalar(f *testing.F) {
	for _, s := range []string{"", "x", "1", "a: b", "- x", "0b-1", "2001-12-14", "'", "\"\\", "# c", "#",
		"x\ny\n", "x\n\ny", " x\ny", "x \ny", "x\n\n", "\n", "x\n y\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		other := func() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"} }
		for _, st := range []yaml.Style{0, yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle, yaml.LiteralStyle} {
			for _, tag := range []string{"", "!!str", "!!int", "!!null", "!!float", "!!bool", "!!timestamp"} {
				n := func() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Style: st, Value: v} }
				mapping := func(style yaml.Style, kv ...*yaml.Node) *yaml.Node {
					return &yaml.Node{Kind: yaml.MappingNode, Style: style, Content: kv}
				}
				seq := func(style yaml.Style, items ...*yaml.Node) *yaml.Node {
					return &yaml.Node{Kind: yaml.SequenceNode, Style: style, Content: items}
				}
				same(t, mapping(0, n(), n()))
				same(t, seq(0, n()))
				same(t, mapping(0, other(), mapping(yaml.FlowStyle, n(), n())))
				same(t, mapping(0, other(), seq(yaml.FlowStyle, n(), n())))
			}
		}
		key := other()
		key.HeadComment = v
		same(t, mapping2(other(), other(), key, other()))
		same(t, &yaml.Node{Kind: yaml.DocumentNode, HeadComment: v, Content: []*yaml.Node{mapping2(other(), other())}})
	})
}

// mapping2 returns a block mapping of the given keys and values.
func mapping2(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

// BenchmarkEncode writes the patched benchmark corpus (2,000 Deployments
// and 500 StatefulSets with their spreads, and the added
// PodDisruptionBudgets) document by document, with Encode and with
// yaml.v3's encoder alone.
func BenchmarkEncode(b *testing.B) {
	out, _, err := spread.PatchStream(spreadtest.Corpus(2000, 500), policy)
	if err != nil {
		b.Fatal(err)
	}
	docs := decodeAll(b, out)
	for _, bc := range []struct {
		name   string
		encode func(*bytes.Buffer, *yaml.Node) error
	}{{"emit", emit.Encode}, {"yaml.v3", emit.Fallback}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				for _, d := range docs {
					if err := bc.encode(&buf, d); err != nil {
						b.Fatal(err)
					}
				}
			}
			if want := len(out) - (len(docs)-1)*len("---\n"); buf.Len() != want {
				b.Fatalf("wrote %d bytes, want %d: the patched stream less its separators", buf.Len(), want)
			}
		})
	}
}

// TestAppendRandomTrees builds random trees of mappings, sequences and
// strings of several lines, in every style the patcher meets, from a fixed
// seed, and requires Append to write each as yaml.v3 does or decline it.
// Enough of them must be handled for the test to mean something.
func TestAppendRandomTrees(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"x", "y z", "", " ", "  a", "b ", "#c", "- d", "e: f", "'", "\"", "1", "true"}
	text := func() string {
		var b strings.Builder
		for i := range r.IntN(4) + 1 {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(parts[r.IntN(len(parts))])
		}
		if r.IntN(3) == 0 {
			b.WriteString("\n")
		}
		return b.String()
	}
	var node func(depth int) *yaml.Node
	node = func(depth int) *yaml.Node {
		switch k := r.IntN(5); {
		case depth > 3 || k < 2:
			style := []yaml.Style{0, yaml.LiteralStyle, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle}[r.IntN(4)]
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: text()}
		case k < 4:
			m := &yaml.Node{Kind: yaml.MappingNode}
			for i := range r.IntN(3) + 1 {
				m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k" + strconv.Itoa(i)}, node(depth+1))
			}
			return m
		default:
			s := &yaml.Node{Kind: yaml.SequenceNode}
			for range r.IntN(3) + 1 {
				s.Content = append(s.Content, node(depth+1))
			}
			return s
		}
	}
	handled := 0
	for range 20000 {
		if n := node(0); n.Kind != yaml.ScalarNode && same(t, n) {
			handled++
		}
	}
	if handled < 500 {
		t.Errorf("only %d of 20000 random trees were handled", handled)
	}
}
