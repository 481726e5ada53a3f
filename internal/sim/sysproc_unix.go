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

// detach runs cmd in a session of its own (which is also its own process
// group): it outlives the program that started it and does not get the
// terminal's signals.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// signalGroup sends sig to the process group of pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

// startTime is unknown here: PIDs are checked for liveness only.
func startTime(int) uint64 { return 0 }

// zombie cannot tell here; a zombie counts as running.
func zombie(int) bool { return false }
