package spread

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// boundaryCases are streams with something at or around a document start
// marker that yaml.v3 might read otherwise at the start or the end of a
// chunk than in the middle of a stream.
var boundaryCases = []string{
	"a: 1\n---\nb: 2\n",
	"---\na: 1\n---\nb: 2\n---\n",
	"---\n---\na: 1\n---\n---\n---\nb: 2\n---\n---\n",
	"a: 1\n---\n",
	"a: 1\n---",
	"a: 1\n--- \n--- \t\nb: 2",
	"a: 1\n# foot\n---\nb: 2\n",
	"a: 1\n\n# foot\n\n---\nb: 2\n",
	"a:\n  b: 1\n  # foot\n---\nb: 2\n",
	"a: 1 # line\n---\nb: 2\n",
	"a: 1\n--- # marker\nb: 2\n",
	"a: 1\n---\n# head\nb: 2\n",
	"a: 1\n---\n# head\n\nb: 2\n",
	"a: 1\n---\n# head\n# more\n  \nb: 2\n",
	"a: 1\n---\n\n# head\n\nb: 2\n",
	"a: 1\n---\n  # head\nb: 2\n",
	"a: 1\n---\n# only\n",
	"a: 1\n---\n# only",
	"---\n---\nb: 2\n",
	"---\n# only\n---\nb: 2\n",
	"--- # c\n---\nb: 2\n",
	"a: 1\n...\n# after end\n---\nb: 2\n",
	"a: 1\n...\n---\nb: 2\n...\n",
	"a: 1\n...\n...\n---\nb: 2\n",
	"a: 1\n...\n# c\n\n# d\n...\n---\n- x\n",
	"a: 1\n...\n\n...  \n---\n- x\n",
	"- a\n- b\n---\n- c\n",
	"- a\n- b # x\n---\n- c\n",
	"- a\n- # x\n---\n- c\n",
	"- a\n  # x\n---\n- c\n",
	"- a\n-\n---\n-\n",
	"a: |\n  x\n---\nb: 2\n",
	"a: |\n  x\n\n---\nb: 2\n",
	"a: |+\n  x\n\n\n---\nb: |-\n  y\n",
	"a: |\n  x\n  # not a comment\n---\nb: 2\n",
	"--- |\nfoo\n--- >\n bar\n--- {a: 1}\n---\n",
	"--- {inline: flow}\n--- [a, b]\n--- &x {a: 1}\n--- !!map\nb: 2\n",
	"--- &x\n# c\n\nb: 1\n---\na: 1\n",
	"--- scalar\n--- 'quoted'\n--- \"double\"\n",
	"a: plain\n  multi\n  line\n---\nb: 2\n",
	"a: \"quoted\n  multi\"\n---\nb: 2\n",
	"a: &x 1\n---\nb: *x\n",
	"a: &x 1\n---\nb: &x 2\n---\nc: *x\n",
	"--- &x ~\n---\nb: *x\n",
	"# head\na: 1\n---\nb: 2\n",
	"# head\n\n# more\n---\nb: 2\n",
	"a: 1\n\n\n---\nb: 2\n",
	"a: 1\r\n---\r\nb: 2\r\n",
	"a: 1\r\n# foot\r\n---\r\nb: 2\r\n",
	"a: 1\r\n---\r\n# head\r\nb: 2\r\n",
	"a: 1\r\n---\r\n# head\r\n\r\nb: 2\r\n",
	"a: 1\n---\n# head\r\nb: 2\n",
	"\ufeffa: 1\n---\nb: 2\n",
	"a: 1\n---\n\ufeffb: 2\n",
	"a: 1\n---x\n---\nb: 2\n",
	"a: 1\n----\n---\nb: 2\n",
	"a: 1\n---\tb\n---\tc: 3\n",
	"a: [1,\n---\n2]\n",
	"a: \"x\n---\ny\"\n---\nb: 2\n",
	"a: 'x\n---\ny'\n---\nb: 2\n",
	"a: 1\n---\nb: *nope\n---\nc: 3\n",
	"a: 1\n---\nb: : :\n---\nc: 3\n",
	"a: 1\n---\nb: 2\n\tc: 3\n---\nd: 4\n",
	"%YAML 1.2\n---\na: 1\n---\nb: 2\n",
	"a: 1\n---\nb: 2\r---\nc: 3\n",
	"a: 1\n---\nb: \"\u2028\"\n---\nc: 3\n",
	"apiVersion: v1\nkind: List\nitems:\n- a\n- b\n---\n# Source: chart/templates/x.yaml\napiVersion: v1\nkind: ConfigMap\n---\n# Source: chart/templates/y.yaml\n# more\napiVersion: v1\n",
}

