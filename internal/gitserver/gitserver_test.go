package gitserver

import (
	"bytes"
	"math/rand/v2"
	"net/http"
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

// TestLargePush pushes a commit larger than git's http.postBuffer (1 MiB),
// which git sends as a chunked body that CGI cannot take as it is.
func TestLargePush(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	s, err := New(filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init("big"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	url := srv.URL + "/big.git"
	work := t.TempDir()
	git(t, work, "clone", "--quiet", url, "w")
	w := filepath.Join(work, "w")
	// 3 MiB that does not compress: the pack stays over the buffer.
	data := make([]byte, 3<<20)
	if _, err := rand.NewChaCha8([32]byte{1}).Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, w, "add", "big.bin")
	git(t, w, "commit", "--quiet", "-m", "big")
	git(t, w, "push", "--quiet", "origin", DefaultBranch)
	git(t, work, "clone", "--quiet", url, "back")
	back, err := os.ReadFile(filepath.Join(work, "back", "big.bin"))
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("the cloned big.bin differs from the pushed one (%d bytes, %v)", len(back), err)
	}
}

// TestLoopbackHostOnly refuses a request that names another host, as a web
// page reaching the server through a rebound DNS name would.
func TestLoopbackHostOnly(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init("flux-system"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for host, want := range map[string]int{"attacker.example:80": 403, "10.0.0.1": 403, "localhost": 200, "[::1]:8080": 200, "127.0.0.1:1": 200} {
		req, err := http.NewRequest("GET", srv.URL+"/flux-system.git/info/refs?service=git-upload-pack", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestInitIgnoresCallerRepository runs Init as a Git hook would, with
// GIT_DIR and GIT_INDEX_FILE naming the caller's repository: that
// repository is left alone, and a half-made repository from an earlier
// failure is made again.
func TestInitIgnoresCallerRepository(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	caller := t.TempDir()
	git(t, caller, "init", "--quiet")
	config, err := os.ReadFile(filepath.Join(caller, ".git", "config"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_DIR", filepath.Join(caller, ".git"))
	t.Setenv("GIT_INDEX_FILE", filepath.Join(caller, ".git", "index"))
	root := filepath.Join(t.TempDir(), "repos")
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	// What an Init killed half-way leaves.
	if err := os.MkdirAll(filepath.Join(root, ".flux-system.git.new", "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := s.Init("flux-system")
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(caller, ".git", "config"))
	if err != nil || !bytes.Equal(after, config) {
		t.Errorf("Init changed the caller's .git/config:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(caller, ".git", "refs", "heads", DefaultBranch)); err == nil {
		t.Errorf("Init made a branch %s in the caller's repository", DefaultBranch)
	}
	if _, err := os.Stat(filepath.Join(dir, "refs", "heads", DefaultBranch)); err != nil {
		t.Errorf("the served repository has no branch %s: %v", DefaultBranch, err)
	}
	if _, err := os.Stat(filepath.Join(root, ".flux-system.git.new")); !os.IsNotExist(err) {
		t.Errorf("the half-made repository is still there: %v", err)
	}
}
