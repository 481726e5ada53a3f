package crds

import (
	_ "embed"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
)

//go:embed felixconfiguration.yaml
var felixConfiguration []byte

// FelixConfigurationName is the name of the embedded FelixConfiguration CRD.
const FelixConfigurationName = "felixconfigurations.crd.projectcalico.org"

// FelixConfiguration returns the YAML of the FelixConfiguration CRD
// (crd.projectcalico.org/v1, cluster-scoped). The slice is a copy; callers
// may modify it.
func FelixConfiguration() []byte {
	return append([]byte(nil), felixConfiguration...)
}

// Load reads CRDs from multi-document YAML files, in file and document
// order. Every object must be an apiextensions.k8s.io/v1
// CustomResourceDefinition; an error names the file.
func Load(paths ...string) ([]*unstructured.Unstructured, error) {
	var all []*unstructured.Unstructured
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read CRDs: %w", err)
		}
		objs, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		all = append(all, objs...)
	}
	return all, nil
}

// Parse decodes CRDs from multi-document YAML. Every object must be an
// apiextensions.k8s.io/v1 CustomResourceDefinition with a name.
func Parse(data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := apply.Decode(data)
	if err != nil {
		return nil, err
	}
	for i, obj := range objs {
		if obj.GetAPIVersion() != "apiextensions.k8s.io/v1" || obj.GetKind() != "CustomResourceDefinition" {
			return nil, fmt.Errorf("object %d (%s %s %q) is not an apiextensions.k8s.io/v1 CustomResourceDefinition",
				i+1, obj.GetAPIVersion(), obj.GetKind(), obj.GetName())
		}
		if obj.GetName() == "" {
			return nil, fmt.Errorf("object %d: CustomResourceDefinition has no metadata.name", i+1)
		}
	}
	return objs, nil
}
