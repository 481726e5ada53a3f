//go:build unix

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

// TestSimDetached runs the detached flow as a user does, with the built
// binary: sim up --operators returns and leaves the cluster running, the
// kubeconfig works, a rendered bundle's CephCluster follows sim fail and sim
// heal, and sim down leaves no recorded process behind.
func TestSimDetached(t *testing.T) {
	binDir := requireTestbin(t)
	exe := filepath.Join(t.TempDir(), "kubectl-stretch")
	build := exec.Command("go", "build", "-o", exe, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	state := filepath.Join(work, "st")
	topologyFile, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	// The binary runs outside the module: it finds the binaries through
	// the environment.
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(exe, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), sim.BinDirEnv+"="+binDir)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return exit.ExitCode(), out.String(), errOut.String()
		case err != nil:
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		return 0, out.String(), errOut.String()
	}
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(state, sim.StateFile)); err == nil {
			if t.Failed() {
				for _, name := range []string{"operators.log", "kwok-sto1.log"} {
					data, _ := os.ReadFile(filepath.Join(state, "logs", name)) // best effort, for the failure report
					t.Logf("%s:\n%s", name, data)
				}
			}
			if code, out, errOut := cli("sim", "down", "--state", state); code != 0 {
				t.Errorf("sim down in cleanup: %d %s %s", code, out, errOut)
			}
		}
	})

	start := time.Now()
	code, out, errOut := cli("sim", "up", "-f", topologyFile, "--state", state, "--operators")
	if code != 0 {
		t.Fatalf("sim up: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("TIMING sim up --operators returned after %s", time.Since(start).Round(10*time.Millisecond))
	out = regexp.MustCompile(`ready in [0-9.]+m?s`).ReplaceAllString(out, "ready in X")
	want := `Simulated cluster demo-eu is running (11 nodes in sto1, sto2, osl1; ready in X, state in ` + state + `).
Simulated operators run too (NOT Calico or Rook), labelled stretch.dev/simulated=true: they follow the
FelixConfiguration and CephCluster you apply (WireGuard annotations, Ceph pods that kube-scheduler
places, CephCluster health).

  export KUBECONFIG=` + state + `/kubeconfig
  kubectl get nodes -L topology.kubernetes.io/zone

  kubectl stretch sim fail sto1 --state ` + state + `   # lose a region (its nodes turn NotReady within 20s)
  kubectl stretch sim heal sto1 --state ` + state + `   # bring it back
  kubectl stretch sim down --state ` + state + `        # stop every process
`
	if out != want {
		t.Errorf("sim up printed:\n%s\nwant:\n%s", out, want)
	}
	pids := recordedPIDs(t, state)
	if got := slices.Sorted(maps.Keys(pids)); !slices.Equal(got, []string{"etcd", "kube-apiserver", "kube-controller-manager",
		"kube-scheduler", "kwok-osl1", "kwok-sto1", "kwok-sto2", "operators"}) {
		t.Errorf("recorded processes %v", got)
	}

	// The kubeconfig works on its own; the operators have done their part.
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(state, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 11 {
		t.Fatalf("nodes: %d, %v", len(nodes.Items), err)
	}
	// Like Rook, the simulated operators run no Ceph daemon before a
	// CephCluster is applied.
	mons, err := client.CoreV1().Pods("").List(t.Context(), metav1.ListOptions{LabelSelector: "app=rook-ceph-mon"})
	if err != nil || len(mons.Items) != 0 {
		t.Fatalf("mon pods before the CephCluster: %d, %v", len(mons.Items), err)
	}

	// Render the example and apply its Rook layer, as a user would.
	bundleDir := filepath.Join(work, "bundle")
	if code, _, errOut := run(t, "render", "-f", example, "-o", bundleDir); code != 0 {
		t.Fatalf("render: %d %s", code, errOut)
	}
	applyFolder(t, cfg, filepath.Join(bundleDir, "storage", "rook"))
	checkCeph(t, cfg, "HEALTH_OK", nil, time.Minute)
	mons, err = client.CoreV1().Pods("rook-ceph").List(t.Context(), metav1.ListOptions{LabelSelector: "app=rook-ceph-mon"})
	if err != nil || len(mons.Items) != 5 {
		t.Fatalf("mon pods: %d, %v", len(mons.Items), err)
	}
	for _, p := range mons.Items {
		if p.Spec.NodeName == "" {
			t.Errorf("mon pod %s not scheduled", p.Name)
		}
	}

	code, _, errOut = cli("sim", "up", "-f", topologyFile, "--state", state)
	if want := "error: a simulated cluster is already running in " + state + ": run kubectl stretch sim down --state " + state + "\n"; code != ExitError || errOut != want {
		t.Errorf("second sim up: exit %d, stderr %q, want %q", code, errOut, want)
	}

	start = time.Now()
	code, out, errOut = cli("sim", "fail", "sto1", "--state", state)
	if code != 0 || !regexp.MustCompile(`^region sto1 failed: its 5 nodes are NotReady, the simulated Ceph reports HEALTH_WARN \([0-9.]+s\)\n$`).MatchString(out) {
		t.Fatalf("sim fail: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("TIMING sim fail (waits for NotReady and the operators) took %s", time.Since(start).Round(10*time.Millisecond))
	// sim fail returned once the operators caught up: no need to wait.
	checkCeph(t, cfg, "HEALTH_WARN", []string{"DEGRADED_STRETCH_MODE", "MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN", "OSD_ZONE_DOWN"}, 0)

	start = time.Now()
	code, out, errOut = cli("sim", "heal", "sto1", "--state", state)
	if code != 0 || !regexp.MustCompile(`^region sto1 healed: its 5 nodes are Ready, the simulated Ceph reports HEALTH_OK \([0-9.]+m?s\)\n$`).MatchString(out) {
		t.Fatalf("sim heal: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("TIMING sim heal took %s", time.Since(start).Round(10*time.Millisecond))
	checkCeph(t, cfg, "HEALTH_OK", nil, 0)
	for name, pid := range recordedPIDs(t, state) {
		pids[name+" (after heal)"] = pid
	}

	code, out, errOut = cli("sim", "down", "--state", state)
	if want := "stopped 8 processes (kwok-sto1, operators, kwok-osl1, kwok-sto2, kube-scheduler, kube-controller-manager, kube-apiserver, etcd); " +
		"logs kept in " + state + "/logs (remove " + state + " to delete everything)\n"; code != 0 || out != want {
		t.Errorf("sim down: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}
	for _, name := range slices.Sorted(maps.Keys(pids)) {
		if !gone(pids[name]) {
			t.Errorf("%s (pid %d) still runs after sim down", name, pids[name])
		}
	}

	code, _, errOut = cli("sim", "fail", "sto1", "--state", state)
	if want := "error: " + state + ": no simulated cluster (no state.json): start one with kubectl stretch sim up -f TOPOLOGY --state " + state + "\n"; code != ExitError || errOut != want {
		t.Errorf("sim fail after down: exit %d, stderr %q, want %q", code, errOut, want)
	}
	code, _, errOut = cli("sim", "down", "--state", state)
	if want := "no simulated cluster in " + state + ": nothing to stop\n"; code != 0 || errOut != want {
		t.Errorf("second sim down: exit %d, stderr %q, want %q", code, errOut, want)
	}
}

// requireTestbin returns the folder of the simulated cluster's binaries,
// failing the test (skipping it with -short) when one is missing.
func requireTestbin(t *testing.T) string {
	t.Helper()
	dir, err := sim.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			msg := fmt.Sprintf("%s not found: run make testbin", filepath.Join(dir, name))
			if testing.Short() {
				t.Skip(msg)
			}
			t.Fatal(msg)
		}
	}
	return dir
}

// recordedPIDs reads the PIDs of the processes in the state file.
func recordedPIDs(t *testing.T, state string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(state, sim.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Processes []struct {
			Name string `json:"name"`
			PID  int    `json:"pid"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range st.Processes {
		out[p.Name] = p.PID
	}
	return out
}

// gone reports whether pid has exited (a zombie that init has not reaped
// yet counts as gone).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// applyFolder server-side applies every YAML file under dir.
func applyFolder(t *testing.T, cfg *rest.Config, dir string) {
	t.Helper()
	var objs []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" || d.Name() == "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		decoded, err := apply.Decode(data)
		objs = append(objs, decoded...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(t.Context(), cfg, objs, "kubectl-stretch-test"); err != nil {
		t.Fatal(err)
	}
}

// checkCeph checks that the bundle's CephCluster reports health with
// exactly the detail codes, waiting for it at most wait.
func checkCeph(t *testing.T, cfg *rest.Config, health string, codes []string, wait time.Duration) {
	t.Helper()
	res := schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters"}
	client := dynamic.NewForConfigOrDie(cfg).Resource(res).Namespace("rook-ceph")
	ctx, cancel := context.WithTimeout(t.Context(), max(wait, 10*time.Second)) // one Get at least
	defer cancel()
	var last string
	for {
		obj, err := client.Get(ctx, "rook-ceph", metav1.GetOptions{})
		if err == nil {
			got, _, _ := unstructured.NestedString(obj.Object, "status", "ceph", "health")
			details, _, _ := unstructured.NestedMap(obj.Object, "status", "ceph", "details")
			if got == health && slices.Equal(slices.Sorted(maps.Keys(details)), codes) {
				return
			}
			last = fmt.Sprintf("%s %v", got, slices.Sorted(maps.Keys(details)))
		} else {
			last = err.Error()
		}
		if wait == 0 {
			t.Fatalf("CephCluster health: got %s, want %s %v", last, health, codes)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CephCluster health: got %s, want %s %v", last, health, codes)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestSimUpMissingBinary(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	code, out, errOut := run(t, "sim", "up", "-f", example, "--state", filepath.Join(t.TempDir(), "st"), "--testbin", empty)
	want := "error: start cluster: " + filepath.Join(empty, "etcd") + " not found: run make testbin (or pass --testbin DIR, or set STRETCH_TESTBIN)\n"
	if code != ExitError || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
	}
}

// --mirrored-topology is refused before anything starts: without --flux,
// outside the topology's folder, or naming the topology itself.
func TestSimUpMirroredTopologyRefused(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "st")
	other := filepath.Join(t.TempDir(), "sim.yaml")
	exampleDir, err := filepath.Abs(filepath.Dir(example))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mirrored-topology", "sim.yaml"}, "error: --mirrored-topology needs --flux, which serves the charts it names\n"},
		{[]string{"--flux", "--mirrored-topology", other}, "error: --mirrored-topology: the mirrored topology " + other + " must be in the folder of the topology " + example + " (" + exampleDir + "), where its relative paths start\n"},
		{[]string{"--flux", "--mirrored-topology", example}, "error: --mirrored-topology: the mirrored topology " + example + " would replace the topology itself: name another file in its folder, like sim.yaml\n"},
	} {
		code, out, errOut := run(t, append([]string{"sim", "up", "-f", example, "--state", st}, tc.args...)...)
		if code != ExitError || out != "" || errOut != tc.want {
			t.Errorf("%v: exit %d, stdout %q\nstderr %q\nwant   %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if _, err := os.Stat(st); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused sim up made %s: %v", st, err)
	}
}

func TestSimWithoutCluster(t *testing.T) {
	t.Parallel()
	none := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"sim", "fail", "sto1", "--state", none}, ExitError,
			"error: " + none + ": no simulated cluster (no state.json): start one with kubectl stretch sim up -f TOPOLOGY --state " + none + "\n"},
		{[]string{"sim", "heal", "sto1", "--state", none, "--timeout", "0s"}, ExitError, "error: --timeout must be positive\n"},
		{[]string{"sim", "down", "--state", none}, ExitOK, "no simulated cluster in " + none + ": nothing to stop\n"},
		{[]string{"sim", "fail", "--state", none}, ExitError, "error: accepts 1 arg(s), received 0\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code || out != "" || errOut != tc.stderr {
				t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errOut, tc.stderr)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		".stretch-sim":     ".stretch-sim",
		"/tmp/a b":         "'/tmp/a b'",
		"it's":             `'it'\''s'`,
		"":                 "''",
		"/home/x/sim@2:st": "/home/x/sim@2:st",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