// decodeInputs returns the streams that the parallel decode is checked on:
// boundaryCases, the golden cases' input and expected files, them all
// joined into one stream, a small corpus, and each of those with CRLF line
// breaks.
func decodeInputs(t testing.TB) map[string][]byte {
	t.Helper()
	ins := map[string][]byte{}
	for i, c := range boundaryCases {
		ins[fmt.Sprintf("boundary %d", i)] = []byte(c)
	}
	var all bytes.Buffer
	for _, dir := range caseDirs(t) {
		for _, name := range []string{"input.yaml", "expected.yaml"} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			ins[filepath.Join(filepath.Base(dir), name)] = data
			all.Write(data)
			if !bytes.HasSuffix(data, []byte("\n")) {
				all.WriteByte('\n')
			}
			all.WriteString("---\n")
		}
	}
	ins["all cases"] = all.Bytes()
	ins["corpus"] = spreadtest.Corpus(20, 5)
	for name, in := range ins {
		if !bytes.Contains(in, []byte("\r")) {
			ins[name+" (CRLF)"] = bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
		}
	}
	return ins
}

// allChunkStarts returns 0 and every marker of in that may start a chunk:
// the most chunks a parallel decode of in can have.
func allChunkStarts(in []byte) []int {
	starts := []int{0}
	if !splittable(in) {
		return starts
	}
	for {
		s := nextChunkStart(in, starts[len(starts)-1]+1)
		if s < 0 {
			return starts
		}
		starts = append(starts, s)
	}
}

// TestDecodeParallel checks that a parallel decode gives what a sequential
// one does, with 2, 3 and 7 workers and with a chunk at every marker that
// may start one.
func TestDecodeParallel(t *testing.T) {
	inputs := decodeInputs(t)
	if !testing.Short() {
		inputs["large corpus"] = spreadtest.Corpus(2000, 500)
	}
	for name, in := range inputs {
		for _, w := range []int{2, 3, 7} {
			if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeParallel(in, w) }); d != "" {
				t.Errorf("%s, %d workers: %s", name, w, d)
			}
		}
		starts := allChunkStarts(in)
		if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeChunks(in, starts) }); d != "" {
			t.Errorf("%s, chunks at %v: %s", name, starts, d)
		}
	}
}

// TestSplitStream checks where streams are split: into chunks of about
// the same size, at markers that may start a chunk, and not at all if the
// stream has directives, is UTF-16 or has line breaks other than LF and
// CRLF.
func TestSplitStream(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		n      int
		starts []int
	}{
		{"one worker", "a: 1\n---\nb: 2\n", 1, nil},
		{"two", "a: 1\nb: 2\n---\nc: 3\n", 2, []int{0, 10}},
		{"three", "a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n", 3, []int{0, 14, 23}},
		{"three, two chunks", "a: 1\n---\nb: 2\n---\nc: 3\n", 3, []int{0, 14}},
		{"too few markers", "a: 1\nb: 2\n---\nc: 3\n", 7, []int{0, 10}},
		{"marker before the middle", "a: 1\n---\nb: 2\nc: 3\nd: 4\n", 2, []int{0}},
		{"leading marker", "---\na: 1\n", 2, []int{0}},
		{"not a marker", "a: 1\n---x\n----\n---\nb: 2\n", 2, []int{0, 15}},
		{"CRLF", "a: 1\r\nb: 2\r\n---\r\nc: 3\r\n", 2, []int{0, 12}},
		{"directive", "a: 1\n---\nb: 2\n%YAML 1.2\n---\nc: 3\n", 2, nil},
		{"leading directive", "%YAML 1.2\n---\na: 1\n---\nb: 2\n", 2, nil},
		{"lone CR", "a: 1\r---\nb: 2\n---\nc: 3\n", 2, nil},
		{"NEL", "a: \u0085\n---\nb: 2\n", 2, nil},
		{"LS", "a: \u2028\n---\nb: 2\n", 2, nil},
		{"PS", "a: \u2029\n---\nb: 2\n", 2, nil},
		{"UTF-16", "\xff\xfea\x00:\x00\n---\n", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitStream([]byte(tc.in), tc.n); !slices.Equal(got, tc.starts) {
				t.Errorf("splitStream(%q, %d) = %v, want %v", tc.in, tc.n, got, tc.starts)
			}
		})
	}
	corpus := spreadtest.Corpus(20, 5)
	for _, n := range []int{2, 3, 7} {
		starts := splitStream(corpus, n)
		if len(starts) != n {
			t.Fatalf("corpus in %d: %d chunks", n, len(starts))
		}
		for i, s := range starts {
			if i > 0 && (!bytes.HasPrefix(corpus[s:], []byte("---\n")) || corpus[s-1] != '\n') {
				t.Errorf("corpus in %d: chunk %d starts at %q", n, i, corpus[s:min(s+10, len(corpus))])
			}
			if want := i * len(corpus) / n; s < want || s > want+len(corpus)/20 {
				t.Errorf("corpus in %d: chunk %d starts at %d, want about %d", n, i, s, want)
			}
		}
	}
}

