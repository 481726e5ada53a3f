//go:build unix

package sim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestDetached runs a detached cluster through Up, Open, Fail, Heal and
// Down, the code behind `kubectl stretch sim`, and checks that Down leaves
// no process behind.
func TestDetached(t *testing.T) {
	t.Parallel()
	model := exampleModel(t)
	dir := filepath.Join(t.TempDir(), "sim")
	opts := UpOptions{ClusterOptions: ClusterOptions{
		Options:                Options{StateDir: dir, Log: &testLog{t: t}},
		Topology:               model,
		NodeMonitorGracePeriod: 8 * time.Second,
		PodEvictionTimeout:     7 * time.Second,
	}}
	start := time.Now()
	d, err := Up(t.Context(), opts)
	if err != nil {
		failStart(t, err)
	}
	t.Logf("TIMING detached cluster up in %s", since(start))
	// Whatever happens, nothing outlives the test.
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, filepath.Join(dir, "logs"))
		}
		if d, err := Open(dir); err == nil {
			if _, err := d.Down(context.Background()); err != nil {
				t.Errorf("down: %v", err)
			}
		}
	})

	wantNames := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-sto1", "kwok-sto2", "kwok-osl1"}
	if got := names(d.Processes()); !slices.Equal(got, wantNames) {
		t.Fatalf("processes %v, want %v", got, wantNames)
	}
	if _, err := Up(t.Context(), opts); err == nil || err.Error() != "a simulated cluster is already running in "+dir {
		t.Errorf("second Up: got %v, want a *RunningError", err)
	}

	// Another program reaches the cluster through the state folder.
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kubeconfig() != filepath.Join(dir, "kubeconfig") || d.NodeMonitorGracePeriod() != 8*time.Second {
		t.Errorf("kubeconfig %s, grace period %s", d.Kubeconfig(), d.NodeMonitorGracePeriod())
	}
	cfg, err := d.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != len(model.Nodes) {
		t.Fatalf("nodes through the kubeconfig: %d, %v", len(nodes.Items), err)
	}
	// Pods without tolerations of their own get the eviction timeout.
	pod, err := client.CoreV1().Pods("default").Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/c:1"}}},
	}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tol := range pod.Spec.Tolerations {
		if tol.TolerationSeconds == nil || *tol.TolerationSeconds != 7 {
			t.Errorf("default toleration %v, want 7 seconds", tol)
		}
	}
	if len(pod.Spec.Tolerations) != 2 {
		t.Errorf("default tolerations %v, want not-ready and unreachable", pod.Spec.Tolerations)
	}

	// A command that holds the lock keeps the others out.
	unlock, err := lockState(filepath.Join(dir, stateLockFile))
	if err != nil {
		t.Fatal(err)
	}
	var busy *BusyError
	if err := d.Fail(t.Context(), "sto1"); !errors.As(err, &busy) {
		t.Errorf("Fail while locked: got %v, want a *BusyError", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := d.Fail(t.Context(), "nowhere"); err == nil || err.Error() != `unknown region "nowhere" (regions: sto1, sto2, osl1)` {
		t.Errorf("Fail(nowhere): %v", err)
	}

	oldKwok := d.Processes()[4]
	start = time.Now()
	if err := d.Fail(t.Context(), "sto1"); err != nil {
		t.Fatal(err)
	}
	if running(oldKwok.PID) {
		t.Errorf("kwok-sto1 (pid %d) still runs after Fail", oldKwok.PID)
	}
	if err := d.Fail(t.Context(), "sto1"); err != nil {
		t.Errorf("failing a failed region: %v", err)
	}
	if got := d.Failed(); !slices.Equal(got, []string{"sto1"}) {
		t.Errorf("Failed() = %v", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitShort)
	defer cancel()
	if err := d.WaitRegion(ctx, "sto1", false); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING fail -> NotReady with an 8s grace period in %s", since(start))

	start = time.Now()
	if err := d.Heal(t.Context(), "sto1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING heal -> Ready in %s", since(start))
	if got := d.Failed(); len(got) != 0 {
		t.Errorf("Failed() after Heal = %v", got)
	}
	if err := d.Heal(t.Context(), "sto1"); err != nil {
		t.Errorf("healing a healthy region: %v", err)
	}
	procs := d.Processes()
	if got, want := names(procs), []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-sto2", "kwok-osl1", "kwok-sto1"}; !slices.Equal(got, want) {
		t.Errorf("processes after heal %v, want %v", got, want)
	}

	stopped, err := d.Down(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stopped) != len(procs) {
		t.Errorf("Down stopped %v, want all of %v", names(stopped), names(procs))
	}
	for _, p := range append(procs, oldKwok) {
		if running(p.PID) {
			t.Errorf("%s (pid %d) still runs after Down", p.Name, p.PID)
		}
	}
	for _, f := range []string{StateFile, "kubeconfig"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after Down: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "kube-apiserver.log")); err != nil {
		t.Errorf("logs not kept: %v", err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrNoCluster) {
		t.Errorf("Open after Down: got %v, want ErrNoCluster", err)
	}
}

// TestDownDeadCluster stops nothing when the state file records only
// processes that are gone, and removes the state; Open of a folder without
// a state says so.
func TestDownDeadCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(dir); !errors.Is(err, ErrNoCluster) || err.Error() != dir+": no simulated cluster (no state.json)" {
		t.Errorf("Open of an empty folder: %v", err)
	}
	st := &state{APIVersion: stateAPIVersion, Kind: stateKind, Topology: exampleModel(t),
		Processes: []record{{Process: Process{Name: "etcd", PID: deadPID(t)}}}}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := d.Down(t.Context())
	if err != nil || len(stopped) != 0 {
		t.Errorf("Down of a dead cluster: stopped %v, %v", stopped, err)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left: %v", err)
	}
}

// deadPID returns the PID of a process that has exited and was reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := startProcess(procSpec{name: "true", bin: "/bin/sh", args: []string{"-c", "exit 0"}, logDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	return p.cmd.Process.Pid
}

// logTails adds the end of every log in dir to the test log.
func logTails(t *testing.T, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Logf("read logs: %v", err)
		return
	}
	for _, e := range entries {
		p := &process{logPath: filepath.Join(dir, e.Name())}
		t.Logf("end of %s:\n%s", p.logPath, p.tail())
	}
}
