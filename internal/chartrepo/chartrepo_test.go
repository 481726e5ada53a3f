package chartrepo

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// pinnedRookVersion reads ROOK_VERSION from internal/testbin/versions.env,
// the one place the simulated cluster's versions are pinned.
func pinnedRookVersion(t testing.TB) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testbin", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ROOK_VERSION="); ok {
			return v
		}
	}
	t.Fatal("versions.env sets no ROOK_VERSION")
	return ""
}

var rookOnce struct {
	sync.Once
	dir string
	err error
}

// rookModule returns the pinned Rook module's folder, downloaded once
// through the Go module proxy. Without the proxy the test is skipped, or
// fails under STRETCH_REQUIRE_TOOLS=1.
func rookModule(t testing.TB) (dir, version string) {
	t.Helper()
	version = pinnedRookVersion(t)
	rookOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rookOnce.dir, rookOnce.err = DownloadModule(ctx, RookModule, version)
	})
	if rookOnce.err != nil {
		if testenv.Required() {
			t.Fatalf("Rook's module (%s=1): %v", testenv.RequireEnv, rookOnce.err)
		}
		t.Skipf("Rook's module is not available: %v", rookOnce.err)
	}
	return rookOnce.dir, version
}

// buildRepo builds the simulated cluster's chart repository into a new
// folder and returns it.
func buildRepo(t testing.TB) (string, []Entry) {
	t.Helper()
	rook, version := rookModule(t)
	charts, err := Charts(rook, version)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "charts")
	entries, err := Build(dir, charts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, entries
}

func TestBuildIsDeterministic(t *testing.T) {
	first, entries := buildRepo(t)
	second, again := buildRepo(t)
	_, version := rookModule(t)
	want := []Entry{
		{Name: CSIDriversChart, Version: CSIStandInVersion, File: "ceph-csi-drivers-1.0.4.tgz"},
		{Name: CSIOperatorChart, Version: CSIStandInVersion, File: "ceph-csi-operator-1.0.4.tgz"},
		{Name: RookCephChart, Version: version, File: "rook-ceph-" + version + ".tgz"},
	}
	if len(entries) != len(want) {
		t.Fatalf("entries %+v, want %+v", entries, want)
	}
	for i, e := range entries {
		if e.Name != want[i].Name || e.Version != want[i].Version || e.File != want[i].File || len(e.Digest) != 64 {
			t.Errorf("entry %d is %+v, want %+v with a SHA-256 digest", i, e, want[i])
		}
		if again[i] != e {
			t.Errorf("second build's entry %d is %+v, first %+v", i, again[i], e)
		}
	}
	names := func(dir string) []string {
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, de := range des {
			out = append(out, de.Name())
		}
		return out
	}
	a, b := names(first), names(second)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Fatalf("the builds hold %v and %v", a, b)
	}
	wantFiles := []string{"ceph-csi-drivers-1.0.4.tgz", "ceph-csi-operator-1.0.4.tgz", IndexFile, "rook-ceph-" + version + ".tgz"}
	if strings.Join(a, " ") != strings.Join(wantFiles, " ") {
		t.Fatalf("the build holds %v, want %v", a, wantFiles)
	}
	for _, name := range a {
		x, err := os.ReadFile(filepath.Join(first, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(second, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	index, err := os.ReadFile(filepath.Join(first, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"generated: \"1970-01-01T00:00:00Z\"", "- rook-ceph-" + version + ".tgz", "digest: " + entries[2].Digest} {
		if !strings.Contains(string(index), s) {
			t.Errorf("index.yaml lacks %q:\n%s", s, index)
		}
	}
}

func TestBuildReplacesTheRepository(t *testing.T) {
	dir, _ := buildRepo(t)
	stale := filepath.Join(dir, "stale-0.1.0.tgz")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(dir, StandInCharts()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file of the previous build survived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ceph-csi-drivers-1.0.4.tgz")); err != nil {
		t.Error(err)
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(dir), ".charts.tmp.*"))
	if err != nil || len(left) > 0 {
		t.Errorf("scratch folders left behind: %v %v", left, err)
	}
}

// The stand-ins are made for the Rook release the simulation pins, and a
// chart that wants another version of them is refused naming it.
func TestStandInsFollowThePinnedRook(t *testing.T) {
	if v := pinnedRookVersion(t); StandInRookVersion != v {
		t.Errorf("StandInRookVersion %s, versions.env pins Rook %s", StandInRookVersion, v)
	}
	rook := fstest.MapFS{
		"rook-ceph/Chart.yaml": {Data: []byte("apiVersion: v2\nname: rook-ceph\nversion: 0.0.1\ndependencies:\n- name: ceph-csi-operator\n  version: 0.6.0\n  repository: https://ceph.github.io/ceph-csi-operator\n")},
	}
	_, err := Build(filepath.Join(t.TempDir(), "repo"), []Chart{{FS: rook, Dir: "rook-ceph", Vendor: []Chart{{FS: standIns, Dir: standInOperatorDir}}}})
	if want := "dependency ceph-csi-operator: wants version 0.6.0; the project's stand-in for it is 1.0.4, made for Rook " + StandInRookVersion; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one with %q", err, want)
	}
}
