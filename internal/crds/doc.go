// Package crds holds the CustomResourceDefinitions the simulated cluster
// installs and reads CRD files.
//
// It embeds the one CRD whose upstream YAML cannot be fetched through the Go
// module proxy: Calico's FelixConfiguration (crd.projectcalico.org/v1),
// written here from the field list of Calico v3.31 and limited to the fields
// kubectl-stretch renders and checks. Rook's and Flux's CRDs are the real
// upstream files, fetched by `make testbin` into bin/testbin/crds/ and read
// with Load.
//
// The CRDs are returned as unstructured objects, so that this package does
// not need the apiextensions-apiserver module.
package crds
