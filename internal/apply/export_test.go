package apply

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// CleanYAML shows an object as ObjectDiff's Live and Merged do in DiffFlux
// (kubectl's annotation shown), for the external tests.
func CleanYAML(obj *unstructured.Unstructured) (string, error) { return cleanYAML(obj, false) }
