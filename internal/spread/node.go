package spread

import (
	"fmt"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// Short YAML tags.
const (
	tagStr   = "!!str"
	tagInt   = "!!int"
	tagMap   = "!!map"
	tagSeq   = "!!seq"
	tagNull  = "!!null"
	tagMerge = "!!merge"
)

// isNull reports whether n is absent or an explicit null, which Kubernetes
// treats as absent.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == tagNull
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	c := m.Content
	for i := 0; i+1 < len(c); i += 2 {
		if k := c[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return c[i+1]
		}
	}
	return nil
}

// newStr returns a string scalar.
func newStr(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: v}
}

// newInt returns an integer scalar.
func newInt(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.Itoa(v)}
}

// newMap returns a block mapping of the given keys and values.
func newMap(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: tagMap, Content: kv}
}

// newSeq returns a block sequence.
func newSeq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: tagSeq, Content: items}
}

// newStrSeq returns a block sequence of strings.
func newStrSeq(values []string) *yaml.Node {
	s := newSeq()
	for _, v := range values {
		s.Content = append(s.Content, newStr(v))
	}
	return s
}

// setInt turns n into an integer scalar, keeping its comments.
func setInt(n *yaml.Node, v int) {
	n.Kind, n.Tag, n.Value, n.Style, n.Content = yaml.ScalarNode, tagInt, strconv.Itoa(v), 0, nil
}

// setStr turns n into a plain string scalar, keeping its comments.
func setStr(n *yaml.Node, v string) {
	n.Kind, n.Tag, n.Value, n.Style, n.Content = yaml.ScalarNode, tagStr, v, 0, nil
}

// makeContainer turns n, which is null or an empty collection, into an empty
// block collection of the given kind, keeping its comments. Appending block
// items to an empty flow collection ("[]", "{}") would print them in flow
// style.
func makeContainer(n *yaml.Node, kind yaml.Kind) {
	if n.Kind != kind || len(n.Content) == 0 {
		n.Style &^= yaml.FlowStyle
	}
	if n.Kind == kind {
		return
	}
	n.Kind, n.Value, n.Style, n.Content = kind, "", 0, nil
	n.Tag = tagMap
	if kind == yaml.SequenceNode {
		n.Tag = tagSeq
	}
}

// ensure returns the value of key in mapping m as a block collection of the
// given kind, adding the key when it is missing and turning a null into an
// empty collection. Callers have checked that an existing value has the
// right kind or is null.
func ensure(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	v := lookup(m, key)
	if v == nil {
		v = &yaml.Node{}
		m.Content = append(m.Content, newStr(key), v)
	}
	makeContainer(v, kind)
	return v
}

// cleanCopy returns a deep copy of n without comments, anchors or flow
// style, to be inserted elsewhere in block style.
func cleanCopy(n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value, Style: n.Style &^ yaml.FlowStyle}
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = cleanCopy(ch)
		}
	}
	return c
}

// kindName names a node kind in error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == tagStr {
			return fmt.Sprintf("the string %s", quote(n.Value))
		}
		return quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}

// quote quotes s for an error message, shortened to 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

// reader reads the fields of one object, checking their kinds. It records
// the first mismatch and then returns nothing, so callers can read a whole
// object and check err once.
type reader struct {
	err *DocumentError
}

// fail records a mismatch at path, found at node at (the bad value, or the
// mapping that lacks a field), which gives the error its line and column.
func (r *reader) fail(at *yaml.Node, path, format string, args ...any) {
	if r.err == nil {
		r.err = &DocumentError{Path: path, Msg: fmt.Sprintf(format, args...)}
		if at != nil {
			r.err.Line, r.err.Column = at.Line, at.Column
		}
	}
}

// child joins a field path.
func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index joins a list index to a field path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// mapping returns the value of key in m when it is a mapping, nil when it is
// missing or null, and records an error otherwise.
func (r *reader) mapping(m *yaml.Node, path, key string) *yaml.Node {
	return r.kind(m, path, key, yaml.MappingNode, "a mapping")
}

// list returns the value of key in m when it is a list, nil when it is
// missing or null, and records an error otherwise.
func (r *reader) list(m *yaml.Node, path, key string) *yaml.Node {
	return r.kind(m, path, key, yaml.SequenceNode, "a list")
}

