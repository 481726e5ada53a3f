// Package app is the kubectl-stretch command line: a cobra root with
// k8s.io/cli-runtime's standard flags and one thin command per file. Each
// command has an Options struct with Complete, Validate and Run; the work
// itself lives in internal packages and generators. Run returns the exit
// code; only main exits.
package app
