package testenv

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// recorder records what Tool asks of its test instead of ending it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
}

// TestTool checks that a missing tool fails the test under make test
// (STRETCH_REQUIRE_TOOLS=1) and skips it otherwise, naming its package.
func TestTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, "1")
	r := &recorder{TB: t}
	if p := Tool(r, "ansible-inventory", "the Debian package ansible-core"); p != "" || r.skip != "" ||
		r.fatal != "ansible-inventory not found on PATH (STRETCH_REQUIRE_TOOLS=1): install the Debian package ansible-core" {
		t.Errorf("required: path %q, fatal %q, skip %q", p, r.fatal, r.skip)
	}
	t.Setenv(RequireEnv, "")
	r = &recorder{TB: t}
	if p := Tool(r, "ansible-inventory", "the Debian package ansible-core"); p != "" || r.fatal != "" ||
		r.skip != "ansible-inventory not found on PATH: install the Debian package ansible-core (make test requires it)" {
		t.Errorf("not required: path %q, fatal %q, skip %q", p, r.fatal, r.skip)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ansible-inventory"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	r = &recorder{TB: t}
	if p := Tool(r, "ansible-inventory", "x"); p != filepath.Join(dir, "ansible-inventory") || r.fatal != "" || r.skip != "" {
		t.Errorf("present: path %q, fatal %q, skip %q", p, r.fatal, r.skip)
	}
}

// TestFuzzTargets checks that every line of .ci/fuzz-targets names a fuzz
// target that exists in its package, and that every fuzz target of the
// project is listed.
func TestFuzzTargets(t *testing.T) {
	f, err := os.Open("../../.ci/fuzz-targets")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !strings.HasPrefix(fields[0], "./") {
			t.Errorf("%q: want \"./PACKAGE TARGET\"", line)
			continue
		}
		pkg, target := fields[0], fields[1]
		files, err := filepath.Glob(filepath.Join("../..", pkg, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(target) + `\(\w+ \*testing\.F\)`)
		found := false
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			found = found || decl.Match(data)
		}
		if !found {
			t.Errorf("%s: no func %s(f *testing.F) in %s", line, target, pkg)
		}
		listed = append(listed, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// Every fuzz target of the project is listed: make test runs them all.
	anyTarget := regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "../.." && (d.Name() == "testdata" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("../..", filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range anyTarget.FindAllSubmatch(data, -1) {
			want := "./" + filepath.ToSlash(rel) + " " + string(m[1])
			if !slices.ContainsFunc(listed, func(l string) bool { return strings.Join(strings.Fields(l), " ") == want }) {
				t.Errorf(".ci/fuzz-targets lacks %q (%s)", want, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
