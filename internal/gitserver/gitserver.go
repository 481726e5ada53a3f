// Package gitserver serves bare Git repositories over Git's smart HTTP
// protocol, for Flux's source-controller in the simulated cluster: the
// requests go to the system's git http-backend (a CGI program shipped with
// git) through net/http/cgi, so that fetch and push are Git's own. Every
// repository under the root is readable and writable without
// authentication: serve it on 127.0.0.1 only. A request must name a
// loopback host (so that a web page cannot reach it through a rebound DNS
// name), and a pushed pack larger than git's http.postBuffer, which git
// sends chunked and CGI cannot pass on, is spooled to a temporary file of
// at most MaxPushBytes first.
package gitserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
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

// MaxPushBytes bounds one chunked request body (a push larger than git's
// http.postBuffer): a larger one is refused with 413.
const MaxPushBytes = 1 << 30

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
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return "", fmt.Errorf("git server: %w", err)
	}
	// The repository is made whole in a temporary folder and renamed into
	// place, so that one that failed half-way is made again next time.
	tmp := filepath.Join(s.root, "."+name+".git.new")
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("git server: %w", err)
	}
	if err := create(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("git server: create %s: %w", name, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("git server: create %s: %w", name, err)
	}
	return dir, nil
}

// create makes the bare repository dir with DefaultBranch on its initial
// commit.
func create(dir string) error {
	steps := [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=" + DefaultBranch, dir},
		// Anonymous pushes: git http-backend refuses them unless asked.
		{"-C", dir, "config", "http.receivepack", "true"},
	}
	for _, args := range steps {
		if _, err := run(args...); err != nil {
			return err
		}
	}
	tree, err := run("-C", dir, "hash-object", "-w", "-t", "tree", "/dev/null")
	if err != nil {
		return err
	}
	commit, err := run("-C", dir, "commit-tree", "-m", InitialMessage, tree)
	if err != nil {
		return err
	}
	_, err = run("-C", dir, "update-ref", "refs/heads/"+DefaultBranch, commit)
	return err
}

// LoopbackOnly wraps h so that it answers only requests whose Host names
// this machine (a loopback address or localhost), and 403 to others: a web
// page that rebinds its own DNS name to 127.0.0.1 cannot reach h.
func LoopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "this server answers only requests for a loopback host, such as 127.0.0.1", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP runs git http-backend for the request, for a loopback host
// only (LoopbackOnly).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	LoopbackOnly(http.HandlerFunc(s.serve)).ServeHTTP(w, r)
}

// serve runs git http-backend for the request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		spooled, err := spool(r, s.root)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, errTooLarge) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), code)
			return
		}
		defer spooled.Close()
	}
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

var errTooLarge = fmt.Errorf("request body larger than %d bytes", MaxPushBytes)

// spool reads a chunked request body into an unlinked temporary file in
// dir (on the repositories' disk: the system's temporary folder may be
// memory) and makes the request carry it with its length, as CGI needs.
// The caller closes the returned file.
func spool(r *http.Request, dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, ".push-")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name())
	n, err := io.Copy(f, io.LimitReader(r.Body, MaxPushBytes+1))
	if err == nil && n > MaxPushBytes {
		err = errTooLarge
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	r.Body, r.ContentLength, r.TransferEncoding = f, n, nil
	return f, nil
}

// loopbackHost reports whether a request's Host names this machine by a
// loopback address or as localhost.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// InitialMessage is the message of a new repository's first commit.
const InitialMessage = "Initial commit of the simulated cluster's repository"

// run runs git with args, with a fixed identity and date so that a new
// repository's first commit is the same everywhere, and returns its
// trimmed standard output, quoting its standard error on failure.
func run(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	// Neither the system's nor the user's configuration (a template
	// folder, hooks) changes the repository.
	cmd.Env = append(withoutGit(os.Environ()), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=kubectl-stretch", "GIT_AUTHOR_EMAIL=sim@kubectl-stretch.invalid", "GIT_AUTHOR_DATE=1970-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=kubectl-stretch", "GIT_COMMITTER_EMAIL=sim@kubectl-stretch.invalid", "GIT_COMMITTER_DATE=1970-01-01T00:00:00Z")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// withoutGit drops every GIT_ variable from env: run from a Git hook, the
// caller's GIT_DIR or GIT_INDEX_FILE would point git at the caller's own
// repository instead of the served one.
func withoutGit(env []string) []string {
	kept := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GIT_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
