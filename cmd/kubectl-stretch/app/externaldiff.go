package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
)

// ExternalDiffEnv names the program diff runs on the live and merged
// objects instead of printing its own unified diff, as kubectl diff does.
const ExternalDiffEnv = "KUBECTL_EXTERNAL_DIFF"

// externalDiffArg is what kubectl diff accepts as an argument of
// KUBECTL_EXTERNAL_DIFF's program: letters, digits, - and =.
var externalDiffArg = regexp.MustCompile(`^[a-zA-Z0-9-=]+$`)

// externalDiff is KUBECTL_EXTERNAL_DIFF parsed: a program and its
// arguments, run without a shell.
type externalDiff struct {
	program string
	args    []string
}

// parseExternalDiff splits KUBECTL_EXTERNAL_DIFF on spaces as kubectl diff
// does: the first word is the program, found on PATH, the others its
// arguments. Where kubectl silently drops an argument with another
// character (a quote, a slash, a shell operator), it is refused here, with
// the word named: the program would not run as written.
func parseExternalDiff(env string) (*externalDiff, error) {
	words := strings.Split(env, " ")
	if words[0] == "" {
		return nil, fmt.Errorf("%s=%q: starts with a space; it is a program and its arguments, split on spaces, like \"diff -u -N\"", ExternalDiffEnv, env)
	}
	d := &externalDiff{program: words[0]}
	for _, w := range words[1:] {
		switch {
		case w == "":
			// Two spaces in a row, as kubectl skips them.
		case !externalDiffArg.MatchString(w):
			return nil, fmt.Errorf("%s=%q: argument %q: kubectl diff passes only arguments made of letters, digits, - and =, and no shell runs the program; use a script for anything else", ExternalDiffEnv, env, w)
		default:
			d.args = append(d.args, w)
		}
	}
	if _, err := exec.LookPath(d.program); err != nil {
		return nil, fmt.Errorf("%s=%q: program %s: %w", ExternalDiffEnv, env, d.program, err)
	}
	return d, nil
}

// run writes every compared object into two new folders, LIVE-* and
// MERGED-* in the temporary folder, one file per object named as kubectl
// diff names it (an object missing from the cluster has an empty live
// file), runs the program on them with its output on out and errOut, and
// removes the folders. It returns the program's exit status; the error is
// for a program that could not run or folders that could not be written.
func (d *externalDiff) run(ctx context.Context, diffs []apply.ObjectDiff, out, errOut io.Writer) (int, error) {
	live, err := os.MkdirTemp("", "LIVE-")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", ExternalDiffEnv, err)
	}
	defer os.RemoveAll(live)
	merged, err := os.MkdirTemp("", "MERGED-")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", ExternalDiffEnv, err)
	}
	defer os.RemoveAll(merged)
	for _, o := range diffs {
		if o.Err != nil || o.Skipped != "" {
			continue
		}
		name := o.FileName()
		if err := os.WriteFile(filepath.Join(live, name), []byte(o.Live), 0o600); err != nil {
			return 0, fmt.Errorf("%s: %w", ExternalDiffEnv, err)
		}
		if err := os.WriteFile(filepath.Join(merged, name), []byte(o.Merged), 0o600); err != nil {
			return 0, fmt.Errorf("%s: %w", ExternalDiffEnv, err)
		}
	}
	cmd := exec.CommandContext(ctx, d.program, append(append([]string(nil), d.args...), live, merged)...)
	cmd.Stdout, cmd.Stderr = out, errOut
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), nil
	case err != nil:
		return 0, fmt.Errorf("%s: %s: %w", ExternalDiffEnv, d.program, err)
	}
	return 0, nil
}
