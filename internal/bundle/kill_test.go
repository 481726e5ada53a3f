package bundle

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// other returns the variant a render switches to from v.
func other(v string) string {
	size, ab, _ := strings.Cut(v, "-")
	if ab == "a" {
		return size + "-b"
	}
	return size + "-a"
}

// mustVariant returns a test bundle.
func mustVariant(t *testing.T, name string) *Bundle {
	t.Helper()
	b, err := variantBundle(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertRecoverable checks a directory that a render from one bundle to
// another left when it was interrupted: every file holds one of the two
// versions in full, the user's files are intact, and Check reports the
// interruption for both bundles whenever the journal exists.
func assertRecoverable(t *testing.T, dir string, from, to *Bundle) {
	t.Helper()
	versions := map[string][]string{}
	for _, b := range []*Bundle{from, to} {
		for _, f := range b.Files {
			versions[f.Path] = append(versions[f.Path], string(f.Data))
		}
	}
	for p, vs := range versions {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			continue // not there yet, no longer there, or a directory
		}
		ok := false
		for _, v := range vs {
			ok = ok || string(data) == v
		}
		if !ok {
			t.Errorf("%s is half-written (%d bytes)", p, len(data))
		}
	}
	for p, c := range userFiles {
		if got := readFile(t, dir, p); got != c {
			t.Errorf("user file %s changed: %q", p, got)
		}
	}
	_, err := os.Stat(filepath.Join(dir, JournalPath))
	journal := err == nil
	for _, b := range []*Bundle{from, to} {
		d, err := Check(dir, b)
		if err != nil {
			t.Fatalf("Check after the interruption: %v", err)
		}
		if journal && (!d.Interrupted || d.Empty()) {
			t.Errorf("Check does not report the interrupted render:\n%s", report(t, d))
		}
		if journal && !strings.Contains(report(t, d), "a render was interrupted") {
			t.Errorf("Check's report does not say that a render was interrupted:\n%s", report(t, d))
		}
	}
}

// TestWriteKilledAtEveryStep kills a real render process (SIGKILL, which
// nothing can catch) holding the folder's lock before each of its changes
// to the disk in turn, from bundle a to bundle b and back, checks that the
// lock was released, and recovers each time with a render of either
// bundle.
func TestWriteKilledAtEveryStep(t *testing.T) {
	t.Parallel()
	dir := killTestDir(t)
	writeFiles(t, dir, userFiles)
	bundles := map[string]*Bundle{"small-a": mustVariant(t, "small-a"), "small-b": mustVariant(t, "small-b")}

	// How many steps each direction takes, from a finished render.
	steps := map[string]int{}
	cur := "small-a"
	startChild(t, dir, cur).wait(t)
	for range 2 {
		c := startChild(t, dir, other(cur))
		if c.wait(t) {
			t.Fatal("child killed without being asked to")
		}
		steps[cur] = c.steps(t)
		cur = other(cur)
		assertConsistent(t, dir, bundles[cur], userFiles)
	}

	next := map[string]int{"small-a": 1, "small-b": 1} // next step to kill at, per starting bundle
	points := 0
	for trial := 0; next["small-a"] <= steps["small-a"] || next["small-b"] <= steps["small-b"]; trial++ {
		from, to := cur, other(cur)
		k := next[from]
		if k > steps[from] {
			// This direction is done: switch over with a plain render.
			mustWrite(t, dir, bundles[to])
			cur = to
			continue
		}
		next[from]++
		c := startChild(t, dir, to, fmt.Sprintf("%s=%d", helperKillAt, k), helperLock+"=1")
		if !c.wait(t) {
			t.Fatalf("%s -> %s: the child was not killed at step %d of %d", from, to, k, steps[from])
		}
		points++
		// The killed render's lock went with it.
		l, err := LockDir(context.Background(), dir, LockOptions{Exclusive: true})
		if err != nil {
			t.Fatalf("after a killed render: %v", err)
		}
		l.Unlock()
		assertRecoverable(t, dir, bundles[from], bundles[to])
		// Recover with the interrupted bundle, or go back to the old one.
		cur = []string{to, from}[trial%2]
		if _, err := Write(dir, bundles[cur]); err != nil {
			t.Fatalf("%s -> %s killed at step %d: the next render of %s fails: %v", from, to, k, cur, err)
		}
		assertConsistent(t, dir, bundles[cur], userFiles)
		if t.Failed() {
			t.Fatalf("%s -> %s killed at step %d, recovered to %s: inconsistent", from, to, k, cur)
		}
	}
	t.Logf("%d kill points (a -> b: %d steps, b -> a: %d steps)", points, steps["small-a"], steps["small-b"])
	if points < 50 {
		t.Errorf("only %d kill points, want at least 50", points)
	}
}

// TestWriteKilledAtRandomTimes kills a real render of a large bundle
// (181 files, three of 256 KiB) after a random delay, 50 times, kills the
// next render too every third time, and recovers each time with a render
// of either bundle. The delays are drawn from a
// fixed seed; where they land depends on the machine's speed, which
// TestWriteKilledAtEveryStep does not.
func TestWriteKilledAtRandomTimes(t *testing.T) {
	t.Parallel()
	const trials = 50
	dir := killTestDir(t)
	writeFiles(t, dir, userFiles)
	bundles := map[string]*Bundle{"big-a": mustVariant(t, "big-a"), "big-b": mustVariant(t, "big-b")}
	cur := "big-a"
	startChild(t, dir, cur).wait(t)
	// The longest a render's writing takes sets the range of the delays,
	// counted from the moment the child is about to write.
	var span time.Duration
	for range 2 {
		c := startChildReady(t, dir, other(cur))
		start := time.Now()
		c.wait(t)
		span = max(span, time.Since(start))
		cur = other(cur)
	}
	kills := 0
	rng := rand.New(rand.NewPCG(8, 2026))
	interrupted := 0
	for trial := range trials {
		from, to := cur, other(cur)
		// killAt starts a render of target, kills it after a random part of
		// a render's time and checks that the folder can be recovered.
		killAt := func(target string) {
			c := startChildReady(t, dir, target)
			kills++
			time.Sleep(time.Duration(rng.Int64N(int64(span))))
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			c.wait(t)
			if _, err := os.Stat(filepath.Join(dir, JournalPath)); err == nil {
				interrupted++
			}
			assertRecoverable(t, dir, bundles[from], bundles[to])
		}
		killAt(to)
		if trial%3 == 2 {
			// The render that recovers is killed too, on its way back.
			killAt(from)
		}
		cur = []string{to, from}[trial%2]
		if _, err := Write(dir, bundles[cur]); err != nil {
			t.Fatalf("trial %d: the next render of %s fails: %v", trial, cur, err)
		}
		assertConsistent(t, dir, bundles[cur], userFiles)
		if t.Failed() {
			t.Fatalf("trial %d (%s -> %s), recovered to %s: inconsistent", trial, from, to, cur)
		}
	}
	t.Logf("%d kills, %d of them leaving a journal (in the middle of a write)", kills, interrupted)
}
