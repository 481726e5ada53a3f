package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockPath is the file, relative to the output directory, that render
// locks (flock(2)) while it writes, checks or commits the directory.
const LockPath = StateDir + "/lock"

// stateIgnorePath is a .gitignore in the state directory that keeps
// render's transient state (the lock, a journal, temporary files) out of
// Git: only the manifest belongs in a commit. It ignores itself too.
const stateIgnorePath = StateDir + "/.gitignore"

// stateIgnore is the content of stateIgnorePath.
const stateIgnore = "# kubectl stretch's own state: only the manifest belongs in Git\n*\n!manifest\n"

// LockOptions says how LockDir waits for a lock another process holds.
type LockOptions struct {
	// Exclusive asks for the exclusive lock that Write and Commit need;
	// otherwise the lock is shared, as Check needs.
	Exclusive bool
	// Timeout is how long to wait; 0 means do not wait at all.
	Timeout time.Duration
	// NoticeAfter is how long to wait before telling Notice that the lock
	// is held by another process.
	NoticeAfter time.Duration
	// Notice receives the waiting message; nil means no message.
	Notice io.Writer
}

// DirLock is a lock on an output directory, released by Unlock.
type DirLock struct {
	f         *os.File
	exclusive bool
}

// lockPoll is how often LockDir tries again while another process holds
// the lock.
const lockPoll = 50 * time.Millisecond

// LockDir locks the output directory dir with flock(2) on LockPath, so
// that two renders never write into one directory at once and a check
// never reads a half-written one. An exclusive lock creates dir and its
// state directory when they do not exist, with a .gitignore that keeps
// everything there but the manifest out of Git, and records this process's id
// in the lock file, for the message of a process that waits. A shared
// lock on a directory without a state directory locks nothing: there is
// no bundle to protect yet.
//
// While another process holds a conflicting lock, LockDir tries again
// until opts.Timeout has passed or ctx is done, telling opts.Notice once
// after opts.NoticeAfter. The lock is released by Unlock or when the
// process ends, however it ends.
func LockDir(ctx context.Context, dir string, opts LockOptions) (*DirLock, error) {
	l, err := lockDir(ctx, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return l, nil
}

// lockDir does the work of LockDir.
func lockDir(ctx context.Context, dir string, opts LockOptions) (*DirLock, error) {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("output directory %s is not a directory", dir)
	}
	name := filepath.Join(dir, filepath.FromSlash(LockPath))
	how := syscall.LOCK_SH
	if opts.Exclusive {
		how = syscall.LOCK_EX
		if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			return nil, err
		}
		if err := ensureStateIgnore(dir); err != nil {
			return nil, err
		}
	} else if info, err := os.Stat(filepath.Dir(name)); isNotExist(err) || (err == nil && !info.IsDir()) {
		return &DirLock{}, nil
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil && !opts.Exclusive {
		// A check of a folder this process cannot write (a read-only
		// checkout in CI): lock the file if it is there; if it cannot be
		// opened, no render can write there either.
		f, err = os.Open(name)
		if err != nil {
			return &DirLock{}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	start := time.Now()
	noticed := false
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		waited := time.Since(start)
		if waited >= opts.Timeout {
			err := fmt.Errorf("%s; gave up after %v", holder(f, dir), opts.Timeout)
			f.Close()
			return nil, err
		}
		if !noticed && waited >= opts.NoticeAfter && opts.Notice != nil {
			noticed = true
			fmt.Fprintf(opts.Notice, "waiting for the lock on %s held by %s (another kubectl stretch render or check)\n", dir, holderID(f))
		}
		select {
		case <-ctx.Done():
			err := fmt.Errorf("%s; stopped waiting: %w", holder(f, dir), context.Cause(ctx))
			f.Close()
			return nil, err
		case <-time.After(min(lockPoll, max(opts.Timeout-waited, time.Millisecond))):
		}
	}
	if opts.Exclusive {
		// The id is only a hint for waiting processes: failing to record
		// it does not matter.
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
	}
	return &DirLock{f: f, exclusive: opts.Exclusive}, nil
}

// ensureStateIgnore creates stateIgnorePath when it does not exist.
func ensureStateIgnore(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(stateIgnorePath)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString(stateIgnore)
	return errors.Join(err, f.Close())
}

// holder describes who holds the lock on dir, for an error.
func holder(f *os.File, dir string) string {
	return fmt.Sprintf("%s is locked by %s (another kubectl stretch render or check)", dir, holderID(f))
}

// holderID returns "pid N" from the lock file, or a vaguer phrase when the
// holder recorded no id (a shared lock, or a holder that has just taken
// it).
func holderID(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
		return "pid " + strconv.Itoa(pid)
	}
	return "another process"
}

// Unlock releases the lock. It is safe to call on a nil or released lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	if l.exclusive {
		// Forget this process's id, so that a later holder of a shared
		// lock is not mistaken for it.
		_ = l.f.Truncate(0)
	}
	// Release the flock explicitly: closing releases it only with the last
	// descriptor, and a child forked by another goroutine holds a copy
	// until its exec closes it.
	err := errors.Join(syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN), l.f.Close())
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
