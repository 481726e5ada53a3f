//go:build unix

package sim

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// serveGitArg, as the test binary's first argument, makes it the Git
// server process of TestUpFlux: serve-git STATE LISTEN-FLAG.
const serveGitArg = "serve-git"

// TestMain lets the test binary play `kubectl-stretch sim serve`.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == serveGitArg {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		listen, ok := strings.CutPrefix(os.Args[3], "--listen=")
		if !ok {
			fmt.Fprintln(os.Stderr, "serve-git: want --listen=ADDR, got", os.Args[3])
			os.Exit(2)
		}
		err := Serve(ctx, os.Args[2], listen, testCharts(os.Args[2]))
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestFluxRootPath(t *testing.T) {
	for in, want := range map[string]string{".": "./flux", "clusters/prod": "./clusters/prod/flux", "./a/": "./a/flux"} {
		if got := FluxRootPath(in); got != want {
			t.Errorf("FluxRootPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	err := Serve(t.Context(), t.TempDir(), "0.0.0.0:0", http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("Serve on 0.0.0.0: %v, want a refusal", err)
	}
}

// TestUpFlux starts a detached cluster with Flux: the Git server and Flux's
// real controllers. A pushed commit is applied by the root Kustomization,
// as flux bootstrap sets it up (named after spec.gitops.sourceName, here
// not the default), and a commit that removes the object makes Flux prune
// it. Down stops every process and keeps the repository.
func TestUpFlux(t *testing.T) {
	t.Parallel()
	model := exampleModel(t)
	testenv.Tool(t, "git", "the Debian package git")
	binDir, err := DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fluxBinaries(binDir); err != nil {
		failStart(t, err)
	}
	dir := filepath.Join(t.TempDir(), "sim")
	model.GitOps.Path = "clusters/sim"
	const source = "fleet"
	d, err := Up(t.Context(), UpOptions{
		ClusterOptions: ClusterOptions{Options: Options{StateDir: dir, Log: &testLog{t: t}}, Topology: model},
		Flux:           &FluxOptions{Serve: []string{os.Args[0], serveGitArg, dir}, Path: model.GitOps.Path, SourceName: source},
	})
	if err != nil {
		failStart(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, filepath.Join(dir, "logs"))
		}
		if d, err := Open(dir); err == nil {
			if _, err := d.Down(context.Background()); err != nil {
				t.Errorf("down: %v", err)
			}
		}
	})
	got := names(d.Processes())
	for _, want := range append([]string{GitServerName}, FluxControllers...) {
		if !slices.Contains(got, want) {
			t.Fatalf("processes %v: no %s", got, want)
		}
	}
	if !strings.HasPrefix(d.GitURL(), "http://127.0.0.1:") || !strings.HasSuffix(d.GitURL(), "/flux-system.git") {
		t.Fatalf("GitURL %q", d.GitURL())
	}

	work := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(work, "repo", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("clone", "--quiet", d.GitURL(), "repo")
	write("clusters/sim/flux/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- hello.yaml\n")
	write("clusters/sim/flux/hello.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: default\ndata:\n  greeting: hi\n")
	// A file outside the root Kustomization's path is not applied.
	write("elsewhere/other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: default\n")
	git("-C", "repo", "add", "-A")
	git("-C", "repo", "commit", "--quiet", "-m", "hello")
	git("-C", "repo", "push", "--quiet", "origin", "main")

	cfg, err := d.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		cm, err := client.CoreV1().ConfigMaps("default").Get(ctx, "hello", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && cm.Labels["kustomize.toolkit.fluxcd.io/name"] == source, err
	})
	if err != nil {
		t.Fatalf("the pushed ConfigMap was not applied by Flux's root Kustomization: %v", err)
	}
	if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, "other", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap other, outside %s: %v, want not found", FluxRootPath(model.GitOps.Path), err)
	}

	// Removing it from the repository prunes it (prune: true, as bootstrap).
	write("clusters/sim/flux/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
	git("-C", "repo", "rm", "--quiet", "clusters/sim/flux/hello.yaml")
	git("-C", "repo", "commit", "--quiet", "-am", "goodbye")
	git("-C", "repo", "push", "--quiet", "origin", "main")
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ConfigMaps("default").Get(ctx, "hello", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("the ConfigMap removed from the repository was not pruned: %v", err)
	}

	stopped, err := d.Down(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stopped {
		if running(p.PID) {
			t.Errorf("%s (pid %d) still runs after Down", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, gitDir, GitRepositoryName+".git", "HEAD")); err != nil {
		t.Errorf("the repository did not survive Down: %v", err)
	}
}

// testCharts serves a stand-in chart repository for the tests: an
// index.yaml written into stateDir/ChartsDir (the app package builds the
// real one with internal/chartrepo).
func testCharts(stateDir string) http.Handler {
	dir := filepath.Join(stateDir, ChartsDir)
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, "index.yaml"), []byte("apiVersion: v1\nentries: {}\n"), 0o644)
	return http.FileServer(http.Dir(dir))
}

// TestServe serves the Git repository and the chart handler on one
// loopback address, the charts under ChartsPath.
func TestServe(t *testing.T) {
	testenv.Tool(t, "git", "the Debian package git")
	dir := t.TempDir()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dir, addr, testCharts(dir)) }()
	client := &http.Client{Timeout: 5 * time.Second}
	wait, stop := context.WithTimeout(t.Context(), time.Minute)
	defer stop()
	err = poll(wait, func(ctx context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, &fatalError{err: fmt.Errorf("Serve ended: %v", err)}
		default:
		}
		return get(ctx, client, "http://"+addr+ChartsPath+"/index.yaml", "entries") == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t.Context(), client, "http://"+addr+"/"+GitRepositoryName+".git/info/refs?service=git-upload-pack", "git-upload-pack"); err != nil {
		t.Errorf("the Git repository on the same address: %v", err)
	}
	if err := get(t.Context(), client, "http://"+addr+"/index.yaml", "entries"); err == nil {
		t.Errorf("the chart index is served outside %s", ChartsPath)
	}
	// A page that rebinds its name to 127.0.0.1 reaches neither.
	for _, p := range []string{ChartsPath + "/index.yaml", "/" + GitRepositoryName + ".git/info/refs?service=git-upload-pack"} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "attacker.example"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s for Host attacker.example: status %d, want 403", p, resp.StatusCode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}
