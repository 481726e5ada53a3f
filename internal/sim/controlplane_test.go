//go:build unix

package sim

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/crds"
)

// TestControlPlane starts etcd and kube-apiserver, installs the real Rook
// and Flux CRDs plus our FelixConfiguration CRD, dry-runs a valid bundle and
// invalid objects, and checks that Stop leaves no process behind.
func TestControlPlane(t *testing.T) {
	start := time.Now()
	c := StartForTest(t)
	t.Logf("control plane ready in %s", since(start))

	// The kubeconfig works on its own, and the server reports the pinned
	// version (build.sh stamps it into the binary).
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	version, err := disco.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if version.GitVersion != "v1.35.4" {
		t.Errorf("server version %s, want v1.35.4", version.GitVersion)
	}

	start = time.Now()
	docs := [][]byte{crds.FelixConfiguration(), readFile(t, filepath.Join(testbin(t), "crds", "rook", "crds.yaml"))}
	flux, err := filepath.Glob(filepath.Join(testbin(t), "crds", "flux", "*.yaml"))
	if err != nil || len(flux) == 0 {
		t.Fatalf("no Flux CRDs in bin/testbin/crds/flux (%v): run make testbin", err)
	}
	for _, f := range flux {
		docs = append(docs, readFile(t, f))
	}
	if err := c.InstallCRDs(t.Context(), docs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("CRDs installed and established in %s", since(start))

	tests := []struct {
		file string
		want []apply.Result // Err compared by message
	}{
		{
			file: "valid-stretch-bundle.yaml",
			want: []apply.Result{
				{APIVersion: "v1", Kind: "Namespace", Name: "rook-ceph", Applied: true},
				{APIVersion: "v1", Kind: "Namespace", Name: "flux-system", Applied: true},
				{APIVersion: "crd.projectcalico.org/v1", Kind: "FelixConfiguration", Name: "default"},
				{APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "rook-ceph", Name: "rook-ceph"},
				{APIVersion: "ceph.rook.io/v1", Kind: "CephBlockPool", Namespace: "rook-ceph", Name: "replicapool"},
				{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass", Name: "ceph-block"},
				{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "HelmRepository", Namespace: "flux-system", Name: "rook-release"},
				{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Namespace: "rook-ceph", Name: "rook-ceph"},
				{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: "flux-system", Name: "storage"},
			},
		},
		{
			file: "invalid-cephcluster-four-zones.yaml",
			want: []apply.Result{{APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "default", Name: "four-zones",
				Err: errors.New("CephCluster.ceph.rook.io \"four-zones\" is invalid: spec.mon: Invalid value: stretchCluster zones must be equal to 3")}},
		},
		{
			file: "invalid-felixconfiguration-mtu-string.yaml",
			want: []apply.Result{{APIVersion: "crd.projectcalico.org/v1", Kind: "FelixConfiguration", Name: "mtu-string",
				Err: errors.New("failed to create typed patch object (/mtu-string; crd.projectcalico.org/v1, Kind=FelixConfiguration): .spec.wireguardMTU: expected numeric (int or float), got string")}},
		},
		{
			file: "invalid-felixconfiguration-unknown-field.yaml",
			want: []apply.Result{{APIVersion: "crd.projectcalico.org/v1", Kind: "FelixConfiguration", Name: "typo",
				Err: errors.New("failed to create typed patch object (/typo; crd.projectcalico.org/v1, Kind=FelixConfiguration): .spec.wireguardEnable: field not declared in schema")}},
		},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			objs, err := apply.Decode(readFile(t, filepath.Join("testdata", tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := apply.DryRun(t.Context(), c.RESTConfig(), objs, "kubectl-stretch-test")
			var rejected *apply.RejectedError
			if err != nil && !errors.As(err, &rejected) {
				t.Fatalf("DryRun: %v", err)
			}
			for _, r := range got {
				t.Logf("%s applied=%v err=%v", r, r.Applied, r.Err)
			}
			if diff := compareResults(got, tc.want); diff != "" {
				t.Error(diff)
			}
		})
	}

	procs := c.Processes()
	if got, want := names(procs), []string{"etcd", "kube-apiserver"}; !slices.Equal(got, want) {
		t.Errorf("processes %v, want %v", got, want)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Stop: kill -0 gave %v", p.Name, p.PID, err)
		}
	}
	if left := processesUsing(t, filepath.Dir(c.Kubeconfig())); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	if got := c.Processes(); len(got) != 0 {
		t.Errorf("Processes after Stop: %v", got)
	}
}

func names(procs []Process) []string {
	var out []string
	for _, p := range procs {
		out = append(out, p.Name)
	}
	return out
}

// compareResults describes how got differs from want, comparing errors by
// message; it returns "" when they match.
func compareResults(got, want []apply.Result) string {
	msg := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		return err.Error()
	}
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w apply.Result
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		gs := g.String() + " applied=" + strconv.FormatBool(g.Applied) + " err=" + msg(g.Err)
		ws := w.String() + " applied=" + strconv.FormatBool(w.Applied) + " err=" + msg(w.Err)
		if gs != ws {
			b.WriteString("result " + strconv.Itoa(i) + ":\n  got:  " + gs + "\n  want: " + ws + "\n")
		}
	}
	return b.String()
}

