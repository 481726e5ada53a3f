// Package sim runs the simulated stretched cluster that kubectl-stretch's
// tests, benchmarks, `kubectl stretch sim` and `drill` rehearsals use: real
// Kubernetes components, built from the Go module proxy by `make testbin`
// into bin/testbin/, run as local processes on 127.0.0.1.
//
// Three layers, each on top of the previous one:
//
//   - ControlPlane (StartControlPlane): etcd and kube-apiserver with a CA
//     made up at start, RBAC and an admin kubeconfig; InstallCRDs.
//   - Cluster (StartCluster): kube-controller-manager, kube-scheduler and one
//     kwok per region (the simulated kubelets of the region's nodes), the
//     topology's Nodes with their labels, taints and capacity, and the CRDs
//     a rendered bundle uses. Fail stops a region's kwok, so that its nodes
//     turn NotReady as in an outage; Heal starts it again.
//     StartDescheduler runs the real descheduler with a policy, such as
//     the one render writes for spec.workloads.rebalance.
//   - Detached (Up, Open): the same cluster with processes that outlive the
//     program that started them, recorded in a state folder, for the CLI.
//
// Operators play, clearly labelled as simulated, what Calico and Rook would
// do with the objects applied to the API: WireGuard annotations where the
// FelixConfigurations enable WireGuard, the Ceph daemon pods of every
// CephCluster (built from its spec, placed by kube-scheduler) and its
// health from where they run, so that a wrong bundle fails the checks that
// read them on a simulated cluster as it would on a real one.
//
// Each component is a process with its own log file under StateDir/logs/,
// started in order and stopped in reverse order, each in its own process
// group. Tests use StartForTest and StartClusterForTest, which fail with
// "run make testbin" when a binary is missing (and skip with -short).
//
// It is not a way to run a production cluster: etcd runs without fsync, every
// port is on 127.0.0.1, the certificates are made up at start, and kwok runs
// no containers.
package sim
