package topology

import (
	"bytes"
	_ "embed"
)

//go:embed example.yaml
var example []byte

//go:embed example-apps.yaml
var exampleWorkloads []byte

// ExampleWorkloadsPath is where the example topology's workload source
// (spec.workloads.sources[0].path) finds its files, relative to the
// topology file, and ExampleWorkloadsFile the file init writes there.
const (
	ExampleWorkloadsPath = "apps"
	ExampleWorkloadsFile = "shop.yaml"
)

// Example returns a commented example topology file that documents every
// field. It is valid: Load accepts it without errors.
func Example() []byte {
	return bytes.Clone(example)
}

// ExampleWorkloads returns the example's workloads, the same as the
// bundled testdata/apps/shop.yaml: a Deployment, a StatefulSet and a
// DaemonSet that render spread-patches.
func ExampleWorkloads() []byte {
	return bytes.Clone(exampleWorkloads)
}