// TestChunkStart checks which markers may start a chunk.
func TestChunkStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"plain", "a: 1\n---\nb: 2\n", true},
		{"blank lines around", "a: 1\n\n \n---  \n\nb: 2\n", true},
		{"at the end", "a: 1\n---", true},
		{"at the end, line break", "a: 1\n---\n", true},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", true},
		{"document end above", "a: 1\n...\n---\nb: 2\n", true},
		{"document ends above", "a: 1\n...\n\n...  \n---\nb: 2\n", true},
		{"comment between document ends above", "a: 1\n...\n# c\n...\n---\nb: 2\n", false},
		{"document on the marker", "a: 1\n--- {b: 2}\n# c\n\nc: 3\n", true},
		{"block scalar on the marker", "a: 1\n--- |\n  b\n", true},
		{"head comment below", "a: 1\n---\n# c\n  # d\nb: 2\n", true},
		{"comment after a blank line below", "a: 1\n---\n\n# c\n\nb: 2\n", true},
		{"nothing above", "\n \n---\nb: 2\n", false},
		{"comment above", "a: 1\n# c\n---\nb: 2\n", false},
		{"comment and blank line above", "a: 1\n  # c\n\n---\nb: 2\n", false},
		{"line comment above", "a: 1 # c\n---\nb: 2\n", false},
		{"empty document above", "a: 1\n---\n---\nb: 2\n", false},
		{"comment on the marker", "a: 1\n--- # c\nb: 2\n", false},
		{"foot comment below", "a: 1\n---\n# c\n# d\n\nb: 2\n", false},
		{"foot comment below, blanks", "a: 1\n---\n# c\n \t\nb: 2\n", false},
		{"comment below at the end", "a: 1\n---\n# c\n", false},
		{"comment below at the very end", "a: 1\n---\n# c", false},
		{"comment below, CRLF", "a: 1\r\n---\r\n# c\r\nb: 2\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			s := bytes.LastIndex(in, []byte("\n---")) + 1
			if got := isMarker(in, s) && chunkStart(in, s); got != tc.want {
				t.Errorf("chunkStart(%q, %d) = %v, want %v", tc.in, s, got, tc.want)
			}
		})
	}
}

// TestChunkStartComments shows why chunkStart rules out some markers:
// decoding from them on gives the comments next to them to other nodes
// than a decode of the whole stream. If yaml.v3 changes how it places
// such comments, the rules may be loosened.
func TestChunkStartComments(t *testing.T) {
	for _, in := range []string{
		"a: 1\n# foot\n---\nb: 2\n",
		"- a\n  # x\n---\n- c\n",
		"a: 1\n...\n# after end\n---\nb: 2\n",
		"a: 1\n...\n# c\n\n# d\n...\n---\n- x\n",
		"a: 1\n---\n# head\n\nb: 2\n",
		"a: 1\r\n---\r\n# head\r\nb: 2\r\n",
	} {
		s := bytes.LastIndex([]byte(in), []byte("\n---")) + 1
		if chunkStart([]byte(in), s) {
			t.Errorf("%q: the marker at %d may start a chunk", in, s)
		}
		if d := decodeDiff([]byte(in), func(in []byte) ([]*yaml.Node, []int, error) {
			return decodeChunks(in, []int{0, s})
		}); d == "" {
			t.Logf("%q: a chunk at the marker now decodes the same", in)
		}
	}
}

