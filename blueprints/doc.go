// Package blueprints holds the Jsonnet blueprints that shape every layer of
// a rendered bundle, embedded into the binary.
//
// Each layer has one file, <layer>.jsonnet, evaluating to a function of the
// normalised topology model (see internal/topology.Model, passed as JSON)
// that returns an object mapping a bundle path to the one object written at
// that path. stretch.libsonnet holds the helpers they share.
//
// Users change a field with `render --mixin FILE` (an object keyed by layer,
// merged over that layer's output with Jsonnet's + operator) or replace a
// whole file with `render --blueprints DIR`. Whatever a blueprint returns is
// decoded into typed Go structs and checked before anything is written.
package blueprints

import (
	"embed"
	"io/fs"
)

//go:embed *.jsonnet *.libsonnet
var files embed.FS

// FS returns the embedded blueprint files.
func FS() fs.FS { return files }
