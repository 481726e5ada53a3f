package sim

import (
	"os/exec"
	"syscall"
)

// isolate runs cmd in its own process group, so that stopping it also stops
// anything it started, and asks the kernel to kill it when the process that
// started it dies (a test binary that panics or times out leaves nothing
// behind).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group of pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