// TestDecodeParallelErrors checks that bad input gives the error of a
// sequential decode, whichever chunk it is in, and that PatchStream's
// errors name the same document and line.
func TestDecodeParallelErrors(t *testing.T) {
	corpus := spreadtest.Corpus(200, 50)
	docs := bytes.SplitAfter(corpus, []byte("---\n"))
	for _, at := range []int{1, len(docs) / 3, len(docs) / 2, len(docs) - 1} {
		for _, bad := range []string{"a: [1,\n", "a: *nope\n", "a: b: c\n", "a: \"x\n", "\tb: 1\n"} {
			in := slices.Concat(bytes.Join(docs[:at], nil), []byte(bad), bytes.Join(docs[at:], nil))
			for _, w := range []int{2, 3, 7} {
				_, _, want := decodeSequential(in)
				_, _, got := decodeParallel(in, w)
				if want == nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%q at document %d, %d workers: %v, want %v", bad, at, w, got, want)
				}
			}
		}
	}
	// An object error names the bad field's line in the stream.
	in := bytes.Replace(corpus, []byte("app-0150\n  namespace: bench\nspec:\n  replicas: 1\n"),
		[]byte("app-0150\n  namespace: bench\nspec:\n  replicas: two\n"), 1)
	line := bytes.Count(in[:bytes.Index(in, []byte("replicas: two"))], []byte("\n")) + 1
	_, _, err := PatchStream(in, testPolicy())
	var de *DocumentError
	if !errors.As(err, &de) {
		t.Fatalf("PatchStream: %v, want a DocumentError", err)
	}
	if de.Document != 151 || de.Line != line {
		t.Errorf("PatchStream: %v, want document 151, line %d", err, line)
	}
}

// FuzzDecodeParallel checks that a parallel decode of any input gives what
// a sequential one does.
func FuzzDecodeParallel(f *testing.F) {
	for _, in := range decodeInputs(f) {
		f.Add(in, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, w uint8) {
		workers := 2 + int(w%6)
		if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeParallel(in, workers) }); d != "" {
			t.Fatalf("%d workers: %s\ninput: %q", workers, d, in)
		}
		starts := allChunkStarts(in)
		if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeChunks(in, starts) }); d != "" {
			t.Fatalf("chunks at %v: %s\ninput: %q", starts, d, in)
		}
	})
}

// decodeDiff returns how decode's result for in differs from
// decodeSequential's, or "".
func decodeDiff(in []byte, decode func([]byte) ([]*yaml.Node, []int, error)) string {
	want, wantPos, wantErr := decodeSequential(in)
	got, gotPos, gotErr := decode(in)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		return fmt.Sprintf("error %v, want %v", gotErr, wantErr)
	}
	if !slices.Equal(gotPos, wantPos) {
		return fmt.Sprintf("positions %v, want %v", gotPos, wantPos)
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d documents, want %d", len(got), len(want))
	}
	for i := range got {
		if d := nodeDiff(got[i], want[i]); d != "" {
			return fmt.Sprintf("document %d at %s", wantPos[i], d)
		}
	}
	return ""
}

// nodeDiff returns where the trees a and b first differ, or "" if they are
// the same: kind, style, tag, value, anchor, comments, line and column of
// every node, and the targets of aliases.
func nodeDiff(a, b *yaml.Node) string {
	type fields struct {
		Kind                                  yaml.Kind
		Style                                 yaml.Style
		Tag, Value, Anchor                    string
		HeadComment, LineComment, FootComment string
		Line, Column, Content                 int
	}
	seen := map[[2]*yaml.Node]bool{}
	var walk func(path string, a, b *yaml.Node) string
	walk = func(path string, a, b *yaml.Node) string {
		if a == nil || b == nil {
			if a != b {
				return fmt.Sprintf("%s: nil %v, want nil %v", path, a == nil, b == nil)
			}
			return ""
		}
		if seen[[2]*yaml.Node{a, b}] {
			return ""
		}
		seen[[2]*yaml.Node{a, b}] = true
		fa := fields{a.Kind, a.Style, a.Tag, a.Value, a.Anchor, a.HeadComment, a.LineComment, a.FootComment, a.Line, a.Column, len(a.Content)}
		fb := fields{b.Kind, b.Style, b.Tag, b.Value, b.Anchor, b.HeadComment, b.LineComment, b.FootComment, b.Line, b.Column, len(b.Content)}
		if fa != fb {
			return fmt.Sprintf("%s:\n\tgot  %+v\n\twant %+v", path, fa, fb)
		}
		if d := walk(path+"*", a.Alias, b.Alias); d != "" {
			return d
		}
		for i := range a.Content {
			if d := walk(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); d != "" {
				return d
			}
		}
		return ""
	}
	return walk("/", a, b)
}

