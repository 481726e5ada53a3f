package emit

import (
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Short tags of the YAML core schema, as yaml.v3 resolves plain scalars.
const (
	tagStr       = "!!str"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagBool      = "!!bool"
	tagNull      = "!!null"
	tagTimestamp = "!!timestamp"
)

// position is where a scalar is written.
type position int

const (
	inBlock position = iota // a value or item in block style
	inKey                   // a key of a block mapping
	inFlow                  // anything inside a flow collection
)

// style is how a scalar is written.
type style int

const (
	plain style = iota
	singleQuoted
	doubleQuoted
)

// scalar writes the scalar s in the style yaml.v3 gives it at position pos.
// Keys are simple keys, where an empty plain scalar is quoted, as it is in
// flow collections. A key's head comment is the caller's to write.
func (w *writer) scalar(s *yaml.Node, pos position) bool {
	const unhandled = yaml.TaggedStyle | yaml.LiteralStyle | yaml.FoldedStyle | yaml.FlowStyle
	if s.Anchor != "" || s.LineComment != "" || s.FootComment != "" || s.HeadComment != "" && pos != inKey ||
		s.Style&unhandled != 0 || !simpleText(s.Value) {
		return false
	}
	v := s.Value
	quoted := s.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
	force := false // a string that would read back as another type
	if s.Tag != "" && (s.Tag != tagStr || !quoted) {
		switch resolved := resolve(v); {
		case resolved == s.Tag:
		case s.Tag == tagStr:
			force = true
		default:
			return false // yaml.v3 would write the tag
		}
	}
	st := plain
	switch {
	case s.Style&yaml.DoubleQuotedStyle != 0, force:
		st = doubleQuoted
	case s.Style&yaml.SingleQuotedStyle != 0:
		st = singleQuoted
	case v == "" && pos != inBlock, !plainAllowed(v, pos == inFlow):
		st = singleQuoted
	}
	switch st {
	case doubleQuoted:
		w.buf = append(w.buf, '"')
		for i := 0; i < len(v); i++ {
			if c := v[i]; c == '"' || c == '\\' {
				w.buf = append(w.buf, '\\', c)
			} else {
				w.buf = append(w.buf, c)
			}
		}
		w.buf = append(w.buf, '"')
	case singleQuoted:
		w.buf = append(w.buf, '\'')
		for i := 0; i < len(v); i++ {
			if v[i] == '\'' {
				w.buf = append(w.buf, '\'')
			}
			w.buf = append(w.buf, v[i])
		}
		w.buf = append(w.buf, '\'')
	default:
		w.buf = append(w.buf, v...)
	}
	return true
}

// isLiteral reports whether yaml.v3 writes the scalar s as a literal block
// ("|"): it is in literal style, or has no style and holds a line break.
func isLiteral(s *yaml.Node) bool {
	if s.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return false
	}
	return s.Style&yaml.LiteralStyle != 0 || s.Style&yaml.FoldedStyle == 0 && strings.Contains(s.Value, "\n")
}

// literal writes the block value or item s as a literal block, its lines
// indented to column inner, when it is in the subset: printable ASCII
// lines, the first not starting with a space (which would need an
// indentation indicator), no line ending in a space (yaml.v3 then quotes
// it), and at most one final line break ("|" or "|-"; "|+" is left to
// yaml.v3).
func (w *writer) literal(s *yaml.Node, inner int) bool {
	v := s.Value
	if s.Anchor != "" || hasComments(s) || s.Style&^yaml.LiteralStyle != 0 ||
		s.Tag != "" && s.Tag != tagStr && resolve(v) != s.Tag ||
		v == "" || v[0] == ' ' || v[0] == '\n' || strings.HasSuffix(v, "\n\n") ||
		strings.HasSuffix(v, " ") || strings.Contains(v, " \n") {
		return false
	}
	if !printable(v, true) {
		return false
	}
	body, chomp := strings.CutSuffix(v, "\n")
	w.buf = append(w.buf, " |"...)
	if !chomp {
		w.buf = append(w.buf, '-')
	}
	w.buf = append(w.buf, '\n')
	for line := range strings.SplitSeq(body, "\n") {
		if line != "" {
			w.indent(inner)
			w.buf = append(w.buf, line...)
		}
		w.buf = append(w.buf, '\n')
	}
	return true
}

