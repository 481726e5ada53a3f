package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/input"
)

// File is a decoded topology file: the Topology and the line and column of
// every field that the file sets, so that validation errors can point at
// them.
type File struct {
	// Path is the file's path, as given to Decode or Load.
	Path string
	// Topology is the decoded topology.
	Topology *v1alpha1.Topology

	// pos maps a field path (spec.regions[0].nodes[1].ip) to where the
	// file sets it.
	pos map[string]position
	// zeros are the integer fields the file sets to 0, which Default
	// would otherwise take for unset.
	zeros map[string]bool
}

type position struct{ line, col int }

// Load reads, decodes, defaults and validates a topology file. On decode
// errors it returns them (as Errors) without validating, and no File. On
// validation errors it returns the File together with the Errors, so that
// callers can still show what was read.
func Load(path string) (*File, error) {
	data, err := input.ReadFile(path, input.TopologyLimit)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes, defaults and validates a topology already in memory (a
// KRM function's functionConfig, a test's document), as Load does a file.
// name stands for the file in error messages. It returns what Load
// returns: decode errors alone, or the File with any validation errors.
func Parse(data []byte, name string) (*File, error) {
	f, err := Decode(name, data)
	if err != nil {
		return nil, err
	}
	Default(f.Topology)
	if err := f.Validate(); err != nil {
		return f, err
	}
	return f, nil
}

// Decode strictly decodes one topology document. path is only used in
// error messages. Unknown fields, values of the wrong type, duplicate keys,
// YAML aliases, an empty file and more than one document are errors; all
// of them are collected and returned together as Errors. Decode returns
// either a File or Errors, never both.
//
// A string field accepts any scalar and keeps its literal text, so that
// cpu: 8 and version: 1.35.4 need no quotes. Integer and boolean fields
// accept only YAML integers and booleans: "1500" (quoted) and yes are
// type errors.
func Decode(path string, data []byte) (*File, error) {
	d := &decoder{file: path, pos: map[string]position{}, zeros: map[string]bool{}}
	if line, col, msg, bad := InvalidUTF8(data); bad {
		return nil, Errors{{File: path, Line: line, Column: col, Message: msg}}
	}
	root, ok := d.parse(data)
	if !ok {
		return nil, d.errs.asError()
	}
	if root.Kind != yaml.MappingNode {
		d.typeError(root, "", "a mapping")
		return nil, d.errs.asError()
	}
	if !d.checkKind(root) {
		return nil, d.errs.asError()
	}
	t := &v1alpha1.Topology{}
	d.pos[""] = position{root.Line, root.Column}
	d.value(root, reflect.ValueOf(t).Elem(), "")
	f := &File{Path: path, Topology: t, pos: d.pos, zeros: d.zeros}
	if t.APIVersion == "" && !d.hasError("apiVersion") {
		d.errs = append(d.errs, f.Errorf("apiVersion", "required; a topology file starts with apiVersion: %s", v1alpha1.APIVersion))
	}
	if t.Kind == "" && !d.hasError("kind") {
		d.errs = append(d.errs, f.Errorf("kind", "required; a topology file has kind: %s", v1alpha1.KindTopology))
	}
	if len(d.errs) > 0 {
		return nil, d.errs.asError()
	}
	return f, nil
}

// Position returns the line and column where the file sets field (a path
// like spec.regions[0].nodes[1].ip). When the file does not set it, it
// returns the position of the nearest parent that it sets, and 0, 0 when
// there is none.
func (f *File) Position(field string) (line, col int) {
	if f == nil {
		return 0, 0
	}
	for p := field; ; {
		if pos, ok := f.pos[p]; ok {
			return pos.line, pos.col
		}
		parent, ok := parentPath(p)
		if !ok {
			return 0, 0
		}
		p = parent
	}
}

// Errorf returns an Error about field, placed at the field's Position.
func (f *File) Errorf(field, format string, args ...any) Error {
	line, col := f.Position(field)
	e := Error{Line: line, Column: col, Field: field, Message: fmt.Sprintf(format, args...)}
	if f != nil {
		e.File = f.Path
	}
	return e
}

// Sets reports whether the file itself sets field (a path like
// spec.gitops.path), rather than leaving it to its default.
func (f *File) Sets(field string) bool { return f.has(field) }

// has reports whether the file itself sets field.
func (f *File) has(field string) bool {
	if f == nil {
		return false
	}
	_, ok := f.pos[field]
	return ok
}

// parentPath strips the last element of a field path: a.b[0].c -> a.b[0]
// -> a.b -> a -> "".
func parentPath(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return "", true
	}
	return p[:i], true
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// Expected types, as type errors name them.
const (
	wantInt  = "an integer"
	wantBool = "a boolean (true or false)"
)

type decoder struct {
	file  string
	pos   map[string]position
	zeros map[string]bool
	errs  Errors
}

func (d *decoder) errorAt(n *yaml.Node, field, format string, args ...any) {
	e := Error{File: d.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// hasError reports whether an error about field was already recorded.
func (d *decoder) hasError(field string) bool {
	for _, e := range d.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// yamlLine matches the line number in yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads the YAML documents of data and returns the content of the
// only non-empty one.
func (d *decoder) parse(data []byte) (root *yaml.Node, ok bool) {
	defer func() {
		// yaml.v3 has had panics on malformed input; never let one escape.
		if r := recover(); r != nil {
			d.errs = append(d.errs, Error{File: d.file, Message: fmt.Sprintf("invalid YAML: %v", r)})
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.syntaxError(err)
			return nil, false
		}
		if len(doc.Content) == 0 {
			continue
		}
		c := doc.Content[0]
		if c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && c.Value == "" && c.Anchor == "" {
			// An empty document, such as a trailing "---".
			continue
		}
		docs = append(docs, c)
	}
	switch {
	case len(docs) == 0:
		d.errs = append(d.errs, Error{File: d.file, Message: "empty file; expected a Topology (apiVersion: " + v1alpha1.APIVersion + ")"})
		return nil, false
	case len(docs) > 1:
		for _, c := range docs[1:] {
			d.errorAt(c, "", "a second YAML document; a topology file holds exactly one")
		}
		return nil, false
	}
	return docs[0], true
}

// parserProblems are yaml.v3's parser (not scanner) errors. yaml.v3 reports
// their line 0-based, one less than the line a user sees.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, convErr := strconv.Atoi(m[1])
		if convErr == nil {
			if parserProblems[m[2]] {
				line++
			}
			d.errs = append(d.errs, Error{File: d.file, Line: line, Message: "invalid YAML: " + m[2]})
			return
		}
	}
	d.errs = append(d.errs, Error{File: d.file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// checkKind sniffs apiVersion and kind before the strict decode, so that a
// file of another kind gets one clear error instead of many unknown
// fields. It returns false when the file is not a Topology.
func (d *decoder) checkKind(root *yaml.Node) bool {
	ok := true
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
			continue
		}
		switch k.Value {
		case "apiVersion":
			if v.Value != v1alpha1.APIVersion {
				d.errorAt(v, "apiVersion", "unsupported apiVersion %s; a topology file has apiVersion: %s", quote(v.Value), v1alpha1.APIVersion)
				ok = false
			}
		case "kind":
			if v.Value != v1alpha1.KindTopology {
				d.errorAt(v, "kind", "unsupported kind %s; a topology file has kind: %s", quote(v.Value), v1alpha1.KindTopology)
				ok = false
			}
		}
	}
	return ok
}

// value decodes n into v, the Go value at field path p. Errors are
// collected; v is left at its zero value where n does not fit.
func (d *decoder) value(n *yaml.Node, v reflect.Value, p string) {
	if n.Kind == yaml.AliasNode {
		d.errorAt(n, p, "YAML aliases (*%s) are not supported; write the value out", n.Value)
		return
	}
	if !d.coreTag(n, p) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null leaves the zero value, as an absent field does
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.value(n, e.Elem(), p)
		v.Set(e)
	case reflect.Struct:
		d.structValue(n, v, p)
	case reflect.Slice:
		d.sliceValue(n, v, p)
	case reflect.Map:
		d.mapValue(n, v, p)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.typeError(n, p, "a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.intValue(n, v, p)
	case reflect.Bool:
		d.boolValue(n, v, p)
	default:
		d.errorAt(n, p, "internal error: cannot decode into Go type %s", v.Type())
	}
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, p string) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, p, "a mapping")
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorAt(k, p, "field names must be strings, got %s", describe(k))
			continue
		}
		if !d.coreTag(k, joinPath(p, k.Value)) {
			continue
		}
		name := k.Value
		fp := joinPath(p, name)
		if line, dup := seen[name]; dup {
			d.errorAt(k, fp, "duplicate field %s (first set on line %d)", quote(name), line)
			continue
		}
		seen[name] = k.Line
		idx, known := fields.index[name]
		if !known {
			d.unknownField(k, fp, name, fields.names)
			continue
		}
		d.record(fp, k, val)
		d.value(val, v.Field(idx), fp)
	}
}

