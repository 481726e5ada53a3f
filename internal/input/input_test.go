//go:build unix

package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 2048)), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		limit int64
		want  string
		err   string
	}{
		{small, 3, "abc", ""},
		{link, 1024, "abc", ""},
		{small, 2, "", small + ": larger than the 2 B limit"},
		{big, 1024, "", big + ": larger than the 1 KiB limit"},
		{fifo, 1024, "", fifo + ": not a regular file (a named pipe)"},
		{dir, 1024, "", dir + ": not a regular file (a folder)"},
		{"/dev/zero", 1 << 20, "", "/dev/zero: not a regular file (a character device)"},
		{filepath.Join(dir, "missing.yaml"), 1024, "", "no such file or directory"},
	} {
		got, err := ReadFile(tc.name, tc.limit)
		if tc.err == "" {
			if err != nil || string(got) != tc.want {
				t.Errorf("ReadFile(%s) = %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ReadFile(%s) error = %v; want %q", tc.name, err, tc.err)
		}
	}
}

func TestReadAll(t *testing.T) {
	got, err := ReadAll(strings.NewReader("hello"), "standard input", 5)
	if err != nil || string(got) != "hello" {
		t.Errorf("ReadAll = %q, %v", got, err)
	}
	_, err = ReadAll(strings.NewReader("hello!"), "standard input", 5)
	var le *LimitError
	if !errors.As(err, &le) || err.Error() != "standard input: larger than the 5 B limit" {
		t.Errorf("ReadAll over the limit: %v", err)
	}
	// An endless stream stops at the limit.
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip(err)
	}
	defer zero.Close()
	if _, err := ReadAll(zero, "/dev/zero", 1<<20); !errors.As(err, &le) {
		t.Errorf("ReadAll(/dev/zero) = %v; want a LimitError", err)
	}
}

func TestCheckTree(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(strings.Repeat("x", 600)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "a.yaml"), []byte(strings.Repeat("x", 600)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckTree(dir, 1200); err != nil {
		t.Errorf("CheckTree: %v", err)
	}
	if err := CheckTree(dir, 1000); err == nil || err.Error() != dir+": larger than the 1000 B limit" {
		t.Errorf("CheckTree over the limit: %v", err)
	}
	fifo := filepath.Join(dir, "templates", "b.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckTree(dir, 1<<20); err == nil || err.Error() != fifo+": not a regular file (a named pipe)" {
		t.Errorf("CheckTree with a FIFO: %v", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 64 << 20: "64 MiB", 1 << 30: "1 GiB", 1500: "1500 B", 2048: "2 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %s; want %s", n, got, want)
		}
	}
}
