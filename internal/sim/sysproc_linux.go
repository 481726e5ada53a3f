package sim

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// isolate runs cmd in its own process group, so that stopping it also stops
// anything it started, and asks the kernel to kill it when the process that
// started it dies (a test binary that panics or times out leaves nothing
// behind).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// detach runs cmd in a session of its own (which is also its own process
// group), with no parent-death signal: it outlives the program that started
// it and does not get the terminal's signals.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// signalGroup sends sig to the process group of pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

// procStat returns the state letter and the start time (clock ticks after
// boot) of pid from /proc/<pid>/stat.
func procStat(pid int) (state byte, start uint64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	return fields[0][0], start, nil
}

// startTime returns when pid started, in clock ticks after boot, to tell it
// from a later process that reuses the PID; 0 when unknown.
func startTime(pid int) uint64 {
	_, start, err := procStat(pid)
	if err != nil {
		return 0
	}
	return start
}

// zombie reports whether pid has exited but was not reaped yet (a process
// whose parent exited is reaped by init, which may be slow or absent in a
// container).
func zombie(pid int) bool {
	state, _, err := procStat(pid)
	return err == nil && state == 'Z'
}