func (d *decoder) unknownField(k *yaml.Node, fp, name string, known []string) {
	if name == "<<" {
		d.errorAt(k, fp, "YAML merge keys (<<) are not supported; write the fields out")
		return
	}
	if s := suggest(name, known); s != "" {
		d.errorAt(k, fp, "unknown field %s (did you mean %s?)", quote(name), quote(s))
		return
	}
	d.errorAt(k, fp, "unknown field %s; known fields: %s", quote(name), strings.Join(known, ", "))
}

// record remembers where the file sets field fp: at the key for a mapping,
// a list or null (so that "required" and "at least one" errors point at the
// key), at the value for any other scalar.
func (d *decoder) record(fp string, k, val *yaml.Node) {
	if val.Kind == yaml.MappingNode || val.Kind == yaml.SequenceNode || val.ShortTag() == "!!null" {
		d.pos[fp] = position{k.Line, k.Column}
		return
	}
	d.pos[fp] = position{val.Line, val.Column}
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, p string) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, p, "a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", p, i)
		d.pos[ip] = position{item.Line, item.Column}
		d.value(item, s.Index(i), ip)
	}
	v.Set(s)
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, p string) {
	if v.Type().Key().Kind() != reflect.String {
		d.errorAt(n, p, "internal error: cannot decode into Go type %s", v.Type())
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeError(n, p, "a mapping")
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorAt(k, p, "keys must be strings, got %s", describe(k))
			continue
		}
		kp := joinPath(p, k.Value)
		if !d.coreTag(k, kp) {
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorAt(k, kp, "duplicate key %s (first set on line %d)", quote(k.Value), line)
			continue
		}
		seen[k.Value] = k.Line
		d.record(kp, k, val)
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(val, e, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	}
	v.Set(m)
}

