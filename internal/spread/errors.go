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
	// File names the file the document was read from, when the caller
	// knows it (see ReadFiles and InFiles); empty for a stream such as
	// standard input.
	File string
	// Document is the 1-based position of the document in its file or
	// stream (for Patch, in the slice, until InFiles maps it to a file).
	Document int
	// Line and Column locate the bad field (or the document, when the
	// whole document is wrong) in the file or stream, when known; 0
	// otherwise. Objects decoded document by document (kio.ByteReader)
	// count lines from their document's start; Read keeps the stream's.
	Line, Column int
	// Kind and Name identify the object, when known.
	Kind string
	Name string
	// Path is the field path of the bad field, such as
	// spec.template.spec.tolerations[0]; empty for the whole document.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error. With a file it reads like a compiler's error:
//
//	apps/web.yaml:11:13: Deployment shop/web: spec.replicas: expected an integer, got the string "two"
//
// and without one it names the document:
//
//	document 3 (line 11, column 13, Deployment shop/web): spec.replicas: expected an integer, got the string "two"
func (e *DocumentError) Error() string {
	var b strings.Builder
	object := ""
	if e.Kind != "" {
		object = strings.TrimSpace(e.Kind + " " + e.Name)
	}
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteString(":" + strconv.Itoa(e.Column))
			}
		} else {
			b.WriteString(": document " + strconv.Itoa(e.Document))
		}
		if object != "" {
			b.WriteString(": " + object)
		}
	} else {
		b.WriteString("document " + strconv.Itoa(e.Document))
		var ctx []string
		if e.Line > 0 {
			ctx = append(ctx, "line "+strconv.Itoa(e.Line))
			if e.Column > 0 {
				ctx[len(ctx)-1] += ", column " + strconv.Itoa(e.Column)
			}
		}
		if object != "" {
			ctx = append(ctx, object)
		}
		if len(ctx) > 0 {
			b.WriteString(" (" + strings.Join(ctx, ", ") + ")")
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// inFile names file as the file of every DocumentError in err (one, or
// several joined) that names none, and returns err.
func inFile(err error, file string) error {
	for _, de := range documentErrors(err) {
		if de.File == "" {
			de.File = file
		}
	}
	return err
}

// InFiles maps the DocumentErrors in err, whose Document is the position
// of an object in a slice read from several files, to those files:
// origin[i] is the file of the slice's i-th object, and each error gets
// that file and the object's position in it. It returns err.
func InFiles(err error, origin []string) error {
	for _, de := range documentErrors(err) {
		i := de.Document - 1
		if de.File != "" || i < 0 || i >= len(origin) {
			continue
		}
		de.File, de.Document = origin[i], 1
		for j := i - 1; j >= 0 && origin[j] == origin[i]; j-- {
			de.Document++
		}
	}
	return err
}

// documentErrors returns the DocumentErrors in err, looking into wrapped
// and joined errors.
func documentErrors(err error) []*DocumentError {
	switch e := err.(type) {
	case *DocumentError:
		return []*DocumentError{e}
	case interface{ Unwrap() []error }:
		var out []*DocumentError
		for _, inner := range e.Unwrap() {
			out = append(out, documentErrors(inner)...)
		}
		return out
	case interface{ Unwrap() error }:
		return documentErrors(e.Unwrap())
	}
	return nil
}
