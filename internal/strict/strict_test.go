package strict

import (
	"errors"
	"testing"
)

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type pod struct {
	Spec struct {
		Containers []container `json:"containers"`
		Replicas   int         `json:"replicas"`
	} `json:"spec"`
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"valid", `{"spec":{"containers":[{"name":"a","image":"x"}],"replicas":2}}`, ""},
		{"unknown field in a list", `{"spec":{"containers":[{"name":"a"},{"name":"b","imag":"x"}]}}`,
			"spec.containers[1].imag: unknown field"},
		{"wrong case", `{"spec":{"Replicas":2}}`, "spec.Replicas: unknown field"},
		{"duplicate field", `{"spec":{"replicas":1,"replicas":2}}`, "spec.replicas: duplicate field"},
		{"several", `{"spec":{"a":1,"b":2}}`, "spec.a: unknown field\nspec.b: unknown field"},
		{"wrong type", `{"spec":{"replicas":"two"}}`, "spec.replicas: expected int, got string"},
		{"syntax", `{"spec":`, "decode JSON: unexpected end of JSON input"},
	} {
		var p pod
		err := Unmarshal([]byte(tc.in), &p)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.want)
		}
		var fe *FieldError
		if err != nil && tc.name != "syntax" && (!errors.As(err, &fe) || errors.Unwrap(fe) == nil) {
			t.Errorf("%s: no FieldError with the decoder's error in %#v", tc.name, err)
		}
	}
}
