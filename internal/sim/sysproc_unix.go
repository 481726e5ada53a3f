//go:build unix && !linux

package sim

import (
	"os/exec"
	"syscall"
)

// isolate runs cmd in its own process group, so that stopping it also stops
// anything it started.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to the process group of pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
