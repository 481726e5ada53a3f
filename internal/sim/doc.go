// Package sim runs the simulated stretched cluster that kubectl-stretch's
// tests, benchmarks and `drill` rehearsals use: real Kubernetes components,
// built from the Go module proxy by `make testbin` into bin/testbin/, run as
// local processes on 127.0.0.1.
//
// Today it starts the control plane (etcd and kube-apiserver) and installs
// CRDs. The scheduler, the controller-manager and one kwok per region (the
// simulated kubelets) are added as further processes of the same kind: each
// component is a process with its own log file under StateDir/logs/, started
// in order and stopped in reverse order.
//
// It is not a way to run a production cluster: etcd runs without fsync, every
// port is on 127.0.0.1 and the certificates are made up at start.
//
// Tests in other packages use StartForTest.
package sim
