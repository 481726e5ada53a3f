package strict

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type port struct {
	ContainerPort int32 `json:"containerPort"`
}

type TypeMeta struct {
	Kind string `json:"kind"`
}

type pod struct {
	TypeMeta `json:",inline"`
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
		{"through an embedded struct", `{"kind":1}`, "kind: expected string, got number"},
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

// TestUnmarshalKubernetesTypes checks paths through Kubernetes' own types:
// embedded structs (VolumeSource, ProbeHandler, TypeMeta) are not named,
// and an error inside a type's own UnmarshalJSON (IntOrString), whose
// offset is not the document's, falls back to the decoder's path rather
// than naming the wrong list item.
func TestUnmarshalKubernetesTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		v              any
	}{
		{"volume source", `{"spec":{"template":{"spec":{"volumes":[{"name":"a"},{"name":"b","configMap":{"defaultMode":"x"}}]}}}}`,
			"spec.template.spec.volumes[1].configMap.defaultMode: expected int32, got string", &appsv1.Deployment{}},
		{"probe handler", `{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b","livenessProbe":{"httpGet":{"path":1}}}]}}}}`,
			"spec.template.spec.containers[1].livenessProbe.httpGet.path: expected string, got number", &appsv1.Deployment{}},
		{"type meta", `{"kind":1}`, "kind: expected string, got number", &appsv1.Deployment{}},
		{"int or string", `{"spec":{"ports":[{"name":"a","port":80,"targetPort":8080},{"name":"b","port":81,"targetPort":8080.5}]}}`,
			"spec.ports.targetPort: expected int32, got number 8080.5", &corev1.Service{}},
	} {
		err := Unmarshal([]byte(tc.in), tc.v)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}
