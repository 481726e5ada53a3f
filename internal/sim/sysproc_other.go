//go:build !unix

package sim

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// errNoDetach is returned where detached clusters are not supported.
var errNoDetach = errors.New("detached simulated clusters need a Unix system")

// errLocked is never returned here: nothing can be locked.
var errLocked = errors.New("locked")

// isolate does nothing where there are no process groups.
func isolate(*exec.Cmd) {}

// detach does nothing; Up refuses to run here.
func detach(*exec.Cmd) {}

// signalGroup kills the process pid itself: without process groups or
// SIGTERM there is nothing gentler.
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// startTime is unknown here.
func startTime(int) uint64 { return 0 }

// zombie cannot tell here.
func zombie(int) bool { return false }

// running cannot tell here.
func running(int) bool { return false }

// lockState cannot lock here.
func lockState(string) (func() error, error) { return nil, errNoDetach }

// detachSupported reports whether Up can run here.
func detachSupported() error { return errNoDetach }
