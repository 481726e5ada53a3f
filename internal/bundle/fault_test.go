package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// countSteps returns the operations, in order, of a write from bundle
// from to bundle to, in a scratch directory.
func countSteps(t *testing.T, from, to *Bundle) []string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, userFiles)
	mustWrite(t, dir, from)
	var ops []string
	o := osOps()
	o.step = func(op, name string) error {
		ops = append(ops, op)
		return nil
	}
	if _, err := write(dir, to, o); err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestWriteFaultAtEveryStep makes each change of a render fail in turn,
// with every error that change can meet (a full disk, the file-size limit,
// a read-only folder, an I/O error), and recovers with a render of either
// bundle.
func TestWriteFaultAtEveryStep(t *testing.T) {
	t.Parallel()
	faults := map[string][]syscall.Errno{
		"mkdir":  {syscall.ENOSPC, syscall.EROFS},
		"create": {syscall.ENOSPC, syscall.EROFS, syscall.EACCES},
		"write":  {syscall.ENOSPC, syscall.EFBIG},
		"sync":   {syscall.EIO},
		"rename": {syscall.EROFS, syscall.EIO},
		"remove": {syscall.EROFS, syscall.EACCES},
	}
	a, b := mustVariant(t, "small-a"), mustVariant(t, "small-b")
	total := 0
	for _, dirn := range []struct {
		name     string
		from, to *Bundle
	}{{"a to b", a, b}, {"b to a", b, a}} {
		steps := countSteps(t, dirn.from, dirn.to)
		for k, op := range steps {
			for i, errno := range faults[op] {
				total++
				t.Run(fmt.Sprintf("%s/step %d %s %s", dirn.name, k+1, op, errno), func(t *testing.T) {
					t.Parallel()
					dir := killTestDir(t)
					writeFiles(t, dir, userFiles)
					mustWrite(t, dir, dirn.from)
					n := 0
					o := osOps()
					o.step = func(string, string) error {
						n++
						if n == k+1 {
							return errno
						}
						return nil
					}
					_, err := write(dir, dirn.to, o)
					if !errors.Is(err, errno) {
						t.Fatalf("write: %v, want an error wrapping %v", err, errno)
					}
					if !strings.HasSuffix(err.Error(), "(the next render recovers)") {
						t.Errorf("error does not say that the next render recovers: %v", err)
					}
					if left := tempFiles(t, dir); len(left) > 0 {
						t.Errorf("temporary files left behind: %q", left)
					}
					assertRecoverable(t, dir, dirn.from, dirn.to)
					next := []*Bundle{dirn.to, dirn.from}[i%2]
					mustWrite(t, dir, next)
					assertConsistent(t, dir, next, userFiles)
				})
			}
		}
	}
	t.Logf("%d injected faults", total)
}

// TestWriteFileSizeLimit runs a real render under a file-size limit
// (ulimit -f): Go ignores SIGXFSZ, so the write fails with EFBIG, which
// render reports; the next render without the limit recovers.
func TestWriteFileSizeLimit(t *testing.T) {
	t.Parallel()
	dir := killTestDir(t)
	writeFiles(t, dir, userFiles)
	a, b := mustVariant(t, "big-a"), mustVariant(t, "big-b")
	mustWrite(t, dir, a)
	c := startChild(t, dir, "big-b", helperFsize+"="+strconv.Itoa(64<<10))
	err := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the render died of %v", ws.Signal())
	}
	if c.cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("render under a 64 KiB file-size limit: %v, want exit status 1\n%s", err, c.stderr.String())
	}
	if msg := c.stderr.String(); !strings.Contains(msg, ": file too large (the next render recovers)") {
		t.Errorf("message does not name the file-size limit: %s", msg)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
	assertRecoverable(t, dir, a, b)
	mustWrite(t, dir, b)
	assertConsistent(t, dir, b, userFiles)
}

// TestWriteRemovesLeftoverTempFiles: temporary files that a killed render
// of an older version left (no journal) are reported by Check and removed
// by the next render.
func TestWriteRemovesLeftoverTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := mustVariant(t, "small-a")
	mustWrite(t, dir, a)
	writeFiles(t, dir, map[string]string{
		".stretch/.stretch-tmp-123456789012":           "half a manifest",
		"layer0/dir0/.stretch-tmp-abcdefabcdef":        "half a file",
		"only-a/.stretch-tmp-000000000000":             "x",
		"user-folder-render-never-uses/.stretch-tmp-1": "not render's folder",
	})
	d, err := Check(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	diffStrings(t, "check report", report(t, d), lines(
		"leftover  .stretch/.stretch-tmp-123456789012 (temporary file of an interrupted render; render removes it)",
		"leftover  layer0/dir0/.stretch-tmp-abcdefabcdef (temporary file of an interrupted render; render removes it)",
		"leftover  only-a/.stretch-tmp-000000000000 (temporary file of an interrupted render; render removes it)",
		"",
	))
	mustWrite(t, dir, a)
	assertConsistent(t, dir, a, map[string]string{"user-folder-render-never-uses/.stretch-tmp-1": "not render's folder"})
}

