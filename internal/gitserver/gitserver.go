// Package gitserver serves bare Git repositories over Git's smart HTTP
// protocol, for Flux's source-controller in the simulated cluster: the
// requests go to the system's git http-backend (a CGI program shipped with
// git) through net/http/cgi, so that fetch and push are Git's own. Every
// repository under the root is readable and writable without
// authentication: serve it on 127.0.0.1 only.
package gitserver

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultBranch is the branch a new repository starts on, the one Flux's
// GitRepository of the simulated cluster follows.
const DefaultBranch = "main"

// Server serves the bare repositories of one folder.
type Server struct {
	root    string
	backend string
}

// New returns a Server for the bare repositories under root (each a folder
// NAME.git, served at /NAME.git). It finds git http-backend through `git
// --exec-path`; without git the error says so.
func New(root string) (*Server, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("git server: %w", err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git server: git is not installed (Debian package git): %w", err)
	}
	out, err := exec.Command(git, "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git server: git --exec-path: %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("git server: git http-backend not found: %w", err)
	}
	return &Server{root: abs, backend: backend}, nil
}

// Init creates the bare repository NAME.git under the root, accepting
// pushes over HTTP, with DefaultBranch holding one commit of an empty tree
// (InitialMessage): a client that fetches before the first push, such as
// Flux's source-controller, finds the branch instead of failing and backing
// off. An existing repository is left as it is.
func (s *Server) Init(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("git server: invalid repository name %q", name)
	}
	dir := filepath.Join(s.root, name+".git")
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return "", fmt.Errorf("git server: %w", err)
	}
	steps := [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=" + DefaultBranch, dir},
		// Anonymous pushes: git http-backend refuses them unless asked.
		{"-C", dir, "config", "http.receivepack", "true"},
	}
	for _, args := range steps {
		if _, err := run(args...); err != nil {
			return "", fmt.Errorf("git server: create %s: %w", name, err)
		}
	}
	tree, err := run("-C", dir, "hash-object", "-w", "-t", "tree", "/dev/null")
	if err != nil {
		return "", fmt.Errorf("git server: create %s: %w", name, err)
	}
	commit, err := run("-C", dir, "commit-tree", "-m", InitialMessage, tree)
	if err != nil {
		return "", fmt.Errorf("git server: create %s: %w", name, err)
	}
	if _, err := run("-C", dir, "update-ref", "refs/heads/"+DefaultBranch, commit); err != nil {
		return "", fmt.Errorf("git server: create %s: %w", name, err)
	}
	return dir, nil
}

// ServeHTTP runs git http-backend for the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := &cgi.Handler{
		Path: s.backend,
		Dir:  s.root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.root,
			"GIT_HTTP_EXPORT_ALL=1",
			// No user or system configuration changes what is served.
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + s.root,
		},
		Stderr: os.Stderr,
	}
	h.ServeHTTP(w, r)
}

// InitialMessage is the message of a new repository's first commit.
const InitialMessage = "Initial commit of the simulated cluster's repository"

// run runs git with args, with a fixed identity and date so that a new
// repository's first commit is the same everywhere, and returns its
// trimmed standard output, quoting its standard error on failure.
func run(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=kubectl-stretch", "GIT_AUTHOR_EMAIL=sim@kubectl-stretch.invalid", "GIT_AUTHOR_DATE=1970-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=kubectl-stretch", "GIT_COMMITTER_EMAIL=sim@kubectl-stretch.invalid", "GIT_COMMITTER_DATE=1970-01-01T00:00:00Z")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
