package app

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/faultproxy"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

// runWithin runs the command line like run, and fails the test when it
// has not returned within bound: the live commands must never hang.
func runWithin(t *testing.T, bound time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := run(t, args...)
		done <- result{code, out, errOut}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.errOut
	case <-time.After(bound):
		t.Fatalf("%s did not return within %s", strings.Join(args, " "), bound)
	}
	return 0, "", ""
}

// noKubeconfig makes the environment one without any kubeconfig: no
// ~/.kube/config, no KUBECONFIG, not in a pod.
func noKubeconfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_MASTER", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
}

// Without a kubeconfig, verify and diff refuse and say how to give one,
// instead of trying localhost:8080; --server is enough to go on.
func TestNoKubeconfig(t *testing.T) {
	noKubeconfig(t)
	for _, cmd := range []string{"verify", "diff"} {
		code, out, errOut := runWithin(t, time.Minute, cmd, "-f", example)
		want := "error: no kubeconfig found: give one with --kubeconfig FILE, the KUBECONFIG environment variable or ~/.kube/config, " +
			"or name the API server with --server\n"
		if code != ExitError || out != "" || errOut != want {
			t.Errorf("%s without a kubeconfig: exit %d\nstdout: %s\nstderr: %s", cmd, code, out, errOut)
		}
	}
	// A refused connection fails at once, with one message.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"verify", "diff"} {
		code, out, errOut := runWithin(t, time.Minute, cmd, "--server=http://"+addr, "-f", example)
		want := fmt.Sprintf("error: %s: cannot reach the API server at http://%s: Get \"http://%s/version?timeout=30s\": dial tcp %s: connect: connection refused\n",
			cmd, addr, addr, addr)
		if code != ExitError || out != "" || errOut != want {
			t.Errorf("%s --server=http://%s: exit %d\nstdout: %s\nstderr: %s\nwant: %s", cmd, addr, code, out, errOut, want)
		}
	}
}

