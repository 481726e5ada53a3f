//go:build linux

package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// exitBound is how long a command may take to end once its input is
// refused or it is interrupted. It bounds a wait; it measures nothing.
const exitBound = 5 * time.Second

var (
	signalBinOnce sync.Once
	signalBin     string
	signalBinErr  error
)

// sharedBinary builds kubectl-stretch once for the tests of this file.
func sharedBinary(t *testing.T) string {
	t.Helper()
	signalBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stretch-signal-")
		if err != nil {
			signalBinErr = err
			return
		}
		signalBin = filepath.Join(dir, "kubectl-stretch")
		if out, err := exec.Command("go", "build", "-o", signalBin, "..").CombinedOutput(); err != nil {
			signalBinErr = err
			signalBin = string(out)
		}
	})
	if signalBinErr != nil {
		t.Fatalf("go build: %v\n%s", signalBinErr, signalBin)
	}
	return signalBin
}

// child is kubectl-stretch running as a real process.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
}

func start(t *testing.T, dir string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(sharedBinary(t), args...), done: make(chan error, 1)}
	c.cmd.Dir = dir
	c.cmd.Stderr = &c.stderr
	// A child that outlives the process must not hold Wait on the pipe.
	c.cmd.WaitDelay = time.Second
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// wait waits for the process to end, at most exitBound, and returns its
// exit code and standard error.
func (c *child) wait(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode(), c.stderr.String()
	case <-time.After(exitBound):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("still running %v after it should have ended; stderr:\n%s", exitBound, c.stderr.String())
		return 0, ""
	}
}

