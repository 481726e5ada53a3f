// Package strict decodes JSON into typed structs the way the Kubernetes API
// server's strict field validation does: field names match case
// sensitively, and unknown or duplicate fields are errors. Every error
// names the path of its field (spec.containers[1].imag), so that a user
// can find it.
package strict

import (
	"encoding/json"
	"errors"
	"fmt"
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
			return &FieldError{Path: te.Field, Msg: fmt.Sprintf("expected %s, got %s", te.Type, te.Value), err: err}
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
