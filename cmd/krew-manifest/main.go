// Command krew-manifest writes krew.yaml for the release archives in a
// dist folder. `make dist` runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/stretch-dev/kubectl-stretch/internal/krew"
)

func main() {
	version := flag.String("version", "", "release version, with a leading v")
	dist := flag.String("dist", "dist", "folder holding the release archives")
	out := flag.String("o", "krew.yaml", "manifest to write")
	flag.Parse()
	if err := run(*version, *dist, *out); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(version, dist, out string) error {
	p, err := krew.Manifest(version, dist)
	if err != nil {
		return fmt.Errorf("krew manifest: %w", err)
	}
	data, err := p.Encode()
	if err != nil {
		return fmt.Errorf("encode krew manifest: %w", err)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
