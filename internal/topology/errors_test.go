package topology

import (
	"errors"
	"testing"
)

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"all parts", Error{File: "t.yaml", Line: 3, Column: 5, Field: "spec.x", Message: "bad"}, "t.yaml:3:5: spec.x: bad"},
		{"no field", Error{File: "t.yaml", Line: 3, Column: 5, Message: "bad"}, "t.yaml:3:5: bad"},
		{"no position", Error{File: "t.yaml", Field: "spec.x", Message: "bad"}, "t.yaml: spec.x: bad"},
		{"line only", Error{File: "t.yaml", Line: 7, Message: "bad"}, "t.yaml:7: bad"},
		{"no file", Error{Line: 1, Column: 2, Field: "f", Message: "bad"}, "1:2: f: bad"},
		{"message only", Error{Message: "bad"}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorsSortedAndDeduplicated(t *testing.T) {
	t.Parallel()
	errs := Errors{
		{File: "t.yaml", Line: 9, Column: 1, Field: "b", Message: "m"},
		{File: "t.yaml", Line: 2, Column: 7, Field: "a", Message: "z"},
		{File: "t.yaml", Line: 2, Column: 7, Field: "a", Message: "y"},
		{File: "t.yaml", Line: 2, Column: 3, Field: "c", Message: "m"},
		{File: "t.yaml", Line: 9, Column: 1, Field: "b", Message: "m"},
		{File: "t.yaml", Field: "d", Message: "m"},
	}
	want := "t.yaml: d: m\n" +
		"t.yaml:2:3: c: m\n" +
		"t.yaml:2:7: a: y\n" +
		"t.yaml:2:7: a: z\n" +
		"t.yaml:9:1: b: m"
	if got := errs.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant:\n%s", got, want)
	}
	if got := len(errs.asError().(Errors)); got != 5 {
		t.Errorf("asError has %d errors, want 5", got)
	}
	if Errors(nil).asError() != nil {
		t.Error("asError of no errors is not nil")
	}
	var one Error
	if !errors.As(error(errs), &one) || one.Field != "b" {
		t.Errorf("errors.As found %+v, want the first error", one)
	}
}
