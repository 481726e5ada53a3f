package app

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	goldenfile "github.com/stretch-dev/kubectl-stretch/internal/golden"
)

// The bad-input corpus (docs/TESTING.md). Each folder of badInputDir but
// _base is a case: _base's files, then the case's own, are copied to a
// temporary folder, `before` (when there is one) is run there and must
// succeed, then `args` is run with `stdin` on standard input. The case
// passes when stderr and the exit code are exactly `stderr` and `exit`,
// stdout is exactly `stdout` (empty when there is no such file), and the
// folder, with whatever bundle `before` wrote, is byte for byte and mode
// for mode what it was before the command ran: a refused input writes
// nothing. -update rewrites stderr, stdout and exit for review. A case
// with a file named `git` runs in a fresh Git work tree (git init) instead
// of a plain folder; no case sees a work tree above its folder.
//
// Every invalid topology of testdata/topologies/invalid is a case too,
// through validate and through render (badInputTopologies).
const (
	badInputDir        = "../../../testdata/badinput"
	badInputBase       = "_base"
	badInputTopologies = "../../../testdata/badinput/_topologies.txt"
	invalidTopologies  = "../../../testdata/topologies/invalid"
)

// badInputCase is one command run of the corpus.
type badInputCase struct {
	name   string
	files  []string // folders whose files are copied, in order
	before []string // run first, must exit 0; nil for none
	git    bool     // git init the folder first
	args   []string
	stdin  []byte
}

// badInputResult is what one run printed and left behind.
type badInputResult struct {
	code           int
	stdout, stderr string
}

func TestBadInputCorpus(t *testing.T) {
	// Each case changes into its folder: use absolute paths.
	badInputDir, invalidTopologies, badInputTopologies := absPath(t, badInputDir), absPath(t, invalidTopologies), absPath(t, badInputTopologies)
	entries, err := os.ReadDir(badInputDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == badInputBase {
			continue
		}
		dir := filepath.Join(badInputDir, e.Name())
		c := badInputCase{name: e.Name(), files: []string{filepath.Join(badInputDir, badInputBase), dir}}
		c.args = readArgs(t, filepath.Join(dir, "args"))
		if _, err := os.Stat(filepath.Join(dir, "before")); err == nil {
			c.before = readArgs(t, filepath.Join(dir, "before"))
		}
		if data, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
			c.stdin = data
		}
		if _, err := os.Stat(filepath.Join(dir, "git")); err == nil {
			c.git = true
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			got := c.run(t)
			checkFile(t, filepath.Join(dir, "stderr"), got.stderr, true)
			checkFile(t, filepath.Join(dir, "stdout"), got.stdout, false)
			checkFile(t, filepath.Join(dir, "exit"), strconv.Itoa(got.code)+"\n", true)
			if got.code == ExitOK {
				t.Errorf("exit 0: a bad-input case must be refused")
			}
		})
	}

	// Every invalid topology, through validate and render.
	files, err := filepath.Glob(filepath.Join(invalidTopologies, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	for _, file := range files {
		name := filepath.Base(file)
		for _, args := range [][]string{{"validate", "-f", name}, {"render", "-f", name, "-o", "out"}} {
			c := badInputCase{
				name:  strings.TrimSuffix(name, ".yaml") + "/" + args[0],
				files: []string{filepath.Join(badInputDir, badInputBase)},
				args:  args,
			}
			n++
			var got badInputResult
			t.Run(c.name, func(t *testing.T) {
				got = c.runWith(t, file)
				if got.code == ExitOK || got.stdout != "" {
					t.Errorf("exit %d, stdout %q: want a refusal and no output", got.code, got.stdout)
				}
			})
			fmt.Fprintf(&report, "=== %s\nexit %d\n%s", strings.Join(args, " "), got.code, got.stderr)
		}
	}
	goldenfile.Check(t, badInputTopologies, report.Bytes(), *updateDocs, "./cmd/kubectl-stretch/app -run TestBadInputCorpus")
	if n < 100 {
		t.Errorf("the bad-input corpus has %d cases, want at least 100", n)
	}
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// readArgs reads a command line: whitespace-separated words, one line.
func readArgs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(string(data))
	if len(args) == 0 {
		t.Fatalf("%s: no command line", path)
	}
	return args
}

// checkFile compares got with the file at path, or rewrites it under
// -update; an absent file is empty unless required.
func checkFile(t *testing.T, path, got string, required bool) {
	t.Helper()
	want, err := os.ReadFile(path)
	switch {
	case *updateDocs && got == "" && !required:
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	case *updateDocs:
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	case os.IsNotExist(err) && !required:
		want = nil
	case err != nil:
		t.Fatalf("%v (run go test ./cmd/kubectl-stretch/app -run TestBadInputCorpus -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./cmd/kubectl-stretch/app -run TestBadInputCorpus -update and review the diff):\n%s",
			filepath.Base(path), goldenfile.Diff(path, want, []byte(got)))
	}
}

func (c badInputCase) run(t *testing.T) badInputResult { return c.runWith(t, "") }

// runWith runs the case in a fresh folder, with extra (a file) copied in
// too, and checks that the command changed nothing there.
func (c badInputCase) runWith(t *testing.T, extra string) badInputResult {
	t.Helper()
	work := t.TempDir()
	for _, dir := range c.files {
		copyTree(t, dir, work)
	}
	if extra != "" {
		data, err := os.ReadFile(extra)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(extra)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	t.Setenv(TopologyEnv, "")
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(work))
	if c.git {
		t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
		t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
		if out, err := exec.Command("git", "init", "-q", "-b", "main", work).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	if c.before != nil {
		if got := runIn(c.before, nil); got.code != ExitOK {
			t.Fatalf("before: %s: exit %d\n%s", strings.Join(c.before, " "), got.code, got.stderr)
		}
	}
	snapshot := treeState(t, work)
	got := runIn(c.args, c.stdin)
	if after := treeState(t, work); !slices.Equal(after, snapshot) {
		t.Errorf("%s changed the folder:\n%s", strings.Join(c.args, " "),
			goldenfile.Diff("before", []byte(strings.Join(snapshot, "\n")), []byte(strings.Join(after, "\n"))))
	}
	got.stderr = strings.ReplaceAll(got.stderr, work, "$WORK")
	got.stdout = strings.ReplaceAll(got.stdout, work, "$WORK")
	for _, out := range []string{got.stderr, got.stdout} {
		if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
			t.Errorf("a Go stack or panic in the output:\n%s", out)
		}
	}
	return got
}

// runIn runs the command in process, with stdin on standard input.
func runIn(args []string, stdin []byte) badInputResult {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code := Run(context.Background(), streams, args)
	return badInputResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// copyTree copies the files of src (a case folder, without its expected
// results) into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		switch {
		case rel == ".":
			return nil
		case filepath.Dir(rel) == "." && slices.Contains([]string{"args", "before", "stdin", "stderr", "stdout", "exit", "git"}, rel):
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeState lists every file, folder and link under dir with its mode and
// content, sorted.
func treeState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s %v", filepath.ToSlash(rel), info.Mode())
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += " " + strconv.Quote(string(data))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entry += " -> " + target
		}
		out = append(out, entry)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
