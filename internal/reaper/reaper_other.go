//go:build !linux

package reaper

import "syscall"

// Adopt does nothing outside Linux.
func Adopt() {}

// Scope says which descendants Signal reaches.
type Scope int

// The scopes of Signal.
const (
	Group Scope = iota
	Session
)

// Signal does nothing outside Linux and returns 0.
func Signal(syscall.Signal, Scope) int { return 0 }
