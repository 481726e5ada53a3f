package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/drill/drilltest"
	"github.com/stretch-dev/kubectl-stretch/internal/procstat"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// loadParallel bounds the requests in flight while a generated cluster is
// loaded into the API server.
const loadParallel = 16

// countingGetter is the cluster connection flags with every request of
// the clients built from them counted.
type countingGetter struct {
	genericclioptions.RESTClientGetter
	requests *atomic.Int64
}

func (g countingGetter) ToRESTConfig() (*rest.Config, error) {
	cfg, err := g.RESTClientGetter.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingRT{rt, g.requests} })
	return cfg, nil
}

// countingRT counts the requests that go through it.
type countingRT struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// planRun runs drill's plan mode in process: the drill command with the
// command line "drill -f topoPath --lose sto1 -o json --chunk-size chunk"
// and the given kubeconfig (every other flag at its default), and returns
// its report and the API requests it made. Exit status 1 (something would
// not recover) is a report, not an error.
func planRun(tb testing.TB, kubeconfig, topoPath string, chunk int64) (*v1alpha1.DrillReport, int64) {
	tb.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	var requests atomic.Int64
	var out, errOut bytes.Buffer
	cmd := NewCmdDrill(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, countingGetter{flags, &requests})
	cmd.SetArgs([]string{"-f", topoPath, "--lose", drilltest.DataRegions[0], "-o", "json", "--chunk-size", strconv.FormatInt(chunk, 10)})
	cmd.SetOut(&errOut)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(tb.Context())
	var exit *exitError
	if err != nil && !(errors.As(err, &exit) && exit.code == ExitFailed) {
		tb.Fatalf("drill: %v\n%s", err, errOut.String())
	}
	var r v1alpha1.DrillReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		tb.Fatalf("drill -o json: %v\n%s", err, out.String())
	}
	return &r, requests.Load()
}

