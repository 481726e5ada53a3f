package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// BinDirEnv names the environment variable that overrides where the
// binaries are looked for.
const BinDirEnv = "STRETCH_TESTBIN"

// ErrNoBinDir means that no folder of binaries was found: neither
// STRETCH_TESTBIN, nor a go.mod above the working directory, nor a testbin
// folder next to the executable.
var ErrNoBinDir = errors.New("no bin/testbin found")

// MissingBinaryError reports a component binary that `make testbin` has not
// built yet.
type MissingBinaryError struct {
	// Path is the binary that was looked for.
	Path string
}

// Error says which binary is missing and how to build it.
func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s not found: run make testbin", displayPath(e.Path))
}

// DefaultBinDir returns the folder holding the component binaries: the
// environment variable STRETCH_TESTBIN when set; or else bin/testbin in the
// folder of the nearest go.mod above the working directory (the module
// root) when that folder exists; or else testbin next to the running
// executable (make build writes bin/kubectl-stretch next to bin/testbin)
// when that exists; or else the module root's bin/testbin. It does not
// check that the binaries exist.
func DefaultBinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return filepath.Abs(dir)
	}
	root, rootErr := moduleRoot()
	if rootErr == nil && isDir(filepath.Join(root, "bin", "testbin")) {
		return filepath.Join(root, "bin", "testbin"), nil
	}
	if exe, err := os.Executable(); err == nil {
		if dir := filepath.Join(filepath.Dir(exe), "testbin"); isDir(dir) {
			return dir, nil
		}
	}
	if rootErr != nil {
		return "", fmt.Errorf("%w (%w): run kubectl stretch from the project, or set %s", ErrNoBinDir, rootErr, BinDirEnv)
	}
	return filepath.Join(root, "bin", "testbin"), nil
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// moduleRoot walks up from the working directory to the first folder with a
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// displayPath shortens path to be relative to the module root when it lies
// inside it, so that messages read "bin/testbin/kube-apiserver".
func displayPath(path string) string {
	root, err := moduleRoot()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return rel
}

// binary returns the path of the named binary in dir, or a
// *MissingBinaryError.
func binary(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", &MissingBinaryError{Path: path}
	case err != nil:
		return "", err
	case info.IsDir() || info.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("%s is not an executable file", path)
	}
	return path, nil
}