// TestWriteRefusesLongNames: a name longer than the file system allows
// (ENAMETOOLONG half-way through a render) is refused before anything is
// written.
func TestWriteRefusesLongNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t, file("a.yaml", "l", "a\n")))
	ageFiles(t, dir)
	before := snapshot(t, dir)

	long := strings.Repeat("n", 256) + ".yaml"
	_, err := Write(dir, &Bundle{Files: []File{file("a.yaml", "l", "a2\n"), file("w/"+long, "l", "x\n")}})
	want := fmt.Sprintf(`write bundle to %s: invalid bundle: path "w/%s": the name %q is 261 bytes long; file systems allow at most 255`, dir, long, long)
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	// Each name fits, but the whole path does not.
	deep := strings.Repeat(strings.Repeat("d", 200)+"/", 21) + "x.yaml"
	_, err = Write(dir, &Bundle{Files: []File{file("a.yaml", "l", "a2\n"), file(deep, "l", "x\n")}})
	if err == nil || !strings.Contains(err.Error(), "names too long: path \"dddd") || !strings.Contains(err.Error(), "file systems allow at most 4095") {
		t.Errorf("error for a path too long: %v", err)
	}
	diffStrings(t, "snapshot after the refused writes", snapshot(t, dir), before)
}

// TestCheckReportsInterruptedRender: after a render that failed half-way,
// Check says so for the old and the new bundle, even where every file
// already has the new content.
func TestCheckReportsInterruptedRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := mustNew(t, file("x.yaml", "l", "x1\n"), file("y.yaml", "l", "y1\n"))
	b := mustNew(t, file("x.yaml", "l", "x2\n"), file("y.yaml", "l", "y1\n"))
	mustWrite(t, dir, a)
	o := osOps()
	o.rename = func(oldpath, newpath string) error {
		if filepath.Base(newpath) == "manifest" {
			return syscall.ENOSPC
		}
		return os.Rename(oldpath, newpath)
	}
	if _, err := write(dir, b, o); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write: %v", err)
	}
	d, err := Check(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	diffStrings(t, "check report of the new bundle", report(t, d),
		"interrupted  a render was interrupted (.stretch/journal exists): the folder may mix two bundles; render recovers it\n"+
			"manifest  .stretch/manifest is out of date\n")
	mustWrite(t, dir, b)
	if d, err := Check(dir, b); err != nil || !d.Empty() {
		t.Errorf("Check after the recovering render: %+v, %v", d, err)
	}
}

// umask returns the process's umask, read without changing it.
func umask(t *testing.T) fs.FileMode {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("cannot read the umask: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				t.Fatal(err)
			}
			return fs.FileMode(m)
		}
	}
	t.Skip("no Umask line in /proc/self/status")
	return 0
}

