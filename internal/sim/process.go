package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Process identifies one running component of the simulated cluster.
type Process struct {
	// Name is the component, such as "etcd", "kube-apiserver" or
	// "kwok-sto1".
	Name string `json:"name"`
	// PID is its process ID; it leads its own process group.
	PID int `json:"pid"`
	// Log is the file that receives its stdout and stderr.
	Log string `json:"log"`
	// Command is the binary and its arguments.
	Command []string `json:"command"`
	// Env lists the variables set on top of the environment it inherited.
	Env []string `json:"env,omitempty"`
}

// tailBytes bounds how much of a log an error message quotes.
const tailBytes = 4 << 10

// process is a component binary running in the background.
type process struct {
	name    string
	logPath string
	env     []string // set on top of the inherited environment
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited and was reaped
	err     error         // cmd.Wait's result; read only after done
}

// procSpec describes a component to start.
type procSpec struct {
	name string
	bin  string
	args []string
	// env is set on top of the inherited environment.
	env    []string
	logDir string
	// detached starts the process in a session of its own that outlives
	// this program; otherwise it is killed when this program dies (Linux).
	detached bool
}

// startProcess starts spec.bin with spec.args, with stdout and stderr
// appended to logDir/<name>.log (a header line marks each start). Its
// errors do not name the component: callers add "start <name>".
func startProcess(spec procSpec) (*process, error) {
	name, bin, args, logDir := spec.name, spec.bin, spec.args, spec.logDir
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(logFile, "=== %s %s\n", bin, strings.Join(args, " ")); err != nil {
		return nil, errors.Join(err, logFile.Close())
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if len(spec.env) > 0 {
		cmd.Env = append(os.Environ(), spec.env...)
	}
	if spec.detached {
		detach(cmd)
	} else {
		isolate(cmd)
	}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(err, logFile.Close())
	}
	p := &process{name: name, logPath: logPath, env: spec.env, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		// The child holds its own copy of the descriptor; ours is only
		// needed until then. Nothing can report a close error here.
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// info describes the process.
func (p *process) info() Process {
	return Process{
		Name:    p.name,
		PID:     p.cmd.Process.Pid,
		Log:     p.logPath,
		Command: slices.Clone(p.cmd.Args),
		Env:     slices.Clone(p.env),
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError explains why a process that was not asked to stop has ended,
// quoting the end of its log.
func (p *process) exitError() error {
	if p.err == nil {
		return fmt.Errorf("%s exited (exit status 0); end of %s:\n%s", p.name, p.logPath, p.tail())
	}
	return fmt.Errorf("%s exited (%w); end of %s:\n%s", p.name, p.err, p.logPath, p.tail())
}

// stop sends SIGTERM to the process group, then SIGKILL when the process has
// not exited within grace, and waits until it is reaped. A process that had
// already exited is not an error: its exit status is the caller's business.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	pid := p.cmd.Process.Pid
	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	if err := signalGroup(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("kill %s (pid %d): still running 10s after SIGKILL", p.name, pid)
	}
}

// tail returns the last lines of the process's log, at most tailBytes.
func (p *process) tail() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	offset := max(info.Size()-tailBytes, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if offset > 0 {
		// Drop the partial first line.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return strings.TrimRight(string(buf), "\n")
}

// waitReady polls ready every interval until it succeeds, the process exits
// or ctx ends. Errors quote the end of the process's log.
func (p *process) waitReady(ctx context.Context, ready func(context.Context) error) error {
	const interval = 100 * time.Millisecond
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		if p.exited() {
			return p.exitError()
		}
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (%w; last check: %w); end of %s:\n%s",
				p.name, context.Cause(ctx), last, p.logPath, p.tail())
		case <-p.done:
		case <-ticker.C:
		}
	}
}
