// Package topology reads the stretch.dev/v1alpha1 Topology (its types are
// in internal/api/v1alpha1): the one file that describes a cluster
// stretched over two data regions and an arbiter region.
//
// Load (a file) and Parse (a document in memory) decode it strictly (an
// unknown field is an error) and remember the line and column of every
// field, Default fills in the optional fields, and Validate checks every
// rule that a cluster must meet to survive the loss of a region. Errors
// name the file, line, column and field path, and all of them are reported
// together. NewModel turns a valid Topology into the normalised Model that
// the generators and blueprints consume.
//
// This package does no I/O beyond reading the topology file; it never
// writes anything.
package topology
