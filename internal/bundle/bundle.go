package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// StateDir is the directory, relative to the output directory, where render
// keeps its own state. Bundle files may not live under it.
const StateDir = ".stretch"

// maxNameLen is the longest file name, in bytes, that Linux, macOS and
// Windows file systems accept (NAME_MAX). A longer name would fail with
// ENAMETOOLONG half-way through a Write; it is refused before.
const maxNameLen = 255

// maxPathLen is the longest path, in bytes, that Write accepts for a file
// on disk, the output directory included (PATH_MAX is 4096 on Linux,
// terminating NUL included).
const maxPathLen = 4095

// File is one rendered file.
type File struct {
	// Path is the file's location relative to the output directory:
	// slash-separated, clean, relative, without ".." and not under
	// StateDir or a .git directory.
	Path string
	// Layer names the generator that produced the file, such as "storage".
	// It is non-empty and made of letters, digits, '.', '_' and '-'.
	Layer string
	// Data is the file's content.
	Data []byte
}

// Bundle is the whole output of a render: its files, sorted by path.
// Build one with New.
type Bundle struct {
	// Files holds the rendered files sorted by Path, without duplicates.
	Files []File
}

// New validates files and returns them as a Bundle sorted by path. It
// reports every invalid path or layer, every duplicate path, and every file
// whose path is also a parent directory of another file.
func New(files []File) (*Bundle, error) {
	sorted := slices.Clone(files)
	slices.SortStableFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	var errs []error
	var paths []string
	for _, f := range sorted {
		if err := validatePath(f.Path); err != nil {
			errs = append(errs, err)
		} else {
			paths = append(paths, f.Path)
		}
		if err := validateLayer(f.Layer); err != nil {
			errs = append(errs, fmt.Errorf("file %q: %w", f.Path, err))
		}
	}
	errs = append(errs, checkPathSet(paths)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid bundle: %w", errors.Join(errs...))
	}
	return &Bundle{Files: sorted}, nil
}

// Manifest returns the manifest that describes b: one entry per file with
// its layer and the SHA-256 of its content.
func (b *Bundle) Manifest() *Manifest {
	m := &Manifest{Entries: make([]ManifestEntry, len(b.Files))}
	for i, f := range b.Files {
		m.Entries[i] = ManifestEntry{Path: f.Path, Layer: f.Layer, SHA256: hashBytes(f.Data)}
	}
	return m
}

// validatePath checks that p is a path a bundle may own.
func validatePath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("path %q: contains a control character", p)
	case strings.Contains(p, `\`):
		return fmt.Errorf("path %q: contains a backslash; use forward slashes", p)
	case path.IsAbs(p):
		return fmt.Errorf("path %q: must be relative", p)
	case path.Clean(p) != p || p == ".":
		return fmt.Errorf("path %q: must be clean (path.Clean gives %q)", p, path.Clean(p))
	}
	for elem := range strings.SplitSeq(p, "/") {
		if len(elem) > maxNameLen {
			return fmt.Errorf("path %q: the name %q is %d bytes long; file systems allow at most %d", p, elem, len(elem), maxNameLen)
		}
		switch elem {
		case "..":
			return fmt.Errorf("path %q: must not contain \"..\"", p)
		case ".git":
			return fmt.Errorf("path %q: must not be inside a .git directory", p)
		}
	}
	if p == StateDir || strings.HasPrefix(p, StateDir+"/") {
		return fmt.Errorf("path %q: %s/ is reserved for kubectl stretch's own state", p, StateDir)
	}
	return nil
}

// validateLayer checks that l can be written in a manifest line.
func validateLayer(l string) error {
	if l == "" {
		return errors.New("empty layer")
	}
	for _, r := range l {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("layer %q: only letters, digits, '.', '_' and '-' are allowed", l)
		}
	}
	return nil
}

// checkPathSet reports duplicates and paths that are also parent
// directories of other paths. paths must be sorted.
func checkPathSet(paths []string) []error {
	var errs []error
	set := make(map[string]bool, len(paths))
	unique := make([]string, 0, len(paths))
	for i, p := range paths {
		if i > 0 && paths[i-1] == p {
			if i == 1 || paths[i-2] != p {
				errs = append(errs, fmt.Errorf("path %q: duplicate", p))
			}
			continue
		}
		set[p] = true
		unique = append(unique, p)
	}
	for _, p := range unique {
		for _, dir := range parentDirs(p) {
			if set[dir] {
				errs = append(errs, fmt.Errorf("path %q: its parent %q is also a file", p, dir))
				break
			}
		}
	}
	return errs
}

// parentDirs returns the parent directories of the slash path p, deepest
// first, without "." (or "/" for an absolute path).
func parentDirs(p string) []string {
	var dirs []string
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	return dirs
}

// hashBytes returns the lower-case hex SHA-256 of data.
func hashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
