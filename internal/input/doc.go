// Package input reads what a user hands the command: files and standard
// input, each with a cap on its size, and only from regular files where a
// file is meant. A FIFO, a device such as /dev/zero or a socket named as
// a topology, a mixin or a manifest is refused by name instead of blocking
// or reading forever, and a file over its cap is refused by name and
// limit before it is held in memory.
package input