// TestLiveFaults puts a fault-injecting proxy in front of a real
// kube-apiserver with the example bundle applied and its state written
// (the fixture of TestVerifyLive), and runs verify and diff through it
// while the API server is rate-limiting (429 on every request, and on
// some), forbidding some kinds (403), slow (answers held beyond the
// request timeout, on some kinds and on every request) and down. Each run
// has a hard bound on wall time; a partial result says so and exits 2.
func TestLiveFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	cp := sim.StartForTest(t)
	if err := cp.InstallBundleCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	newVerifyFixture(t, cp.RESTConfig())
	p, err := faultproxy.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	kc := "--kubeconfig=" + proxyKubeconfig(t, p.URL)

	// Through the proxy without faults: verify passes; diff's answer is
	// the reference for the faults that must not change it.
	healthy, _ := verifyJSON(t, ExitOK, kc)
	diffCode, diffOut, diffErr := runWithin(t, 2*time.Minute, "diff", kc, "-f", example)
	if diffCode == ExitError {
		t.Fatalf("diff without faults: exit %d\n%s", diffCode, diffErr)
	}

	t.Run("429 on some requests", func(t *testing.T) {
		p.Set(faultproxy.Rule{Fault: faultproxy.TooManyRequests, Every: 3})
		defer p.Set()
		before := p.Injected(faultproxy.TooManyRequests)
		// client-go honours Retry-After and retries: the same report,
		// in more requests.
		r, _ := verifyJSON(t, ExitOK, kc)
		if r.Summary.Passed != healthy.Summary.Passed || r.Summary.APIRequests <= healthy.Summary.APIRequests {
			t.Errorf("summary %+v, want the healthy one %+v in more requests", r.Summary, healthy.Summary)
		}
		code, out, errOut := runWithin(t, 2*time.Minute, "diff", kc, "-f", example)
		if code != diffCode || out != diffOut || errOut != diffErr {
			t.Errorf("diff: exit %d\n%s\n%s\nwant exit %d\n%s", code, out, errOut, diffCode, diffErr)
		}
		if p.Injected(faultproxy.TooManyRequests) == before {
			t.Error("no 429 was injected")
		}
	})

	t.Run("429 on every request", func(t *testing.T) {
		p.Set(faultproxy.Rule{Fault: faultproxy.TooManyRequests})
		defer p.Set()
		code, out, errOut := runWithin(t, time.Minute, "verify", kc, "--request-timeout=3s", "-f", example, "-o", "json")
		r := decodeReport(t, code, ExitError, out, errOut)
		if r.Summary.Errors != len(verifyIDs)-1 || !r.Summary.Partial { // NET010 lists nothing
			t.Errorf("summary %+v, want every check not run", r.Summary)
		}
		assertNotRun(t, r, nil)
		code, out, errOut = runWithin(t, time.Minute, "diff", kc, "--request-timeout=3s", "-f", example)
		if code != ExitError || out != "" || !strings.HasPrefix(errOut, "error: diff: the API server did not answer GET /version within 3s (") ||
			!strings.HasSuffix(errOut, "): retry later, or allow more time with --request-timeout\n") {
			t.Errorf("diff: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	t.Run("403 on one kind", func(t *testing.T) {
		p.Set(faultproxy.Rule{Path: "/cephblockpools", Fault: faultproxy.Forbidden})
		defer p.Set()
		code, out, errOut := runWithin(t, time.Minute, "verify", kc, "-f", example, "-o", "json")
		r := decodeReport(t, code, ExitError, out, errOut)
		want := []v1alpha1.VerifyUnavailable{{Kinds: []string{"cephblockpools.ceph.rook.io"},
			Message: "cannot list cephblockpools.ceph.rook.io: forbidden by RBAC (/apis/ceph.rook.io/v1/cephblockpools is forbidden: injected by the fault proxy): " +
				"bind this user to the ClusterRole stretch-verify (access/ in the bundle; members of the group stretch:verifiers have it)"}}
		if !equalUnavailable(r.Unavailable, want) || !r.Summary.Partial {
			t.Errorf("unavailable %+v, summary %+v", r.Unavailable, r.Summary)
		}
		assertNotRun(t, r, []check.Kind{check.KindCephBlockPools})
		code, out, errOut = runWithin(t, time.Minute, "verify", kc, "-f", example)
		if code != ExitError || strings.Count(out, "forbidden by RBAC") != 1 || !strings.HasPrefix(out, "unavailable: "+want[0].Message+"\n") ||
			!strings.HasSuffix(out, "; PARTIAL REPORT: 3 of 40 checks could not run\n") {
			t.Errorf("verify table: exit %d\n%s\n%s", code, out, errOut)
		}
		code, out, errOut = runWithin(t, 2*time.Minute, "diff", kc, "-f", example)
		if code != ExitError || !strings.Contains(errOut, "error: ceph.rook.io/v1 CephBlockPool rook-ceph/replicapool: ") ||
			!strings.Contains(errOut, "is forbidden: injected by the fault proxy") || !strings.Contains(errOut, "PARTIAL DIFF: 2 of ") {
			t.Errorf("diff: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	t.Run("slow on one kind", func(t *testing.T) {
		p.Set(faultproxy.Rule{Path: "/pods", Fault: faultproxy.Delay})
		defer p.Set()
		code, out, errOut := runWithin(t, time.Minute, "verify", kc, "--request-timeout=2s", "-f", example, "-o", "json")
		r := decodeReport(t, code, ExitError, out, errOut)
		if len(r.Unavailable) != 1 || !slices.Equal(r.Unavailable[0].Kinds, []string{"pods"}) ||
			!strings.HasPrefix(r.Unavailable[0].Message, "cannot list pods: the API server did not answer in time (") ||
			!strings.HasSuffix(r.Unavailable[0].Message, "): retry, or raise --request-timeout") {
			t.Errorf("unavailable %+v", r.Unavailable)
		}
		assertNotRun(t, r, []check.Kind{check.KindPods})

		// diff stops at the first request left unanswered instead of
		// waiting the request timeout once per object.
		p.Set(faultproxy.Rule{Path: "/cephclusters", Fault: faultproxy.Delay})
		code, out, errOut = runWithin(t, time.Minute, "diff", kc, "--request-timeout=2s", "-f", example)
		if code != ExitError || !strings.Contains(errOut, "error: ceph.rook.io/v1 CephCluster rook-ceph/rook-ceph: ") ||
			!strings.Contains(errOut, " more object(s) not compared: the API server stopped answering\n") ||
			!strings.Contains(errOut, "PARTIAL DIFF: ") {
			t.Errorf("diff: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	// With the default timeouts: the probe ends both commands within
	// check.ProbeTimeout (10 s), with one message.
	t.Run("slow on every request", func(t *testing.T) {
		p.Set(faultproxy.Rule{Fault: faultproxy.Delay})
		defer p.Set()
		for _, cmd := range []string{"verify", "diff"} {
			code, out, errOut := runWithin(t, 30*time.Second, cmd, kc, "-f", example)
			want := fmt.Sprintf("error: %s: cannot reach the API server at %s: no answer to GET /version within 10s\n", cmd, p.URL)
			if code != ExitError || out != "" || errOut != want {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s\nwant: %s", cmd, code, out, errOut, want)
			}
		}
	})

	// The probe answered, then nothing did: the snapshot ends at twice
	// the request timeout, with one message.
	t.Run("slow on every request but the probe", func(t *testing.T) {
		p.Set(faultproxy.Rule{Fault: faultproxy.Delay, Except: "/version"})
		defer p.Set()
		code, out, errOut := runWithin(t, time.Minute, "verify", kc, "--request-timeout=2s", "-f", example)
		if code != ExitError || out != "" || !strings.HasPrefix(errOut, "error: verify: cannot reach the API server: list nodes: ") ||
			strings.Count(errOut, "\n") != 1 {
			t.Errorf("verify: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	// Last: the proxy stays down.
	t.Run("down", func(t *testing.T) {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"verify", "diff"} {
			code, out, errOut := runWithin(t, 30*time.Second, cmd, kc, "-f", example)
			if code != ExitError || out != "" || !strings.HasPrefix(errOut, "error: "+cmd+": cannot reach the API server at "+p.URL+": ") ||
				!strings.HasSuffix(errOut, "connect: connection refused\n") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", cmd, code, out, errOut)
			}
		}
	})
}

// proxyKubeconfig writes a kubeconfig for the fault proxy (plain HTTP, no
// credentials: the proxy has them).
func proxyKubeconfig(t *testing.T, url string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["proxy"] = &clientcmdapi.Cluster{Server: url}
	kc.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	kc.CurrentContext = "proxy"
	path := filepath.Join(t.TempDir(), "proxy.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// decodeReport checks verify's exit code and decodes its JSON report.
func decodeReport(t *testing.T, code, want int, out, errOut string) *check.Report {
	t.Helper()
	if code != want {
		t.Fatalf("verify exit %d, want %d\nstderr: %s\nstdout: %s", code, want, errOut, out)
	}
	var r check.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return &r
}

// assertNotRun checks that exactly the checks that read one of kinds (all
// checks when kinds is nil) did not run and say so, and that every other
// check passed.
func assertNotRun(t *testing.T, r *check.Report, kinds []check.Kind) {
	t.Helper()
	for _, c := range check.Checks() {
		lacks := len(c.Needs) > 0 && kinds == nil || slices.ContainsFunc(c.Needs, func(k check.Kind) bool { return slices.Contains(kinds, k) })
		for _, res := range r.Results {
			if res.ID != c.ID {
				continue
			}
			notRun := res.Status == check.StatusError && strings.HasPrefix(res.Message, "not run: ") && strings.HasSuffix(res.Message, " unavailable (see above)")
			if lacks != notRun || !lacks && res.Status != liveStatus(res.ID) {
				t.Errorf("%s %s: %s", res.ID, res.Status, res.Message)
			}
		}
	}
}

func equalUnavailable(a, b []v1alpha1.VerifyUnavailable) bool {
	return slices.EqualFunc(a, b, func(x, y v1alpha1.VerifyUnavailable) bool {
		return x.Message == y.Message && slices.Equal(x.Kinds, y.Kinds)
	})
}
