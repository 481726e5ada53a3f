package input

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Caps on what one read may return. They are far above anything a real
// cluster needs: a topology is a few KiB, a rendered chart a few MiB.
const (
	// TopologyLimit caps a topology file.
	TopologyLimit int64 = 1 << 20
	// SourceLimit caps a Jsonnet file: a mixin, a blueprint override or
	// a file either imports.
	SourceLimit int64 = 4 << 20
	// ManifestLimit caps one manifest file: a workload, a values file, a
	// file given to lint.
	ManifestLimit int64 = 64 << 20
	// TreeLimit caps the regular files of a folder read as a whole by a
	// library (a Helm chart, a kustomize folder).
	TreeLimit int64 = 256 << 20
	// StreamLimit is the default cap on standard input (post-render, fn).
	StreamLimit int64 = 256 << 20
)

// LimitError is a file or stream larger than its cap.
type LimitError struct {
	Name  string
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: larger than the %s limit", e.Name, Size(e.Limit))
}

// NotRegularError is a FIFO, a device, a socket or a folder where a file
// is meant.
type NotRegularError struct {
	Name string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: not a regular file (%s)", e.Name, kind(e.Mode))
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	default:
		return "mode " + m.Type().String()
	}
}

// Size formats a cap in binary units: 1 MiB, 64 MiB, 1500 B.
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// ReadFile reads the regular file name (symbolic links followed), at most
// limit bytes. A file that is not regular is a *NotRegularError and one
// over limit a *LimitError; both are found without blocking: the file is
// opened non-blocking (a FIFO with no writer does not wait) and checked
// with fstat before any read.
func ReadFile(name string, limit int64) ([]byte, error) {
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Name: name, Mode: st.Mode()}
	}
	if st.Size() > limit {
		return nil, &LimitError{Name: name, Limit: limit}
	}
	// The size is a hint: the file may grow while it is read.
	return readAll(f, name, limit, st.Size())
}

// ReadAll reads r, named name in errors (such as "standard input"), at
// most limit bytes.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	return readAll(r, name, limit, 0)
}

func readAll(r io.Reader, name string, limit, hint int64) ([]byte, error) {
	buf := make([]byte, 0, min(hint, limit)+1)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &LimitError{Name: name, Limit: limit}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// CheckTree checks a folder that a library reads by itself (a Helm chart,
// a kustomize folder) as ReadFile would check each of its files: every
// file under root, symbolic links followed, must be regular, and together
// they must hold at most limit bytes. A root that is a file is checked as
// one file.
func CheckTree(root string, limit int64) error {
	var total int64
	var walk func(dir string, depth int) error
	walk = func(name string, depth int) error {
		st, err := os.Stat(name)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if depth > 64 {
				return fmt.Errorf("%s: folders nested more than 64 deep", name)
			}
			entries, err := os.ReadDir(name)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := walk(filepath.Join(name, e.Name()), depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if !st.Mode().IsRegular() {
			return &NotRegularError{Name: name, Mode: st.Mode()}
		}
		total += st.Size()
		if total > limit {
			return &LimitError{Name: root, Limit: limit}
		}
		return nil
	}
	return walk(root, 0)
}
