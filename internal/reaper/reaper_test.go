//go:build linux

package reaper

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSignal starts a shell that starts a sleep and waits: Signal reaches
// both (the grandchild too) in the session, and in the process group; a
// child in a session of its own is left alone.
func TestSignal(t *testing.T) {
	Adopt()
	sh := exec.Command("sh", "-c", "sleep 1000 & wait")
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	detached := exec.Command("sleep", "1000")
	detached.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := detached.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = detached.Process.Kill()
		_ = detached.Wait()
	}()
	// Wait until the shell has started its sleep (a minute at most: the
	// test fails rather than hangs).
	deadline := time.Now().Add(time.Minute)
	for len(children(sh.Process.Pid)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the shell started no child within a minute")
		}
		if _, _, ok := ids(sh.Process.Pid); !ok {
			t.Fatal("the shell ended")
		}
		time.Sleep(time.Millisecond)
	}
	sleep := children(sh.Process.Pid)[0]
	if n := Signal(syscall.SIGKILL, Group); n != 2 {
		t.Errorf("Signal reached %d processes; want the shell and its sleep", n)
	}
	if err := sh.Wait(); err == nil {
		t.Error("the shell was not killed")
	}
	for {
		if _, _, ok := ids(sleep); !ok {
			break // gone or a zombie
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(sleep, syscall.SIGKILL)
			t.Fatal("the shell's sleep was not killed")
		}
		time.Sleep(time.Millisecond)
	}
	if _, _, ok := ids(detached.Process.Pid); !ok {
		t.Error("the process in its own session was killed")
	}
}
