// Package emit writes yaml.v3 node trees in kubectl's layout (two-space
// indent, sequences not indented under their key) several times faster
// than yaml.v3's encoder, byte for byte as that encoder writes them.
//
// yaml.v3's encoder is a port of libyaml's event emitter: every node
// becomes events in a queue, every scalar is analysed and copied several
// times. For the trees Kubernetes manifests are made of (block mappings and
// sequences of scalars, flow lists, literal blocks, head comments such as
// Helm's "# Source:" lines) the result is fully determined by a few rules,
// which Append applies directly. Any tree outside that subset
// (line and foot comments, anchors, aliases, explicit tags, folded or
// non-ASCII scalars, multi-line keys, long keys) is reported as not handled, and Encode
// hands it to yaml.v3 whole, so the output is the same bytes either way.
// The tests hold the two to that on a corpus and under fuzzing.
package emit

import (
	"bytes"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Indent is the number of spaces per nesting level, as kubectl writes.
const Indent = 2

// maxSimpleKey is the longest key yaml.v3 writes as a simple key ("k: v");
// longer keys are written in the explicit form ("? k"). yaml.v3 counts the
// bytes of the anchor, the tag and the value; keys with an anchor or a tag
// are left to yaml.v3, so the value's length is the count here.
const maxSimpleKey = 128

// Encode writes n, a document or the root node of one, as yaml.v3's
// encoder with SetIndent(2) and CompactSeqIndent does: through Append when
// the tree is in its subset, and through yaml.v3 otherwise.
func Encode(buf *bytes.Buffer, n *yaml.Node) error {
	b := buf.AvailableBuffer()
	if out, ok := Append(b, n); ok {
		buf.Write(out)
		return nil
	}
	return Fallback(buf, n)
}

// Fallback writes n with yaml.v3's encoder in the layout Encode uses.
func Fallback(buf *bytes.Buffer, n *yaml.Node) error {
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(Indent)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	return nil
}

// Append appends the encoding of n, a document node or the root node of a
// document, to dst and reports whether it could. When n holds anything
// outside the subset this package writes, it returns dst as passed and
// false; dst's spare capacity may have been overwritten.
func Append(dst []byte, n *yaml.Node) ([]byte, bool) {
	if n == nil {
		return dst, false
	}
	w := writer{buf: dst}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 || n.Content[0] == nil || n.LineComment != "" || n.FootComment != "" || n.Anchor != "" {
			return dst, false
		}
		if n.HeadComment != "" {
			// A comment at the top of a document, apart from its first key.
			if !w.comment(n.HeadComment, 0) {
				return dst, false
			}
			w.buf = append(w.buf, '\n')
		}
		n = n.Content[0]
	}
	var ok bool
	switch {
	case !isCollection(n):
		ok = false // a document of one scalar: rare, left to yaml.v3
	case len(n.Content) == 0 || n.Style == yaml.FlowStyle:
		ok = w.flow(n)
		w.buf = append(w.buf, '\n')
	case n.Kind == yaml.MappingNode:
		ok = w.mapping(n, 0, false)
	default:
		ok = w.sequence(n, 0, false)
	}
	if !ok {
		return dst, false
	}
	return w.buf, true
}

// writer appends the encoding of one tree.
type writer struct {
	buf []byte
}

// spaces is sliced for indentation.
const spaces = "                                                                                                                                "

// indent writes n spaces.
func (w *writer) indent(n int) {
	for n > len(spaces) {
		w.buf = append(w.buf, spaces...)
		n -= len(spaces)
	}
	w.buf = append(w.buf, spaces[:n]...)
}

// mapping writes the non-empty block mapping m whose keys start at column
// col. When inline is set, the first key follows a "- " already written.
func (w *writer) mapping(m *yaml.Node, col int, inline bool) bool {
	if !plainCollection(m) || len(m.Content)%2 != 0 {
		return false
	}
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k == nil || v == nil || k.Kind != yaml.ScalarNode {
			return false
		}
		if k.HeadComment != "" {
			if i == 0 && inline {
				return false // a comment between the dash and the first key
			}
			if !w.comment(k.HeadComment, col) {
				return false
			}
		}
		if i > 0 || !inline {
			w.indent(col)
		}
		if len(k.Value) > maxSimpleKey || !w.scalar(k, inKey) {
			return false
		}
		w.buf = append(w.buf, ':')
		if !w.after(v, col, col+Indent, false) {
			return false
		}
	}
	return true
}

// sequence writes the non-empty block sequence s whose dashes start at
// column col. When inline is set, the first dash follows a "- " already
// written.
func (w *writer) sequence(s *yaml.Node, col int, inline bool) bool {
	if !plainCollection(s) {
		return false
	}
	for i, item := range s.Content {
		if item == nil {
			return false
		}
		if i > 0 || !inline {
			w.indent(col)
		}
		w.buf = append(w.buf, '-')
		if !w.after(item, col, col+Indent, true) {
			return false
		}
	}
	return true
}

