package bundle

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocateGit(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	writeFiles(t, repo, map[string]string{".gitignore": "/out/\n", "clusters/notes.txt": "mine\n"})
	outside := t.TempDir()
	env := append(gitEnv(repo), "GIT_CEILING_DIRECTORIES="+filepath.Dir(outside))
	tests := []struct {
		dir     string
		want    *GitLocation
		wantNil bool
	}{
		{dir: repo, want: &GitLocation{Top: repo, Path: "."}},
		{dir: filepath.Join(repo, "clusters"), want: &GitLocation{Top: repo, Path: "clusters"}},
		// Folders that do not exist yet: render creates them.
		{dir: filepath.Join(repo, "clusters", "prod"), want: &GitLocation{Top: repo, Path: "clusters/prod"}},
		{dir: filepath.Join(repo, "a", "b", "c"), want: &GitLocation{Top: repo, Path: "a/b/c"}},
		{dir: filepath.Join(repo, "out"), want: &GitLocation{Top: repo, Path: "out", Ignored: true}},
		{dir: filepath.Join(repo, "out", "deep"), want: &GitLocation{Top: repo, Path: "out/deep", Ignored: true}},
		{dir: filepath.Join(outside, "bundle"), wantNil: true},
		// A file is no folder: writing there fails with its own error.
		{dir: filepath.Join(repo, "README.md"), wantNil: true},
		{dir: filepath.Join(repo, "README.md", "x"), wantNil: true},
	}
	for _, tt := range tests {
		got, err := locateGit(tt.dir, env)
		if err != nil {
			t.Errorf("locateGit(%s): %v", tt.dir, err)
			continue
		}
		switch {
		case tt.wantNil && got != nil:
			t.Errorf("locateGit(%s) = %+v, want nil (no work tree)", tt.dir, *got)
		case !tt.wantNil && (got == nil || *got != *tt.want):
			t.Errorf("locateGit(%s) = %+v, want %+v", tt.dir, got, *tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "clusters", "prod")); !os.IsNotExist(err) {
		t.Error("locateGit created a folder")
	}
}

func TestSamePath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{".", ".", true},
		{"", ".", true},
		{"./", ".", true},
		{"clusters/prod", "clusters/prod", true},
		{"./clusters/prod/", "clusters/prod", true},
		{"clusters//prod", "clusters/prod", true},
		{"clusters/prod", "clusters/staging", false},
		{"clusters/prod", ".", false},
		{"Clusters/prod", "clusters/prod", false},
	} {
		if got := SamePath(tt.a, tt.b); got != tt.want {
			t.Errorf("SamePath(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
