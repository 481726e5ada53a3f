// Command buildcharts builds the simulated cluster's chart repository:
// Rook's rook-ceph chart from Rook's module folder and the project's
// ceph-csi stand-ins, packaged with internal/chartrepo into OUT_DIR.
// internal/testbin/build.sh runs it (make testbin) into bin/testbin/charts.
//
//	go run ./internal/chartrepo/buildcharts -rook-dir DIR -rook-version VERSION OUT_DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/stretch-dev/kubectl-stretch/internal/chartrepo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "buildcharts:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("buildcharts", flag.ContinueOnError)
	rookDir := fs.String("rook-dir", "", "Rook's module folder (go mod download -json github.com/rook/rook@VERSION)")
	rookVersion := fs.String("rook-version", "", "the Rook version, stamped on the rook-ceph chart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rookDir == "" || *rookVersion == "" || fs.NArg() != 1 {
		return fmt.Errorf("usage: buildcharts -rook-dir DIR -rook-version VERSION OUT_DIR")
	}
	charts, err := chartrepo.Charts(*rookDir, *rookVersion)
	if err != nil {
		return err
	}
	entries, err := chartrepo.Build(fs.Arg(0), charts)
	if err != nil {
		return err
	}
	for _, e := range entries {
		fmt.Printf("%s %s %s sha256:%s\n", e.Name, e.Version, e.File, e.Digest)
	}
	return nil
}