// modeOf returns the permission bits of a path below dir.
func modeOf(t *testing.T, dir, p string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// TestWriteModesFollowUmask renders in a process whose umask is 077: the
// files and folders render creates are private, as any file the user
// creates would be.
func TestWriteModesFollowUmask(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startChild(t, filepath.Join(dir, "out"), "small-a", helperUmask+"=077")
	if c.wait(t) {
		t.Fatal("child killed")
	}
	for p, want := range map[string]fs.FileMode{
		"out":                         0o700,
		"out/.stretch":                0o700,
		"out/.stretch/manifest":       0o600,
		"out/layer0":                  0o700,
		"out/layer0/dir0":             0o700,
		"out/layer0/dir0/cm-000.yaml": 0o600,
	} {
		if got := modeOf(t, dir, p); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
}

// TestWriteKeepsModeOfChangedFile: a file the user made private stays
// private when render changes it; new files follow the umask.
func TestWriteKeepsModeOfChangedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, dir, mustNew(t, file("secret.yaml", "l", "v1\n"), file("cm.yaml", "l", "v1\n")))
	if err := os.Chmod(filepath.Join(dir, "secret.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "cm.yaml"), 0o640); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, dir, mustNew(t, file("secret.yaml", "l", "v2\n"), file("cm.yaml", "l", "v2\n"), file("new.yaml", "l", "n\n")))
	want := 0o666 &^ umask(t)
	for p, m := range map[string]fs.FileMode{"secret.yaml": 0o600, "cm.yaml": 0o640, "new.yaml": want, ManifestPath: want} {
		if got := modeOf(t, dir, p); got != m {
			t.Errorf("%s: mode %v, want %v", p, got, m)
		}
	}
	if got := readFile(t, dir, "secret.yaml"); got != "v2\n" {
		t.Errorf("secret.yaml = %q", got)
	}
}

// TestLockDir: an exclusive lock keeps out every other lock; shared locks
// go together; a waiting process says who holds the lock, and gives up
// after its timeout or when its context ends.
func TestLockDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	ex, err := LockDir(ctx, dir, LockOptions{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	var notice bytes.Buffer
	_, err = LockDir(ctx, dir, LockOptions{Exclusive: true, Timeout: 300 * time.Millisecond, NoticeAfter: 50 * time.Millisecond, Notice: &notice})
	pid := strconv.Itoa(os.Getpid())
	want := fmt.Sprintf("lock %s: %s is locked by pid %s (another kubectl stretch render or check); gave up after 300ms", dir, dir, pid)
	if err == nil || err.Error() != want {
		t.Errorf("second exclusive lock:\n got %v\nwant %s", err, want)
	}
	diffStrings(t, "notice", notice.String(), fmt.Sprintf("waiting for the lock on %s held by pid %s (another kubectl stretch render or check)\n", dir, pid))
	if _, err := LockDir(ctx, dir, LockOptions{}); err == nil || !strings.Contains(err.Error(), "is locked by pid "+pid) {
		t.Errorf("shared lock while an exclusive one is held: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := LockDir(cctx, dir, LockOptions{Exclusive: true, Timeout: time.Hour}); !errors.Is(err, context.Canceled) {
		t.Errorf("lock with an ended context: %v", err)
	}
	// Released: the next one gets it at once, and shared locks share.
	if err := ex.Unlock(); err != nil {
		t.Fatal(err)
	}
	sh1, err := LockDir(ctx, dir, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sh2, err := LockDir(ctx, dir, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(ctx, dir, LockOptions{Exclusive: true}); err == nil || !strings.Contains(err.Error(), "is locked by another process") {
		t.Errorf("exclusive lock while shared ones are held: %v", err)
	}
	for _, l := range []*DirLock{sh1, sh2} {
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	// An output directory that is a file is named as such.
	notDir := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(notDir), map[string]string{"file": "x"})
	if _, err := LockDir(ctx, notDir, LockOptions{Exclusive: true}); err == nil || err.Error() != "lock "+notDir+": output directory "+notDir+" is not a directory" {
		t.Errorf("lock of a file: %v", err)
	}
	// A shared lock of a folder render never wrote creates nothing.
	empty := filepath.Join(t.TempDir(), "none")
	l, err := LockDir(ctx, empty, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	if _, err := os.Stat(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a shared lock created %s: %v", empty, err)
	}
}

// TestConcurrentRenders starts two real renders of different bundles into
// one folder at once, several times: both succeed, one after the other,
// and the folder holds exactly one of the bundles.
func TestConcurrentRenders(t *testing.T) {
	t.Parallel()
	a, b := mustVariant(t, "small-a"), mustVariant(t, "small-b")
	for i := range 5 {
		dir := killTestDir(t)
		writeFiles(t, dir, userFiles)
		if i%2 == 1 {
			mustWrite(t, dir, a)
		}
		ca := startChild(t, dir, "small-a", helperLock+"=1")
		cb := startChild(t, dir, "small-b", helperLock+"=1")
		if ca.wait(t) || cb.wait(t) {
			t.Fatal("a render was killed")
		}
		m, err := ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		winner := a
		if bytes.Equal(m.Encode(), b.Manifest().Encode()) {
			winner = b
		}
		assertConsistent(t, dir, winner, userFiles)
	}
}

// TestWriteAfterFailedRenderOfChangedTopology: a render that failed after
// writing its files but before its manifest, followed by the render of
// another topology that wants one of those paths with other content, and
// by --check. Without the journal the file was nobody's and the next
// render refused it, while --check of the failed bundle said up to date
// once the files were in place.
func TestWriteAfterFailedRenderOfChangedTopology(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := mustNew(t, file("x.yaml", "l", "x1\n"))
	b := mustNew(t, file("x.yaml", "l", "x1\n"), file("new.yaml", "l", "from b\n"))
	c := mustNew(t, file("x.yaml", "l", "x1\n"), file("new.yaml", "l", "from c\n"))
	mustWrite(t, dir, a)
	o := osOps()
	o.rename = func(oldpath, newpath string) error {
		if filepath.Base(newpath) == "manifest" {
			return syscall.EROFS
		}
		return os.Rename(oldpath, newpath)
	}
	if _, err := write(dir, b, o); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("write: %v", err)
	}
	if d, err := Check(dir, a); err != nil || d.Empty() {
		t.Errorf("Check of the old bundle after the failed render: %+v, %v; want drift", d, err)
	}
	if _, err := Write(dir, c); err != nil {
		t.Fatalf("the next render of another topology: %v", err)
	}
	if got := readFile(t, dir, "new.yaml"); got != "from c\n" {
		t.Errorf("new.yaml = %q", got)
	}
	if d, err := Check(dir, c); err != nil || !d.Empty() {
		t.Errorf("Check after the recovering render: %+v, %v", d, err)
	}
}
