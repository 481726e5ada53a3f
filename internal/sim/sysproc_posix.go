//go:build unix

package sim

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// running reports whether pid exists and has not exited. A process that
// belongs to another user counts as running.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}

// errLocked is returned by lockState when another command holds the lock.
var errLocked = errors.New("locked")

// lockState takes an exclusive lock on path (created if needed), so that
// two sim commands never change one state folder at once. It does not wait:
// a held lock gives errLocked. The lock ends with the returned function or
// with the process.
func lockState(path string) (func() error, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		closeErr := f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.Join(errLocked, closeErr)
		}
		return nil, errors.Join(fmt.Errorf("lock %s: %w", path, err), closeErr)
	}
	return f.Close, nil
}

// detachSupported reports whether Up can run here.
func detachSupported() error { return nil }