// after writes what follows a mapping key's colon or a sequence item's
// dash. A scalar or an empty or flow collection goes on the same line. A
// block mapping goes on the next lines at column inner after a colon, and
// on the same line after a dash. A block sequence goes on the next lines at
// the key's own column after a colon (kubectl's compact layout), and on the
// same line after a dash.
func (w *writer) after(v *yaml.Node, col, inner int, dash bool) bool {
	switch {
	case v.Kind == yaml.ScalarNode:
		return w.lineScalar(v, inner)
	case !isCollection(v):
		return false
	case len(v.Content) == 0 || v.Style == yaml.FlowStyle:
		w.buf = append(w.buf, ' ')
		ok := w.flow(v)
		w.buf = append(w.buf, '\n')
		return ok
	case dash:
		w.buf = append(w.buf, ' ')
		if v.Kind == yaml.MappingNode {
			return w.mapping(v, inner, true)
		}
		return w.sequence(v, inner, true)
	case v.Kind == yaml.MappingNode:
		w.buf = append(w.buf, '\n')
		return w.mapping(v, inner, false)
	default:
		w.buf = append(w.buf, '\n')
		return w.sequence(v, col, false)
	}
}

// lineScalar writes " value\n", or just "\n" for an empty plain scalar,
// or a literal block whose lines are indented to column inner.
func (w *writer) lineScalar(v *yaml.Node, inner int) bool {
	if isLiteral(v) {
		return w.literal(v, inner)
	}
	mark := len(w.buf)
	w.buf = append(w.buf, ' ')
	if !w.scalar(v, inBlock) {
		return false
	}
	if len(w.buf) == mark+1 {
		w.buf = w.buf[:mark] // an empty plain scalar: nothing after the indicator
	}
	w.buf = append(w.buf, '\n')
	return true
}

// flow writes a collection in flow style: an empty one (which yaml.v3
// always writes so) or one styled so, with everything in it.
func (w *writer) flow(n *yaml.Node) bool {
	if !untagged(n, yaml.FlowStyle) {
		return false
	}
	if n.Kind == yaml.SequenceNode {
		w.buf = append(w.buf, '[')
		for i, item := range n.Content {
			if i > 0 {
				w.buf = append(w.buf, ", "...)
			}
			if !w.flowNode(item) {
				return false
			}
		}
		w.buf = append(w.buf, ']')
		return true
	}
	if len(n.Content)%2 != 0 {
		return false
	}
	w.buf = append(w.buf, '{')
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if i > 0 {
			w.buf = append(w.buf, ", "...)
		}
		if k == nil || k.Kind != yaml.ScalarNode || len(k.Value) > maxSimpleKey || !w.scalar(k, inFlow) {
			return false
		}
		w.buf = append(w.buf, ": "...)
		if !w.flowNode(v) {
			return false
		}
	}
	w.buf = append(w.buf, '}')
	return true
}

// flowNode writes a node inside a flow collection.
func (w *writer) flowNode(n *yaml.Node) bool {
	switch {
	case n == nil:
		return false
	case n.Kind == yaml.ScalarNode:
		return w.scalar(n, inFlow)
	case isCollection(n):
		return w.flow(n)
	}
	return false
}

// comment writes a head comment at column col: lines that each start with
// "#", as yaml.v3's decoder keeps them. Blank lines in it, trailing spaces
// and text other than printable ASCII are left to yaml.v3.
func (w *writer) comment(c string, col int) bool {
	for c != "" {
		line, rest, _ := strings.Cut(c, "\n")
		if line == "" || line[0] != '#' || line[len(line)-1] == ' ' || !simpleText(line) {
			return false
		}
		w.indent(col)
		w.buf = append(w.buf, line...)
		w.buf = append(w.buf, '\n')
		c = rest
	}
	return true
}

// isCollection reports whether n is a mapping or a sequence.
func isCollection(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode
}

// plainCollection reports whether collection n is written in block style
// with no tag, anchor or comment.
func plainCollection(n *yaml.Node) bool {
	return untagged(n, 0)
}

// untagged reports whether collection n has no tag, anchor or comment,
// and no style but the ones in allowed.
func untagged(n *yaml.Node, allowed yaml.Style) bool {
	if n.Style&^allowed != 0 || n.Anchor != "" || hasComments(n) {
		return false
	}
	switch n.Tag {
	case "":
		return true
	case "!!map":
		return n.Kind == yaml.MappingNode
	case "!!seq":
		return n.Kind == yaml.SequenceNode
	}
	return false
}

// hasComments reports whether n carries a comment of its own.
func hasComments(n *yaml.Node) bool {
	return n.HeadComment != "" || n.LineComment != "" || n.FootComment != ""
}
