package strict

import (
	"errors"
	"testing"
)

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type port struct {
	ContainerPort int32 `json:"containerPort"`
}

type pod struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Containers []container `json:"containers"`
		Ports      []port      `json:"ports"`
		Replicas   int         `json:"replicas"`
		Selector   struct {
			Match map[string]string `json:"match"`
		} `json:"selector"`
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
		{"wrong type in a list", `{"spec":{"containers":[{"name":"a"}],"ports":[{"containerPort":1},{"containerPort":"x"}]}}`,
			"spec.ports[1].containerPort: expected int32, got string"},
		{"wrong type in a map", `{"metadata":{"labels":{"a":"b","c":1}}}`, "metadata.labels.c: expected string, got number"},
		{"object for a list", `{"spec":{"replicas":1,"ports":{"a":1}}}`, "spec.ports: expected []strict.port, got object"},
		{"list for an object", `{"spec":{"selector":{"match":[1]}}}`, "spec.selector.match: expected map[string]string, got array"},
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