// TestDecodeParallelRandom compares parallel and sequential decodes of
// random streams that put comments, blank lines, markers, document ends,
// block scalars and aliases next to each other, with LF and with CRLF line
// breaks: streams of random lines, which mostly do not decode, and streams
// of random pieces of documents, which mostly do.
func TestDecodeParallelRandom(t *testing.T) {
	lines := []string{
		"---", "---", "---", "--- ", "--- # c", "--- {a: 1}", "--- |", "--- &x", "--- [x]", "--- x", "...",
		"", "", "  ", "# c", "# c", "  # c", "    # c", "#", "# c\n# d",
		"a: 1", "a: &x 1", "b: *x", "a: 1 # c", "a:", "a: # c", "  b: 2", "  b: 2 # c", "    c: 3",
		"  - x", "- x", "- # c", "-", "- a: 1", "  b: |", "    text", "    # text", "k: |", "  text",
		"  more", "k: >-", "q: \"x", "  y\"", "f: {a: 1,", "  b: 2}", "? k", ": v", "s: plain", "  continued",
	}
	markers := []string{
		"---", "---", "---", "---", "--- ", "--- # c", "--- {a: 1}", "--- |\n  x", "--- &x", "--- &x\n# c\n",
		"--- x", "--- [x] # c", "...\n---", "---\t",
	}
	decor := []string{"", "", "  ", "# c", "# c\n# d", "  # c", "    # c", "#", "...", "# c\n", "# c\n\n# d"}
	bodies := []string{
		"a: 1", "a: &x 1", "b: *x", "a: 1 # c", "a:\n  b: 2", "a:\n  b: 2 # c\n  # foot\n  c: 3",
		"a:\n  b:\n    c: 3\n    # foot\n  # foot\n# foot", "l:\n- x\n- y # c\n  # foot",
		"l:\n  - x\n  -\n  - # c\n    y", "k: |\n  text\n\n  # text\n", "k: >-\n  folded\n  text",
		"k: |+\n  keep\n\n", "q: \"x\n  y\"", "f: {a: 1,\n  b: 2} # c", "? k\n: v", "s: plain\n  continued",
		"# head\na: 1", "# head\n\na: 1", "a: 1\n\n# foot", "- x", "- x\n- y",
	}
	pick := func(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }
	rng := rand.New(rand.NewPCG(1, 2))
	n := 10000
	if testing.Short() {
		n = 1000
	}
	valid, split := 0, 0
	for i := range 2 * n {
		var b strings.Builder
		for range 1 + rng.IntN(30) {
			switch {
			case i < n:
				b.WriteString(pick(rng, lines))
			case rng.IntN(3) == 0:
				b.WriteString(pick(rng, markers))
			case rng.IntN(2) == 0:
				b.WriteString(pick(rng, decor))
			default:
				b.WriteString(pick(rng, bodies))
			}
			b.WriteByte('\n')
		}
		in := []byte(b.String())
		if rng.IntN(4) == 0 {
			in = bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
		}
		if rng.IntN(8) == 0 {
			in = bytes.TrimRight(in, "\r\n")
		}
		starts := allChunkStarts(in)
		if _, _, err := decodeSequential(in); err == nil {
			valid++
			if len(starts) > 1 {
				split++
			}
		}
		w := 2 + rng.IntN(6)
		if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeParallel(in, w) }); d != "" {
			t.Fatalf("%d workers: %s\ninput: %q", w, d, in)
		}
		if d := decodeDiff(in, func(in []byte) ([]*yaml.Node, []int, error) { return decodeChunks(in, starts) }); d != "" {
			t.Fatalf("chunks at %v: %s\ninput: %q", starts, d, in)
		}
	}
	t.Logf("%d of %d streams decode, %d of them in more than one chunk", valid, 2*n, split)
}