// TestDrillRequestsGrowWithKinds runs plan mode against a real
// kube-apiserver holding 100 pods, then 2,000: with pages larger than
// both it makes the same requests, one per kind it lists and the version
// probe; with smaller pages, one per page, ceil(n/chunk) for the pods.
func TestDrillRequestsGrowWithKinds(t *testing.T) {
	cp := sim.StartForTest(t) // fails with "run make testbin" when a binary is missing
	shape := drilltest.Shape{Workers: 3, Namespaces: 2, Deployments: 2, DeploymentReplicas: 20,
		StatefulSets: 1, StatefulSetReplicas: 10, DaemonSets: 1, BarePods: 32}
	if shape.Pods() != 100 {
		t.Fatalf("the small cluster has %d pods, want 100", shape.Pods())
	}
	gen, topoPath, err := drilltest.Generate(shape, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loader, err := drilltest.NewLoader(cp.RESTConfig(), loadParallel)
	if err != nil {
		t.Fatal(err)
	}
	if err := loader.Load(t.Context(), gen); err != nil {
		t.Fatal(err)
	}
	// One LIST per kind, and the /version probe.
	perKinds := int64(len(check.DrillKinds())) + 1
	const big = 5000

	// The workloads: 2 Deployments, a StatefulSet, a DaemonSet and the
	// bare pods.
	workloads := shape.Deployments + shape.StatefulSets + shape.DaemonSets + shape.BarePods
	small, smallRequests := planRun(t, cp.Kubeconfig(), topoPath, big)
	if len(small.Workloads) != workloads {
		t.Fatalf("plan mode judged %d workloads, want the cluster's %d", len(small.Workloads), workloads)
	}
	if smallRequests != perKinds {
		t.Errorf("100 pods, --chunk-size %d: %d requests, want %d (one per kind and the probe)", big, smallRequests, perKinds)
	}

	if err := loader.LoadPods(t.Context(), drilltest.BarePods(gen, "extra", 1900)); err != nil {
		t.Fatal(err)
	}
	gen.Pods = append(gen.Pods, drilltest.BarePods(gen, "extra", 1900)...)
	want := drill.Predict(gen.Snapshot(), gen.Model, drilltest.DataRegions[0], drill.Options{})
	large, largeRequests := planRun(t, cp.Kubeconfig(), topoPath, big)
	if diff := sameVerdicts(&drill.Report{DrillReport: *large}, want); diff != "" {
		t.Errorf("plan mode on the API and on the same objects in memory differ: %s", diff)
	}
	if len(large.Workloads) != workloads+1900 {
		t.Fatalf("plan mode judged %d workloads, want the cluster's %d", len(large.Workloads), workloads+1900)
	}
	if largeRequests != smallRequests {
		t.Errorf("--chunk-size %d: %d requests with 2,000 pods, %d with 100: want the same", big, largeRequests, smallRequests)
	}
	if _, unpaged := planRun(t, cp.Kubeconfig(), topoPath, 0); unpaged != perKinds {
		t.Errorf("2,000 pods, --chunk-size 0: %d requests, want %d", unpaged, perKinds)
	}
	// Every other kind holds fewer objects than a page: it stays one
	// request; the pods take ceil(2000/chunk).
	for _, chunk := range []int64{300, 700} {
		want := perKinds - 1 + (2000+chunk-1)/chunk
		_, got := planRun(t, cp.Kubeconfig(), topoPath, chunk)
		if got != want {
			t.Errorf("2,000 pods, --chunk-size %d: %d requests, want %d (%d pages of pods)", chunk, got, want, (2000+chunk-1)/chunk)
		}
		t.Logf("2,000 pods, --chunk-size %d: %d requests", chunk, got)
	}
	t.Logf("--chunk-size %d: %d requests with 100 pods, %d with 2,000", big, smallRequests, largeRequests)
}

// sameVerdicts compares two reports workload by workload (kind, name,
// verdict, pods lost, recovery) and says where they differ first, or "".
func sameVerdicts(got, want *drill.Report) string {
	if len(got.Workloads) != len(want.Workloads) {
		return fmt.Sprintf("%d workloads, want %d", len(got.Workloads), len(want.Workloads))
	}
	for i, g := range got.Workloads {
		w := want.Workloads[i]
		if g.Kind != w.Kind || g.Namespace != w.Namespace || g.Name != w.Name || g.Verdict != w.Verdict ||
			g.PodsLost != w.PodsLost || g.RecoverySeconds != w.RecoverySeconds || g.Available != w.Available {
			return fmt.Sprintf("workload %d: %+v\nwant %+v", i, g, w)
		}
	}
	return ""
}

// BenchmarkDrillAtScale runs plan mode (drill -f T --lose sto1) against a
// real etcd and kube-apiserver holding 1,000 nodes and 20,000 running
// pods (drilltest.Scale: Deployments with their ReplicaSets,
// StatefulSets, DaemonSets and bare pods, with spread constraints,
// tolerations and requests), all created through the API once, before
// the timing (no scheduler or kubelet runs: the loader writes what they
// would).
//
// in-process times what the command does, split into the snapshot
// (takeSnapshotOf drill's kinds: the probe and one paginated LIST per
// kind) and the prediction (drill.Predict and the JSON report), and
// counts the API requests in the client transport. process runs the released binary
// (stripped, no cgo) as "drill -f T --lose sto1 -o json" and reports its
// wall time and peak RSS, sampled from /proc/<pid>/status (VmHWM).
func BenchmarkDrillAtScale(b *testing.B) {
	if testing.Short() {
		b.Skip("needs bin/testbin and a few minutes (-short)")
	}
	start := time.Now()
	cp := sim.StartForTest(b)
	// Rook's and Calico's CRDs, so that every kind is listed (an empty
	// list) as on a real cluster.
	if err := cp.InstallBundleCRDs(b.Context()); err != nil {
		b.Fatal(err)
	}
	gen, topoPath, err := drilltest.Generate(drilltest.Scale(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	loader, err := drilltest.NewLoader(cp.RESTConfig(), loadParallel)
	if err != nil {
		b.Fatal(err)
	}
	if err := loader.Load(b.Context(), gen); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d nodes and %d pods loaded in %s (%d requests, %d at a time)", len(gen.Nodes), len(gen.Pods),
		time.Since(start).Round(time.Millisecond), loader.Requests(), loadParallel)
	bin := testenv.BuildReleased(b, "..")
	f, err := topology.Load(topoPath)
	if err != nil {
		b.Fatal(err)
	}
	model := topology.NewModel(f.Topology)
	// What plan mode predicts from the API must be what it predicts from
	// the same objects in memory (BenchmarkPredict's).
	want := drill.Predict(gen.Snapshot(), model, "sto1", drill.Options{})
	b.Logf("setup took %s in all; in memory: %s", time.Since(start).Round(time.Millisecond), want.SummaryLine())
	// The generated objects are not needed any more: under the soft
	// memory limit that takeSnapshot sets, keeping them would make the
	// collector run through the in-process timing.
	wantWorkloads := len(gen.Deployments) + len(gen.StatefulSets) + len(gen.DaemonSets) + drilltest.Scale().BarePods
	gen = nil
	goruntime.GC()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig := cp.Kubeconfig()
	flags.KubeConfig = &kubeconfig

	b.Run("in-process", func(b *testing.B) {
		// takeSnapshot sets drill's soft memory limit on the Go heap: the
		// benchmarks run after this one get the process's back.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
		b.ReportAllocs()
		var requests atomic.Int64
		var listing, predicting time.Duration
		var r *drill.Report
		for b.Loop() {
			t0 := time.Now()
			snap, _, err := takeSnapshotOf(b.Context(), "drill", countingGetter{flags, &requests}, check.DefaultChunkSize, check.DrillKinds())
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			r = drill.Predict(snap, model, "sto1", drill.Options{})
			if err := r.Write(&bytes.Buffer{}, "json"); err != nil {
				b.Fatal(err)
			}
			predicting += time.Since(t1)
			listing += t1.Sub(t0)
		}
		if len(r.Workloads) != wantWorkloads || r.Partial() || sameVerdicts(r, want) != "" {
			b.Fatalf("%d workloads, want %d: %s\nin memory: %s\n%s", len(r.Workloads), wantWorkloads, r.SummaryLine(),
				want.SummaryLine(), sameVerdicts(r, want))
		}
		n := float64(b.N)
		b.ReportMetric(float64(requests.Load())/n, "requests/op")
		b.ReportMetric(listing.Seconds()/n, "snapshot-s")
		b.ReportMetric(predicting.Seconds()/n, "predict-s")
		b.Logf("%s", r.SummaryLine())
	})

	b.Run("process", func(b *testing.B) {
		var peak int64
		for b.Loop() {
			var out bytes.Buffer
			cmd := exec.Command(bin, "drill", "-f", topoPath, "--lose", "sto1", "-o", "json", "--kubeconfig", kubeconfig)
			cmd.Stdout = &out
			_, rss, err := procstat.Run(cmd)
			var exit *exec.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == ExitFailed) {
				b.Fatal(err)
			}
			var r v1alpha1.DrillReport
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				b.Fatalf("drill -o json: %v\n%s", err, out.String())
			}
			if len(r.Workloads) != wantWorkloads {
				b.Fatalf("drill: %d workloads, want %d", len(r.Workloads), wantWorkloads)
			}
			peak = max(peak, rss)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	})
}