func (d *decoder) intValue(n *yaml.Node, v reflect.Value, p string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && bigInteger.MatchString(n.Value) {
		d.errorAt(n, p, "expected an integer, got %s (out of range)", describe(n))
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.typeError(n, p, wantInt)
		return
	}
	var i int64
	if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
		d.errorAt(n, p, "expected an integer, got %s (out of range)", describe(n))
		return
	}
	if i == 0 {
		d.zeros[p] = true
	}
	v.SetInt(i)
}

// coreTags are the tags of YAML's core schema, which a node may carry
// explicitly (!!int 2). Any other tag (!!binary, !!timestamp, !!set, a
// local !foo) asks for a type or an application-specific meaning that a
// topology file does not have.
var coreTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!map": true, "!!seq": true,
}

// CoreTagged reports whether n carries no explicit tag, or one of the
// core schema's (!!str, !!int, !!map, ...).
func CoreTagged(n *yaml.Node) bool {
	return n.Style&yaml.TaggedStyle == 0 || coreTags[n.Tag]
}

// coreTag reports whether n carries no explicit tag or a core one, and
// records an error at n otherwise.
func (d *decoder) coreTag(n *yaml.Node, p string) bool {
	if CoreTagged(n) {
		return true
	}
	d.errorAt(n, p, "YAML tag %s is not supported; remove the tag and write the value as plain YAML", quote(n.Tag))
	return false
}

// bigInteger matches integers too large for int64, which yaml.v3 resolves
// as floats.
var bigInteger = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

func (d *decoder) boolValue(n *yaml.Node, v reflect.Value, p string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.typeError(n, p, wantBool)
		return
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.typeError(n, p, wantBool)
		return
	}
	v.SetBool(b)
}

func (d *decoder) typeError(n *yaml.Node, p, want string) {
	hint := ""
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		_, intErr := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		switch {
		case want == wantInt && intErr == nil,
			want == wantBool && (n.Value == "true" || n.Value == "false"):
			hint = "; remove the quotes"
		}
	}
	d.errorAt(n, p, "expected %s, got %s%s", want, describe(n), hint)
}

// describe names what a YAML node is, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!str":
		return "string " + quote(n.Value)
	case "!!int", "!!float":
		return "number " + truncate(n.Value)
	case "!!bool":
		return "boolean " + truncate(n.Value)
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%s %s", truncate(n.ShortTag()), quote(n.Value))
}

// quote quotes a value from the file for a message, shortening long ones.
func quote(s string) string {
	return strconv.Quote(truncate(s))
}

func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "..."
}

// structFields lists the JSON names of a struct's fields.
type structFields struct {
	names []string       // in declaration order
	index map[string]int // name -> field index
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if c, ok := fieldCache.Load(t); ok {
		return c.(*structFields)
	}
	sf := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		sf.names = append(sf.names, name)
		sf.index[name] = i
	}
	c, _ := fieldCache.LoadOrStore(t, sf)
	return c.(*structFields)
}

// suggest returns the known name closest to name, when it is within an
// edit distance of 2 (ignoring case) and closer than the name's length.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, k := range known {
		dist := editDistance(lower, strings.ToLower(k))
		if dist < bestDist && dist < len([]rune(name)) {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
