package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// file is a short constructor for test files.
func file(path, layer, data string) File {
	return File{Path: path, Layer: layer, Data: []byte(data)}
}

// mustNew builds a bundle or fails the test.
func mustNew(t *testing.T, files ...File) *Bundle {
	t.Helper()
	b, err := New(files)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// mustWrite writes a bundle or fails the test.
func mustWrite(t *testing.T, dir string, b *Bundle) *Result {
	t.Helper()
	res, err := Write(dir, b)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return res
}

// writeFiles creates files (path -> content) below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(files[p]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readFile returns the content of a file below dir.
func readFile(t *testing.T, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// tree lists dir: "dir/" for directories, "path = content" for files and
// "path -> target" for symbolic links, sorted.
func tree(t *testing.T, dir string) string {
	t.Helper()
	return walk(t, dir, func(rel string, d fs.DirEntry, info fs.FileInfo, data []byte, target string) string {
		switch {
		case d.IsDir():
			return rel + "/"
		case target != "":
			return rel + " -> " + target
		default:
			return fmt.Sprintf("%s = %q", rel, data)
		}
	})
}

// snapshot describes every entry below dir with its type, mode,
// modification time and content hash, to prove that dir did not change.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	return walk(t, dir, func(rel string, d fs.DirEntry, info fs.FileInfo, data []byte, target string) string {
		sum := sha256.Sum256(data)
		return fmt.Sprintf("%s %v %s %s %s", rel, info.Mode(), info.ModTime().Format(time.RFC3339Nano), hex.EncodeToString(sum[:8]), target)
	})
}

// walk formats every entry below dir (not dir itself) with describe and
// returns the lines sorted.
func walk(t *testing.T, dir string, describe func(rel string, d fs.DirEntry, info fs.FileInfo, data []byte, target string) string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		var data []byte
		var target string
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			if target, err = os.Readlink(name); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if data, err = os.ReadFile(name); err != nil {
				return err
			}
		}
		lines = append(lines, describe(rel, d, info, data, target))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// lines joins its arguments with newlines, for expected trees.
func lines(s ...string) string {
	return strings.Join(s, "\n")
}

// sha returns the hex SHA-256 of s.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// manifestText builds the expected manifest from "layer path content"
// triples.
func manifestText(entries ...[3]string) string {
	var sb strings.Builder
	sb.WriteString(ManifestHeader + "\n")
	for _, e := range entries {
		fmt.Fprintf(&sb, "%s  %s  %s\n", sha(e[2]), e[0], e[1])
	}
	return sb.String()
}

// ageFiles sets the modification time of every entry below dir to a fixed
// time in the past, so that a rewrite would be visible. Symbolic links
// are left alone.
func ageFiles(t *testing.T, dir string) {
	t.Helper()
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // Chtimes would follow the link
		}
		return os.Chtimes(name, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// diffStrings fails the test when got != want, showing both.
func diffStrings(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", what, got, want)
	}
}