func testbin(t *testing.T) string {
	t.Helper()
	dir, err := DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestStartMissingBinary(t *testing.T) {
	t.Parallel()
	binDir := t.TempDir()
	_, err := StartControlPlane(t.Context(), Options{BinDir: binDir, StateDir: t.TempDir()})
	var missing *MissingBinaryError
	if !errors.As(err, &missing) {
		t.Fatalf("got %v, want a *MissingBinaryError", err)
	}
	want := "start control plane: " + filepath.Join(binDir, "kube-apiserver") + " not found: run make testbin"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
}

func TestMissingBinaryErrorInModule(t *testing.T) {
	t.Parallel()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	err = &MissingBinaryError{Path: filepath.Join(root, "bin", "testbin", "kube-apiserver")}
	if got, want := err.Error(), "bin/testbin/kube-apiserver not found: run make testbin"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDefaultBinDirFromEnv(t *testing.T) {
	t.Setenv(BinDirEnv, "some/where")
	got, err := DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs("some/where")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestStartFailureQuotesLog starts the real etcd and a kube-apiserver that
// fails at once: the error quotes its log, and etcd is stopped.
func TestStartFailureQuotesLog(t *testing.T) {
	etcd := filepath.Join(testbin(t), "etcd")
	if _, err := os.Stat(etcd); err != nil {
		if testing.Short() {
			t.Skipf("%v: run make testbin", err)
		}
		t.Fatalf("%v: run make testbin", err)
	}
	binDir, stateDir := t.TempDir(), t.TempDir()
	if err := os.Symlink(etcd, filepath.Join(binDir, "etcd")); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'Error: unknown flag: --bogus' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(binDir, "kube-apiserver"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	_, err := StartControlPlane(t.Context(), Options{BinDir: binDir, StateDir: stateDir})
	if err == nil {
		t.Fatal("started a control plane with a broken kube-apiserver")
	}
	logPath := filepath.Join(stateDir, "logs", "kube-apiserver.log")
	prefix := "start control plane: start kube-apiserver: kube-apiserver exited (exit status 3); end of " +
		logPath + ":\n=== " + filepath.Join(binDir, "kube-apiserver") + " --etcd-servers=http://127.0.0.1:"
	suffix := "\nError: unknown flag: --bogus"
	if got := err.Error(); !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, suffix) {
		t.Errorf("got:\n%s\nwant:\n%s...%s", got, prefix, suffix)
	}
	if left := processesUsing(t, stateDir); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

// processesUsing lists the processes whose command line mentions dir.
func processesUsing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // exited meanwhile, or not ours to read
		}
		if strings.Contains(string(cmdline), dir) {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}
