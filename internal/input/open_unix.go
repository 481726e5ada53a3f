//go:build unix

package input

import (
	"os"
	"syscall"
)

// openFile opens name for reading without blocking: opening a FIFO
// with no writer returns at once, and the caller's fstat refuses it.
// Regular files ignore O_NONBLOCK.
func openFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
