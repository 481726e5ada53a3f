package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Handler answers HTTP requests for one built chart repository, for a
// server of the caller's (Start runs one of its own).
type Handler struct {
	root *os.Root
}

// Open returns a Handler of the repository in dir, which must hold an
// index.yaml (see Build). Close releases the folder.
func Open(dir string) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("chart repository server: %w", err)
	}
	if _, err := root.Stat(IndexFile); err != nil {
		root.Close()
		return nil, fmt.Errorf("chart repository server: %s: %w", dir, err)
	}
	return &Handler{root: root}, nil
}

// Close releases the repository's folder.
func (h *Handler) Close() error {
	return h.root.Close()
}

// OpenBuilt opens the chart repository that make testbin built into
// binDir (BuiltDir, stamped in BuiltStampFile "rook VERSION ...") when it
// holds rook-ceph at rookVersion; ok is false when binDir has none, or one
// of another version.
func OpenBuilt(binDir, rookVersion string) (h *Handler, ok bool, err error) {
	stamp, err := os.ReadFile(filepath.Join(binDir, BuiltStampFile))
	if err != nil || !strings.HasPrefix(string(stamp), "rook "+rookVersion+" ") {
		return nil, false, nil
	}
	h, err = Open(filepath.Join(binDir, BuiltDir))
	return h, err == nil, err
}

// Server serves one built chart repository over HTTP on 127.0.0.1.
type Server struct {
	handler  *Handler
	listener net.Listener
	srv      *http.Server
	done     chan error
	once     sync.Once
	closeErr error
}

// Start serves the repository in dir on a free port of 127.0.0.1. dir must
// hold an index.yaml (see Build).
func Start(dir string) (*Server, error) {
	h, err := Open(dir)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("chart repository server: %w", err)
	}
	s := &Server{handler: h, listener: l, done: make(chan error, 1)}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// URL is the repository's address, without a trailing slash: what a
// HelmRepository's spec.url or `helm repo add` takes.
func (s *Server) URL() string {
	return "http://" + s.listener.Addr().String()
}

// Close stops serving and waits for the server to end. Closing again
// returns the first Close's result.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
		s.closeErr = errors.Join(err, s.handler.Close())
	})
	return s.closeErr
}

// ServeHTTP answers GET and HEAD for the repository's own files.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := RepoFileName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	info, err := h.root.Lstat(name)
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	if strings.HasSuffix(name, ".yaml") {
		w.Header().Set("Content-Type", "application/x-yaml")
	} else {
		w.Header().Set("Content-Type", "application/gzip")
	}
	http.ServeContent(w, r, name, Epoch, f)
}

// RepoFileName returns the file of the repository folder that a request's
// URL path names: index.yaml or a packaged chart (*.tgz, *.tgz.prov) at the
// top of the folder. Anything else, a sub-folder, a hidden file or a path
// with "..", is no file of the repository.
func RepoFileName(urlPath string) (string, bool) {
	name, ok := strings.CutPrefix(urlPath, "/")
	if !ok || name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || !fs.ValidPath(name) {
		return "", false
	}
	if name == IndexFile || strings.HasSuffix(name, ".tgz") || strings.HasSuffix(name, ".tgz.prov") {
		return name, true
	}
	return "", false
}
