//go:build !unix

package sim

import (
	"os"
	"os/exec"
	"syscall"
)

// isolate does nothing where there are no process groups.
func isolate(*exec.Cmd) {}

// signalGroup kills the process pid itself: without process groups or
// SIGTERM there is nothing gentler.
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
