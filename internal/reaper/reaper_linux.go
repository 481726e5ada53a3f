package reaper

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
const prSetChildSubreaper = 36

// Adopt makes this process the reaper of its orphaned descendants. It is
// best effort: a kernel that refuses leaves orphans to init, and Signal
// then reaches only the descendants whose parents are alive.
func Adopt() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// Scope says which descendants Signal reaches.
type Scope int

const (
	// Group is the descendants in this process's process group: the ones
	// a Ctrl-C at the terminal reaches too (credential plugins, git),
	// not those that run in a group of their own and are stopped by
	// their own code (the simulated cluster's processes).
	Group Scope = iota
	// Session is every descendant in this process's session.
	Session
)

// Signal sends sig to the descendants of this process in scope, parents
// before children, and returns how many it signalled.
func Signal(sig syscall.Signal, scope Scope) int {
	self := os.Getpid()
	pgid, sid, ok := ids(self)
	if !ok {
		return 0
	}
	n := 0
	seen := map[int]bool{self: true}
	// A process killed here leaves its children to this process (a
	// subreaper) before they can be listed under it: list a process's
	// children before signalling it, and look at this process's own
	// children again until a pass finds none it has not seen (at most
	// maxPasses, so that a process that forks without end cannot hold
	// this loop).
	for pass := 0; pass < maxPasses; pass++ {
		queue := slices.DeleteFunc(children(self), func(pid int) bool { return seen[pid] })
		if len(queue) == 0 {
			return n
		}
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			g, s, ok := ids(pid)
			if !ok || s != sid {
				continue // gone, or detached on purpose: leave its subtree alone
			}
			mine := scope == Session || g == pgid
			// Before a SIGKILL, stop the process, so that it forks no
			// child between this listing of its children and its death.
			if mine && sig == syscall.SIGKILL {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
			queue = append(queue, children(pid)...)
			if mine && syscall.Kill(pid, sig) == nil {
				n++
			}
		}
	}
	return n
}

// maxPasses bounds Signal's passes over this process's children.
const maxPasses = 8

// children lists the children of pid, from every thread's children file.
func children(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// ids returns the process group and session of pid from /proc/<pid>/stat;
// ok is false when pid is gone or a zombie.
func ids(pid int) (pgid, sid int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, false
	}
	// fields[0] is field 3 (state), fields[2] field 5 (pgrp), fields[3]
	// field 6 (session).
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 4 || fields[0] == "Z" || fields[0] == "X" {
		return 0, 0, false
	}
	pgid, err1 := strconv.Atoi(fields[2])
	sid, err2 := strconv.Atoi(fields[3])
	return pgid, sid, err1 == nil && err2 == nil
}