// simpleText reports whether v is printable ASCII on one line with no tab:
// the only text this package writes. Anything else (line breaks, tabs,
// control characters, other scripts) goes to yaml.v3.
func simpleText(v string) bool {
	return printable(v, false)
}

// printable reports whether v is printable ASCII, with line breaks when
// breaks is set.
func printable(v string, breaks bool) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 || c > 0x7e) && (!breaks || c != '\n') {
			return false
		}
	}
	return true
}

// plainAllowed reports whether the single-line printable ASCII text v may
// be written as a plain scalar, in a flow collection when flow is set: it
// must not start with an indicator, hold ": " or " #", start or end with a
// space, or look like a document marker; in a flow collection it must not
// hold a colon or a flow indicator anywhere.
func plainAllowed(v string, flow bool) bool {
	n := len(v)
	if n == 0 {
		return true
	}
	if v[0] == ' ' || v[n-1] == ' ' {
		return false
	}
	if n >= 3 && (v[:3] == "---" || v[:3] == "...") {
		return false
	}
	spaceAfter := func(i int) bool { return i+1 == n || v[i+1] == ' ' }
	switch v[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':':
		if flow || spaceAfter(0) {
			return false
		}
	case '-':
		if spaceAfter(0) {
			return false
		}
	}
	for i := 1; i < n; i++ {
		switch v[i] {
		case ',', '?', '[', ']', '{', '}':
			if flow {
				return false
			}
		case ':':
			if flow || spaceAfter(i) {
				return false
			}
		case '#':
			if v[i-1] == ' ' {
				return false
			}
		}
	}
	return true
}

// resolve returns the tag yaml.v3's encoder gives the plain scalar v:
// YAML 1.2's core schema, plus timestamps and 1.1 octals. (The merge key
// "<<" resolves as a string here, as it does in yaml.v3's encoder.)
func resolve(v string) string {
	switch v {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return tagBool
	case "", "~", "null", "Null", "NULL":
		return tagNull
	case ".nan", ".NaN", ".NAN",
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return tagFloat
	}
	switch c := v[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return tagFloat
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return resolveNumeric(v)
	}
	return tagStr
}

// resolveNumeric resolves a plain scalar that starts with a sign or a digit:
// a timestamp, an integer in any base Go or YAML spells, or a float.
// Underscores between digits are ignored.
func resolveNumeric(v string) string {
	if isTimestamp(v) {
		return tagTimestamp
	}
	d := strings.ReplaceAll(v, "_", "")
	if isInt(d, 0) {
		return tagInt
	}
	if isFloat(d) {
		if _, err := strconv.ParseFloat(d, 64); err == nil {
			return tagFloat
		}
	}
	for _, p := range []struct {
		prefix string
		base   int
	}{{"0b", 2}, {"0o", 8}} {
		if rest, ok := strings.CutPrefix(d, p.prefix); ok && isInt(rest, p.base) {
			return tagInt
		}
		if rest, ok := strings.CutPrefix(d, "-"+p.prefix); ok && isSigned("-"+rest, p.base) {
			return tagInt
		}
	}
	return tagStr
}

// isInt reports whether v is a 64-bit integer, signed or not, in base.
func isInt(v string, base int) bool {
	if isSigned(v, base) {
		return true
	}
	_, err := strconv.ParseUint(v, base, 64)
	return err == nil
}

// isSigned reports whether v is a signed 64-bit integer in base.
func isSigned(v string, base int) bool {
	_, err := strconv.ParseInt(v, base, 64)
	return err == nil
}

// isFloat reports whether v is spelled as a YAML float: an optional sign,
// digits with an optional fraction (or a fraction alone), and an optional
// exponent.
func isFloat(v string) bool {
	i, n := 0, len(v)
	digits := func() int {
		start := i
		for i < n && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < n && (v[i] == '+' || v[i] == '-') {
		i++
	}
	if i < n && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < n && v[i] == '.' {
			i++
			digits()
		}
	}
	if i < n && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < n && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == n
}

// timestampLayouts are the timestamp forms yaml.v3 reads from plain
// scalars (a subset of YAML 1.1's timestamp type).
var timestampLayouts = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// isTimestamp reports whether v reads as a timestamp: four digits, a dash,
// and one of timestampLayouts.
func isTimestamp(v string) bool {
	if len(v) < 5 || v[4] != '-' {
		return false
	}
	for i := range 4 {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	for _, layout := range timestampLayouts {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}
