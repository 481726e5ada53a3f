package topology

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a topology file, with the place it was found.
// Line and Column are 1-based; 0 means unknown.
type Error struct {
	// File is the path of the topology file, as given to Decode or Load.
	File string
	// Line and Column locate the problem; 0 when unknown.
	Line, Column int
	// Field is the field path, like spec.regions[0].nodes[1].ip; empty when
	// the problem is not about one field.
	Field string
	// Message says what is wrong and, where possible, how to fix it.
	Message string
}

// Error formats the error as FILE:LINE:COL: FIELD: MESSAGE. Unknown parts
// (an empty file, a zero line or column, an empty field) are left out.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
		if e.Column > 0 {
			b.WriteString(strconv.Itoa(e.Column))
			b.WriteByte(':')
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a topology file. Decode, Validate and
// Load return it, sorted and without duplicates, so that all problems are
// reported together.
type Errors []Error

// Error formats the errors one per line, sorted by file, line, column,
// field and message, without duplicates.
func (e Errors) Error() string {
	lines := make([]string, 0, len(e))
	for _, err := range e.normalize() {
		lines = append(lines, err.Error())
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each error, so that errors.As can find an Error.
func (e Errors) Unwrap() []error {
	out := make([]error, 0, len(e))
	for _, err := range e {
		out = append(out, err)
	}
	return out
}

// normalize returns a sorted copy of e without duplicates.
func (e Errors) normalize() Errors {
	out := slices.Clone(e)
	slices.SortFunc(out, compareErrors)
	return slices.Compact(out)
}

// asError returns the normalised errors, or nil when there are none, so
// that callers never see a typed nil.
func (e Errors) asError() error {
	if len(e) == 0 {
		return nil
	}
	return e.normalize()
}

func compareErrors(a, b Error) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Field, b.Field),
		cmp.Compare(a.Message, b.Message),
	)
}
