package sim

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"sync"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TB is what the helpers below need of a *testing.T or *testing.B. It is
// an interface, not testing.TB, so that the package does not import
// testing, which would then be linked into the kubectl-stretch binary.
type TB interface {
	Helper()
	Context() context.Context
	TempDir() string
	Cleanup(func())
	Failed() bool
	Log(args ...any)
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Skip(args ...any)
}

// short reports whether the tests run with -short, as testing.Short does.
func short() bool {
	f := flag.Lookup("test.short")
	return f != nil && f.Value.String() == "true"
}

// StartForTest starts a control plane for a test, with its state in
// t.TempDir() and its progress in the test log, and stops it when the test
// ends. When the test failed, the end of every component's log is added to
// the test log.
//
// A missing binary fails the test with "bin/testbin/kube-apiserver not
// found: run make testbin": the project's tests run against real
// components, so a machine without them must not pass silently. Only with
// -short is the test skipped instead.
func StartForTest(t TB) *ControlPlane {
	t.Helper()
	c, err := StartControlPlane(t.Context(), Options{StateDir: t.TempDir(), Log: &testLog{t: t}})
	if err != nil {
		failStart(t, err)
	}
	t.Cleanup(func() { stopForTest(t, c) })
	return c
}

// StartClusterForTest starts a simulated cluster of model for a test, like
// StartForTest does a control plane: state in t.TempDir(), progress in the
// test log, the end of every log when the test failed, stopped when the
// test ends, and a missing binary fails the test ("run make testbin")
// unless -short.
func StartClusterForTest(t TB, model *topology.Model) *Cluster {
	t.Helper()
	return StartClusterForTestWith(t, ClusterOptions{Topology: model})
}

// StartClusterForTestWith is StartClusterForTest with options (a shorter
// node monitor grace period, ...); an empty StateDir is t.TempDir() and
// an unset Log the test log.
func StartClusterForTestWith(t TB, opts ClusterOptions) *Cluster {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Log == nil {
		opts.Log = &testLog{t: t}
	}
	c, err := StartCluster(t.Context(), opts)
	if err != nil {
		failStart(t, err)
	}
	t.Cleanup(func() { stopForTest(t, c.ControlPlane) })
	return c
}

// failStart ends a test whose cluster did not start: a skip with -short
// when a binary is missing, a failure otherwise.
func failStart(t TB, err error) {
	t.Helper()
	var missing *MissingBinaryError
	if errors.As(err, &missing) {
		if short() {
			t.Skip(missing.Error())
		}
		t.Fatal(missing.Error())
	}
	t.Fatal(err)
}

// stopForTest stops c, first quoting the end of every log when the test
// failed.
func stopForTest(t TB, c *ControlPlane) {
	if t.Failed() {
		c.mu.Lock()
		procs := slices.Clone(c.started)
		c.mu.Unlock()
		seen := map[string]bool{} // a retried or restarted component shares its log
		for _, p := range procs {
			if !seen[p.logPath] {
				seen[p.logPath] = true
				t.Logf("end of %s:\n%s", p.logPath, p.tail())
			}
		}
	}
	if err := c.Stop(); err != nil {
		t.Errorf("stop simulated cluster: %v", err)
	}
}

// testLog writes progress lines to the test log, one t.Log per line.
type testLog struct {
	t   TB
	mu  sync.Mutex
	buf []byte
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}
