package bundle

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a child process that renders a bundle, so
// that tests can kill a real render, limit its file size, give it a umask
// or run two at once. helperEnv selects the mode; the other variables
// configure it.
const (
	helperEnv     = "STRETCH_BUNDLE_HELPER"  // "write": render one bundle
	helperDir     = "STRETCH_BUNDLE_DIR"     // output directory
	helperVariant = "STRETCH_BUNDLE_VARIANT" // bundle: "small-a", "big-b", ...
	helperKillAt  = "STRETCH_BUNDLE_KILL_AT" // SIGKILL itself before this step (1-based)
	helperLock    = "STRETCH_BUNDLE_LOCK"    // "1": hold LockDir's exclusive lock
	helperFsize   = "STRETCH_BUNDLE_FSIZE"   // RLIMIT_FSIZE in bytes
	helperUmask   = "STRETCH_BUNDLE_UMASK"   // octal umask
	helperReady   = "STRETCH_BUNDLE_READY"   // "1": print "ready" just before writing
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "write" {
		os.Exit(helperWrite())
	}
	os.Exit(m.Run())
}

// helperWrite is the child process: it renders the bundle named by
// helperVariant into helperDir, prints "steps=N" (the number of changes it
// made to the disk) and returns its exit code.
func helperWrite() int {
	dir := os.Getenv(helperDir)
	b, err := variantBundle(os.Getenv(helperVariant))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if s := os.Getenv(helperUmask); s != "" {
		mask, err := strconv.ParseUint(s, 8, 32)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		syscall.Umask(int(mask))
	}
	if s := os.Getenv(helperFsize); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	killAt := 0
	if s := os.Getenv(helperKillAt); s != "" {
		if killAt, err = strconv.Atoi(s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	if os.Getenv(helperLock) == "1" {
		l, err := LockDir(context.Background(), dir, LockOptions{Exclusive: true, Timeout: time.Minute})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer l.Unlock()
	}
	steps := 0
	ops := osOps()
	ops.step = func(op, name string) error {
		steps++
		if steps == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}
	if os.Getenv(helperReady) == "1" {
		fmt.Println("ready")
	}
	if _, err := write(dir, b, ops); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("steps=%d\n", steps)
	return 0
}

// child is a helper process started by startChild.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// startChild starts the test binary as a helper that renders variant into
// dir, with extra environment variables.
func startChild(t *testing.T, dir, variant string, env ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(os.Environ(), helperEnv+"=write", helperDir+"="+dir, helperVariant+"="+variant)
	c.cmd.Env = append(c.cmd.Env, env...)
	c.cmd.Stdout = &c.stdout
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// startChildReady starts a child as startChild does and returns once it
// is about to write.
func startChildReady(t *testing.T, dir, variant string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(os.Environ(), helperEnv+"=write", helperDir+"="+dir, helperVariant+"="+variant, helperReady+"=1")
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v; want ready", line, err)
	}
	go io.Copy(&c.stdout, r) // the rest, until the child ends
	return c
}

// wait waits for the child and reports whether SIGKILL ended it; it fails
// the test when the child failed in another way.
func (c *child) wait(t *testing.T) (killed bool) {
	t.Helper()
	err := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return true
	}
	if err != nil {
		t.Fatalf("child %v: %v\n%s", c.cmd.Env[len(c.cmd.Env)-1], err, c.stderr.String())
	}
	return false
}

// steps returns the number of steps a child that finished reported.
func (c *child) steps(t *testing.T) int {
	t.Helper()
	s, ok := strings.CutPrefix(strings.TrimSpace(c.stdout.String()), "steps=")
	n, err := strconv.Atoi(s)
	if !ok || err != nil {
		t.Fatalf("child printed %q, want steps=N", c.stdout.String())
	}
	return n
}

// variantBundle returns one of the test bundles: "small-a", "small-b",
// "big-a" or "big-b". The a and b bundles of a size share most paths with
// different contents for a third of them, each has paths the other lacks
// (in directories of their own and next to shared ones), and a file in a
// holds the place of a directory in b.
func variantBundle(name string) (*Bundle, error) {
	size, v, ok := strings.Cut(name, "-")
	n := map[string]int{"small": 12, "big": 120}[size]
	if !ok || n == 0 || (v != "a" && v != "b") {
		return nil, fmt.Errorf("unknown bundle variant %q", name)
	}
	var files []File
	for i := range n {
		content := fmt.Sprintf("kind: ConfigMap\nmetadata:\n  name: cm-%d\n", i)
		if i%3 != 0 {
			content += "data:\n  variant: " + v + "\n"
		}
		if i%40 == 7 {
			// A few large files, so that a kill often lands in a write.
			content += "  blob: " + strings.Repeat(v, 256<<10) + "\n"
		}
		files = append(files, File{Path: fmt.Sprintf("layer%d/dir%d/cm-%03d.yaml", i%4, i%7, i), Layer: fmt.Sprintf("layer%d", i%4), Data: []byte(content)})
	}
	for i := range n / 4 {
		files = append(files,
			File{Path: fmt.Sprintf("only-%s/x-%03d.yaml", v, i), Layer: "only", Data: []byte("only " + v + "\n")},
			File{Path: fmt.Sprintf("layer1/dir%d/only-%s-%03d.yaml", i%7, v, i), Layer: "layer1", Data: []byte("only " + v + "\n")},
		)
	}
	if v == "a" {
		files = append(files, File{Path: "swap/node", Layer: "swap", Data: []byte("a file in a\n")})
	} else {
		files = append(files, File{Path: "swap/node/child.yaml", Layer: "swap", Data: []byte("a file below a directory in b\n")})
	}
	return New(files)
}

// userFiles are the user's own files in the output directory of the kill
// tests, next to and inside the directories render writes and prunes.
var userFiles = map[string]string{
	"README.md":           "# my clusters\n",
	"layer1/dir3/mine.md": "mine\n",
	"only-a/keep.txt":     "kept through everything\n",
}

// assertConsistent fails the test unless dir holds exactly the bundle b
// as a completed Write leaves it: the manifest is b's, every file of b has
// its content, the user's files are intact, nothing else is there (no
// journal, no temporary file, no stale file, no empty directory render
// made) and Check agrees.
func assertConsistent(t *testing.T, dir string, b *Bundle, user map[string]string) {
	t.Helper()
	want := map[string]string{ManifestPath: string(b.Manifest().Encode())}
	for _, f := range b.Files {
		want[f.Path] = string(f.Data)
	}
	for p, c := range user {
		want[p] = c
	}
	got := map[string]string{}
	var emptyDirs []string
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, name)
		rel = filepath.ToSlash(rel)
		if rel == LockPath || rel == stateIgnorePath {
			return nil
		}
		if d.IsDir() {
			entries, err := os.ReadDir(name)
			if err == nil && len(entries) == 0 {
				emptyDirs = append(emptyDirs, rel)
			}
			return err
		}
		data, err := os.ReadFile(name)
		got[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[p]; !ok {
			t.Errorf("%s is missing", p)
		} else if g != want[p] {
			t.Errorf("%s has the wrong content (%d bytes, want %d)", p, len(g), len(want[p]))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			t.Errorf("%s should not be there", p)
		}
	}
	if len(emptyDirs) > 0 {
		t.Errorf("empty directories left behind: %q", emptyDirs)
	}
	d, err := Check(dir, b)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if !d.Empty() {
		t.Errorf("Check reports drift after a completed write:\n%s", report(t, d))
	}
}

// killTestDir returns an empty directory for a kill test: on a tmpfs
// when there is one, since those tests run hundreds of renders and a
// killed process loses no data that fsync would have saved anyway.
func killTestDir(t *testing.T) string {
	t.Helper()
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "stretch-kill-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
