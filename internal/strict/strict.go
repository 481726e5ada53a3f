// Package strict decodes JSON into typed structs the way the Kubernetes API
// server's strict field validation does: field names match case
// sensitively, and unknown or duplicate fields are errors. Unknown,
// duplicate and mistyped fields are named by their path
// (spec.containers[1].imag), so that a user can find them; an error a
// type's own decoder returns (a malformed quantity) is that decoder's.
package strict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	kjson "sigs.k8s.io/json"
)

// FieldError is a problem with one field.
type FieldError struct {
	// Path is the field's path from the document's root, such as
	// spec.containers[1].image.
	Path string
	// Msg says what is wrong: "unknown field", "duplicate field" or
	// "expected int, got string".
	Msg string
	err error
}

// Error reads "PATH: MSG".
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Unwrap returns the decoder's own error.
func (e *FieldError) Unwrap() error { return e.err }

// Unmarshal decodes data into v. A field of the wrong type is a
// *FieldError; unknown and duplicate fields are *FieldErrors, all of them,
// joined. Syntax errors are the decoder's.
func Unmarshal(data []byte, v any) error {
	problems, err := kjson.UnmarshalStrict(data, v)
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &FieldError{Path: typeErrorPath(data, te), Msg: fmt.Sprintf("expected %s, got %s", te.Type, te.Value), err: err}
		}
		return fmt.Errorf("decode JSON: %w", err)
	}
	errs := make([]error, 0, len(problems))
	for _, p := range problems {
		var fe kjson.FieldError
		if !errors.As(p, &fe) {
			errs = append(errs, p)
			continue
		}
		// The decoder's message is `unknown field "PATH"`: keep its kind.
		msg, _, _ := strings.Cut(p.Error(), ` "`)
		errs = append(errs, &FieldError{Path: fe.FieldPath(), Msg: msg, err: p})
	}
	return errors.Join(errs...)
}

// typeErrorPath is the path of the value a type error is about, with list
// indices and map keys (spec.containers[1].ports[0].containerPort), found
// by reading data up to the error's offset. encoding/json's own Field
// leaves indices and map keys out; it is the answer when the two disagree.
//
// The path read is trusted only when it ends exactly at the error's offset
// on a value of the kind the error names (a number with the same digits),
// and its field names extend the decoder's Field without the Go names of
// embedded structs (TypeMeta, VolumeSource). A type's own UnmarshalJSON
// reports offsets within its value, not the document, and is caught so.
func typeErrorPath(data []byte, te *json.UnmarshalTypeError) string {
	p, value, ok := pathAt(data, te.Offset)
	sameValue := value == te.Value || te.Value == "number" && strings.HasPrefix(value, "number ")
	if ok && sameValue && strings.HasPrefix(indexless.ReplaceAllString(p, ""), jsonNames(te.Field)) {
		return p
	}
	return te.Field
}

// jsonNames drops from a decoder's Field the Go names of embedded structs:
// the segments that start with an upper-case letter, which JSON field
// names of Kubernetes objects never do.
func jsonNames(field string) string {
	var keep []string
	for seg := range strings.SplitSeq(field, ".") {
		if seg != "" && (seg[0] < 'A' || seg[0] > 'Z') {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

// indexless matches the list indices of a path.
var indexless = regexp.MustCompile(`\[\d+\]`)

// frame is an object or a list being read by pathAt.
type frame struct {
	object    bool
	key       string // the object's current key
	index     int    // the list's current index
	expectKey bool   // the object's next string is a key
}

// pathAt returns the path of the value that ends at or after offset in the
// JSON document data, that value described as encoding/json describes it
// in a type error ("number 8080", "string", "object"), and whether it ends
// exactly at offset.
func pathAt(data []byte, offset int64) (path, value string, exact bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	begin := func() { // a value starts in the innermost container
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].index++
		}
	}
	end := func() { // a value ended in the innermost container
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	for dec.InputOffset() < offset {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		value = ""
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				begin()
				stack = append(stack, &frame{object: true, expectKey: true})
				value = "object"
			case '[':
				begin()
				stack = append(stack, &frame{index: -1})
				value = "array"
			default:
				stack = stack[:len(stack)-1]
				end()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			begin()
			end()
			value = "string"
		case json.Number:
			begin()
			end()
			value = "number " + t.String()
		case bool:
			begin()
			end()
			value = "bool"
		default:
			begin()
			end()
		}
	}
	exact = dec.InputOffset() == offset
	var b strings.Builder
	for _, f := range stack {
		switch {
		case f.object && f.key != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		case !f.object && f.index >= 0:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		}
	}
	return b.String(), value, exact
}