func (r *reader) kind(m *yaml.Node, path, key string, kind yaml.Kind, want string) *yaml.Node {
	if r.err != nil || m == nil {
		return nil
	}
	v := lookup(m, key)
	if isNull(v) {
		return nil
	}
	if v.Kind != kind {
		r.fail(v, child(path, key), "expected %s, got %s", want, kindName(v))
		return nil
	}
	return v
}

// items returns the items of list l, checking that each is a mapping; null
// items are an error, as in Kubernetes.
func (r *reader) items(l *yaml.Node, path string) []*yaml.Node {
	if r.err != nil || l == nil {
		return nil
	}
	for i, it := range l.Content {
		if it.Kind != yaml.MappingNode {
			r.fail(it, index(path, i), "expected a mapping, got %s", kindName(it))
			return nil
		}
	}
	return l.Content
}

// str returns the value of key in m when it is a scalar, "" when it is
// missing or null, and records an error otherwise.
func (r *reader) str(m *yaml.Node, path, key string) string {
	if r.err != nil || m == nil {
		return ""
	}
	v := lookup(m, key)
	if isNull(v) {
		return ""
	}
	if v.Kind != yaml.ScalarNode {
		r.fail(v, child(path, key), "expected a string, got %s", kindName(v))
		return ""
	}
	return v.Value
}

// strs returns the values of a list of scalars at key in m.
func (r *reader) strs(m *yaml.Node, path, key string) []string {
	l := r.list(m, path, key)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.Content))
	for i, it := range l.Content {
		if it.Kind != yaml.ScalarNode {
			r.fail(it, index(child(path, key), i), "expected a string, got %s", kindName(it))
			return nil
		}
		out = append(out, it.Value)
	}
	return out
}

// labels returns the value of key in m as a string map, checking that it is
// a mapping of scalars.
func (r *reader) labels(m *yaml.Node, path, key string) (*yaml.Node, map[string]string) {
	l := r.mapping(m, path, key)
	if l == nil {
		return nil, nil
	}
	out := make(map[string]string, len(l.Content)/2)
	c := l.Content
	for i := 0; i+1 < len(c); i += 2 {
		k, v := c[i], c[i+1]
		if k.Kind != yaml.ScalarNode {
			r.fail(k, child(path, key), "expected string keys, got %s", kindName(k))
			return nil, nil
		}
		if v.Kind != yaml.ScalarNode {
			r.fail(v, child(child(path, key), k.Value), "expected a string, got %s", kindName(v))
			return nil, nil
		}
		out[k.Value] = v.Value
	}
	return l, out
}

// count returns the value of key in m as a non-negative integer, with
// ok false when it is missing or null.
func (r *reader) count(m *yaml.Node, path, key string) (n *yaml.Node, v int, ok bool) {
	if r.err != nil || m == nil {
		return nil, 0, false
	}
	n = lookup(m, key)
	if isNull(n) {
		return n, 0, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tagInt {
		r.fail(n, child(path, key), "expected an integer, got %s", kindName(n))
		return nil, 0, false
	}
	i, err := decimal(n.Value)
	if err != nil {
		err = n.Decode(&i)
	}
	if err != nil || i < 0 || i > 1<<31-1 {
		r.fail(n, child(path, key), "expected an integer from 0 to 2147483647, got %s", quote(n.Value))
		return nil, 0, false
	}
	return n, int(i), true
}

// decimal parses a plain decimal (0, or a digit 1-9 then up to 9 digits)
// without a yaml.v3 Decoder, as yaml.v3 would; other forms are an error,
// to be decoded by yaml.v3.
func decimal(s string) (int64, error) {
	if s == "" || len(s) > 10 || len(s) > 1 && s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v, nil
}

// minReplicas reads the AnnotationMinReplicas annotation of metadata meta:
// a plain decimal from 2 to 2147483647, the replicas to raise to.
func (r *reader) minReplicas(meta *yaml.Node) int {
	v := lookup(lookup(meta, "annotations"), AnnotationMinReplicas)
	if r.err != nil || v == nil {
		return 0
	}
	n, err := decimal(v.Value)
	if err != nil || n < 2 || n > 1<<31-1 {
		r.fail(v, "metadata.annotations."+AnnotationMinReplicas,
			"expected the replicas to raise to, a whole number from 2 to 2147483647 such as \"2\", got %s", quote(v.Value))
		return 0
	}
	return int(n)
}

// scalarValue returns the value of scalar n, or "" when n is not a scalar.
func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
