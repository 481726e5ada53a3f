package gitserver

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// git runs git in dir with a fixed identity and returns its output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPushAndFetch pushes a commit over HTTP into a new repository and
// clones it back, through the real git http-backend.
func TestPushAndFetch(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	s, err := New(filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init("flux-system"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	url := srv.URL + "/flux-system.git"

	// A new repository clones with its one initial commit on the branch.
	work := t.TempDir()
	git(t, work, "clone", "--quiet", url, "w")
	w := filepath.Join(work, "w")
	if branch := strings.TrimSpace(git(t, w, "branch", "--show-current")); branch != DefaultBranch {
		t.Fatalf("the clone is on branch %q, want %s", branch, DefaultBranch)
	}
	if log := strings.TrimSpace(git(t, w, "log", "--format=%s")); log != InitialMessage {
		t.Fatalf("the new repository's history: %q, want only %q", log, InitialMessage)
	}
	if err := os.WriteFile(filepath.Join(w, "a.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, w, "add", "a.yaml")
	git(t, w, "commit", "--quiet", "-m", "first")
	git(t, w, "push", "--quiet", "origin", DefaultBranch)
	head := strings.TrimSpace(git(t, w, "rev-parse", "HEAD"))

	refs := git(t, work, "ls-remote", url)
	if !strings.Contains(refs, head+"\trefs/heads/"+DefaultBranch) {
		t.Fatalf("ls-remote after push:\n%s\nwant %s refs/heads/%s", refs, head, DefaultBranch)
	}
	git(t, work, "clone", "--quiet", url, "back")
	data, err := os.ReadFile(filepath.Join(work, "back", "a.yaml"))
	if err != nil || string(data) != "a: 1\n" {
		t.Fatalf("cloned a.yaml: %q, %v", data, err)
	}
	// Init again keeps the repository and its history.
	if _, err := s.Init("flux-system"); err != nil {
		t.Fatal(err)
	}
	if refs2 := git(t, work, "ls-remote", url); refs2 != refs {
		t.Fatalf("ls-remote after a second Init:\n%s\nwant\n%s", refs2, refs)
	}
}

// TestUnknownRepository answers 404, and bad names are refused.
func TestUnknownRepository(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/nothing.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown repository: status %d, want 404", resp.StatusCode)
	}
	for _, name := range []string{"", "a/b", "../x", ".hidden"} {
		if _, err := s.Init(name); err == nil {
			t.Errorf("Init(%q) succeeded, want an error", name)
		}
	}
}
