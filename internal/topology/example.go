package topology

import (
	"bytes"
	_ "embed"
)

//go:embed example.yaml
var example []byte

// Example returns a commented example topology file that documents every
// field. It is valid: Load accepts it without errors.
func Example() []byte {
	return bytes.Clone(example)
}
