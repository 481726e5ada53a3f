// Package chartrepo builds a Helm chart repository (packaged charts and an
// index.yaml) from chart source folders, byte for byte the same on every
// build, and serves it over HTTP on 127.0.0.1.
//
// The simulated cluster uses it as the chart mirror that the topology's
// spec.gitops.chartMirrors points the bundle's HelmRepositories at: Flux's
// source-controller and helm-controller then fetch and install real
// packaged charts, as they would from an air-gapped mirror.
//
// Build loads every chart with the Helm SDK from a file system rooted at the
// chart sources: a chart may name its file:// dependencies only inside that
// root, and symbolic links, irregular files and paths that leave the root
// are refused. What one chart and its dependencies read together is
// bounded (4096 files, 64 MiB), however often they depend on each other.
// Dependencies fetched from a remote repository (Rook's rook-ceph chart
// depends on ceph-csi-operator) must be supplied by the caller
// (Chart.Vendor); Build refuses a chart whose dependency it cannot place in
// charts/, as `helm install` would, and one whose dependency, vendored or
// from a file:// folder, is not of the version asked for. Archives carry a
// fixed time and the index a fixed generation time, so that two builds are
// identical.
//
// Handler serves one built repository (Open, or OpenBuilt for the one make
// testbin built): index.yaml and the packaged charts, nothing else (no
// listings, no sub-folders, no links); Server serves a Handler on
// 127.0.0.1.
package chartrepo
