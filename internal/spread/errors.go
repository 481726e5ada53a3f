package spread

import (
	"strconv"
	"strings"
)

// DocumentError is bad input in one document of a stream: YAML that does
// not parse, a document that is not a Kubernetes object, or a field of the
// wrong type. Patch and PatchStream return every DocumentError of the input
// joined with errors.Join; match one with errors.As.
type DocumentError struct {
	// Document is the 1-based position of the document in the stream (for
	// Patch, in the slice).
	Document int
	// Line is the document's first line in the stream, or 0 if unknown.
	Line int
	// Kind and Name identify the object, when known.
	Kind string
	Name string
	// Path is the field path of the bad field, such as
	// spec.template.spec.tolerations[0]; empty for the whole document.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error, for example:
//
//	document 3 (line 41, Deployment shop/web): spec.replicas: expected an integer, got the string "two"
func (e *DocumentError) Error() string {
	var b strings.Builder
	b.WriteString("document ")
	b.WriteString(strconv.Itoa(e.Document))
	var ctx []string
	if e.Line > 0 {
		ctx = append(ctx, "line "+strconv.Itoa(e.Line))
	}
	if e.Kind != "" {
		ctx = append(ctx, strings.TrimSpace(e.Kind+" "+e.Name))
	}
	if len(ctx) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(ctx, ", "))
		b.WriteString(")")
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