// interrupt sends SIGINT.
func (c *child) interrupt(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// busy waits until the process has used half a second of CPU: it is then
// past its start (a Go program catches SIGINT from its first instruction,
// so /proc's SigCgt cannot tell when main's handler is in place) and in
// the work that never ends.
func (c *child) busy(t *testing.T) {
	t.Helper()
	pid := c.cmd.Process.Pid
	for deadline := time.Now().Add(4 * exitBound); ; {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatalf("process %d: %v", pid, err)
		}
		// utime and stime are fields 14 and 15, in clock ticks (100 a
		// second on Linux).
		i := strings.LastIndexByte(string(data), ')')
		fields := strings.Fields(string(data[i+1:]))
		utime, _ := strconv.Atoi(fields[11])
		stime, _ := strconv.Atoi(fields[12])
		if utime+stime >= 50 {
			return
		}
		if fields[0] == "Z" || time.Now().After(deadline) {
			t.Fatalf("the process did not get busy (state %s, %d ticks)", fields[0], utime+stime)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ended waits until pid has ended (a zombie counts: it runs nothing).
func ended(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(exitBound); ; {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(data), ')'); i > 0 && strings.HasPrefix(string(data[i+1:]), " Z") {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived kubectl-stretch: %s", pid, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// topologyWith writes the example topology into dir with its workload
// sources replaced by sources (YAML list items, indented for the sources
// key) and returns its path.
func topologyWith(t *testing.T, dir, sources string) string {
	t.Helper()
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "    - path: apps\n", sources, 1)
	if !strings.Contains(string(data), "    - path: apps\n") {
		t.Fatal("the example topology has no `- path: apps` source")
	}
	p := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedInputsEndPromptly runs inputs that used to block or read
// forever: each now ends at once, non-zero, naming the file.
func TestRefusedInputsEndPromptly(t *testing.T) {
	dir := t.TempDir()
	topologyWith(t, dir, "    - path: apps\n")
	if err := os.MkdirAll(filepath.Join(dir, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "apps", "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 110_000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"fifo in the apps folder", []string{"render", "-f", "topology.yaml", "-o", "out"}, ExitFailed,
			"apps/fifo.yaml: not a regular file (a named pipe)"},
		{"/dev/zero as the topology", []string{"validate", "-f", "/dev/zero"}, ExitFailed,
			"/dev/zero: not a regular file (a character device)"},
		{"a topology over its limit", []string{"validate", "-f", "big.yaml"}, ExitFailed,
			"big.yaml: larger than the 1 MiB limit"},
		{"a FIFO as the topology", []string{"validate", "-f", "apps/fifo.yaml"}, ExitFailed,
			"apps/fifo.yaml: not a regular file (a named pipe)"},
		{"a FIFO as a mixin", []string{"render", "-f", "topology.yaml", "-o", "out", "--mixin", "apps/fifo.yaml"}, ExitFailed,
			"apps/fifo.yaml: not a regular file (a named pipe)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := start(t, dir, tc.args...).wait(t)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Error("the refused render wrote the output folder")
			}
		})
	}
}

// TestInterrupt interrupts commands stuck where no code watches the
// context: each ends within the bound, with "interrupted" and
// ExitInterrupted, and leaves no child behind.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	// A mixin that never ends: the tail-strict recursion runs in constant
	// stack and small memory.
	write(t, filepath.Join(dir, "forever.jsonnet"),
		"local loop(n) = if n < 0 then {} else loop(n + 1) tailstrict;\nloop(0)\n")
	// A chart whose template loops 10^15 times over nothing.
	write(t, filepath.Join(dir, "loop", "Chart.yaml"), "apiVersion: v2\nname: loop\nversion: 0.1.0\n")
	write(t, filepath.Join(dir, "loop", "templates", "loop.yaml"),
		"{{- range until 100000 }}{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}{{ end }}\n")
	loopDir := filepath.Join(dir, "chart")
	if err := os.MkdirAll(loopDir, 0o755); err != nil {
		t.Fatal(err)
	}
	topologyWith(t, loopDir, "    - helm: {chart: ../loop, release: loop, namespace: loop}\n")
	// A kubeconfig whose credential plugin starts a sleep and waits for
	// it, adding both PIDs to a file first (client-go may run it more
	// than once).
	plugin := filepath.Join(dir, "plugin.sh")
	write(t, plugin, "#!/bin/sh\nsleep 1000 &\necho $! $$ >> \"$0.pids\"\nwait\n")
	kubeconfig := filepath.Join(dir, "kubeconfig")
	write(t, kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: `+plugin+`
      interactiveMode: Never
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`)
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		// ready, when set, waits until the command is where it hangs.
		ready func(c *child, t *testing.T)
		// pids, when set, is a file of PIDs that must be gone after.
		pids string
	}{
		{name: "an endless mixin", dir: dir,
			args:  []string{"render", "-f", abs(t, example), "-o", "out", "--mixin", "forever.jsonnet"},
			ready: (*child).busy},
		{name: "a looping chart template", dir: loopDir,
			args:  []string{"render", "-f", "topology.yaml", "-o", "out"},
			ready: (*child).busy},
		{name: "a credential plugin that never returns", dir: dir,
			args:  []string{"verify", "-f", abs(t, example), "--kubeconfig", kubeconfig},
			ready: func(c *child, t *testing.T) { waitFile(t, plugin+".pids") },
			pids:  plugin + ".pids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := start(t, tc.dir, tc.args...)
			if tc.ready != nil {
				tc.ready(c, t)
			}
			c.interrupt(t)
			code, stderr := c.wait(t)
			if code != ExitInterrupted || !strings.Contains(stderr, "error: interrupted by SIGINT") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and \"error: interrupted by SIGINT\"", code, stderr, ExitInterrupted)
			}
			if tc.pids != "" {
				for _, pid := range readPIDs(t, tc.pids) {
					ended(t, pid)
				}
			}
			if _, err := os.Stat(filepath.Join(tc.dir, "out")); err == nil {
				t.Error("the interrupted render wrote the output folder")
			}
		})
	}
}

// TestInterruptTwice interrupts a command whose credential plugin ignores
// SIGTERM, so that the first interrupt cannot end it: the second ends it
// at once and kills the plugin and its child.
func TestInterruptTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "plugin.sh")
	write(t, plugin, "#!/bin/sh\ntrap '' TERM\nsleep 1000 &\necho $! $$ >> \"$0.pids\"\nwait\n")
	kubeconfig := filepath.Join(dir, "kubeconfig")
	write(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n"+
		"users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: "+plugin+", interactiveMode: Never}\n"+
		"contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n")
	c := start(t, dir, "verify", "-f", abs(t, example), "--kubeconfig", kubeconfig)
	waitFile(t, plugin+".pids")
	c.interrupt(t)
	// Two signals sent back to back may merge into one pending signal, as
	// the kernel does not queue them: leave a gap, as a hand would.
	time.Sleep(300 * time.Millisecond)
	c.interrupt(t)
	code, stderr := c.wait(t)
	if code != ExitInterrupted || !strings.Contains(stderr, "error: interrupted again: stopped at once") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and \"interrupted again\"", code, stderr, ExitInterrupted)
	}
	for _, pid := range readPIDs(t, plugin+".pids") {
		ended(t, pid)
	}
}

// waitFile waits until name exists and is not empty.
func waitFile(t *testing.T, name string) {
	t.Helper()
	for deadline := time.Now().Add(exitBound); ; {
		if data, err := os.ReadFile(name); err == nil && len(bytes.TrimSpace(data)) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPIDs reads the PIDs a plugin wrote, at least one.
func readPIDs(t *testing.T, name string) []int {
	t.Helper()
	waitFile(t, name)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pids = append(pids, pid)
	}
	return pids
}
