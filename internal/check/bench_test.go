package check_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/procstat"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// The shape of the benchmark cluster: 1,000 nodes (per data region one
// control plane, benchWorkers workers and benchStorage storage nodes; in
// the arbiter region a control plane and a worker) and 20,000 workload pods
// (benchDeployments Deployments of benchReplicas replicas, spread over
// benchNamespaces namespaces), plus the control-plane and Ceph pods.
const (
	benchWorkers     = 494
	benchStorage     = 4
	benchDeployments = 400
	benchReplicas    = 50
	benchNamespaces  = 20
	// benchParallel bounds the requests in flight while the cluster is
	// built.
	benchParallel = 16
	benchManager  = "kubectl-stretch-bench"
)

var (
	benchCephClusterGVR   = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters"}
	benchCephBlockPoolGVR = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephblockpools"}
)

// BenchmarkVerifyAtScale runs verify against a real etcd and kube-apiserver
// holding 1,000 nodes and 20,000 running pods, all created through the API
// (no scheduler, no kwok: the benchmark writes what the kubelets and the
// workload controllers would). Setup is not timed.
//
// Sub-benchmarks: in-process/* time what verify does (NewClient, Take,
// Run) at three page sizes and report the API requests per run, counted in
// the client transport; process runs the released binary (stripped, no
// cgo) as "verify -o json" and reports its wall time and peak RSS, sampled
// from /proc/<pid>/status (VmHWM). The request counts of the same cluster
// before the workers and the workloads were added (12 nodes, 18 pods) are
// logged and reported as small-cluster-requests, to compare; so is the live
// heap one snapshot holds.
func BenchmarkVerifyAtScale(b *testing.B) {
	if testing.Short() {
		b.Skip("needs bin/testbin and a few minutes (-short)")
	}
	// Setup is not timed: each sub-benchmark has its own timer, which
	// b.Loop starts.
	start := time.Now()
	cp := sim.StartForTest(b) // fails with "run make testbin" when a binary is missing
	if err := cp.InstallBundleCRDs(b.Context()); err != nil {
		b.Fatal(err)
	}
	verifyBin := testenv.BuildReleased(b, "../../cmd/kubectl-stretch")
	topoPath := filepath.Join(b.TempDir(), "topology.yaml")
	if err := os.WriteFile(topoPath, benchTopology(), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := topology.Load(topoPath)
	if err != nil {
		b.Fatalf("generated topology: %v", err)
	}
	model := topology.NewModel(f.Topology)
	if len(model.Nodes) != 1000 {
		b.Fatalf("generated topology has %d nodes, want 1000", len(model.Nodes))
	}
	bc := newBenchCluster(b, cp, model)
	bc.applyBundle(f.Topology)
	b.Logf("control plane, CRDs and bundle ready in %s", time.Since(start).Round(time.Millisecond))

	// verify's own client configuration: the kubeconfig sets no rate
	// limit, so NewClient applies its default (50 QPS, burst 100).
	verifyCfg := cp.RESTConfig()
	verifyCfg.QPS, verifyCfg.Burst = 0, 0

	// The small cluster: the control-plane, storage and arbiter nodes and
	// the Rook and control-plane pods, about the example's size.
	bc.systemNodesAndPods()
	small := map[string]int64{}
	for _, chunk := range []int64{0, 5000, -1} {
		snap := takeAndRun(b, verifyCfg, model, chunk)
		small[chunkName(chunk)] = snap.Requests
		b.Logf("small cluster (%d nodes, %d pods): %d API requests at %s", len(snap.Nodes), len(snap.Pods), snap.Requests, chunkName(chunk))
	}

	// The large cluster: the workers and the workloads.
	setup := time.Now()
	bc.workloads()
	b.Logf("1,000 nodes and %d pods created in %s (%d requests)", benchDeployments*benchReplicas,
		time.Since(setup).Round(time.Millisecond), bc.requests.Load())

	// Verify must pass on this cluster: a failing check could end early
	// and time less work.
	// It also gives the live heap the snapshot holds, the floor of
	// verify's peak memory.
	client, err := check.NewClient(verifyCfg)
	if err != nil {
		b.Fatal(err)
	}
	before := liveHeap()
	snap, err := check.Take(b.Context(), client, check.Options{})
	if err != nil {
		b.Fatal(err)
	}
	report := check.Run(snap, model, check.Checks())
	held := liveHeap() - before
	goruntime.KeepAlive(snap)
	if s := report.Summary; s.Passed != s.Checks {
		var msgs []string
		for _, r := range report.Results {
			if r.Status != check.StatusPass && len(msgs) < 20 {
				msgs = append(msgs, fmt.Sprintf("%s %s: %s", r.ID, r.Status, r.Message))
			}
		}
		b.Fatalf("verify does not pass on the benchmark cluster: %s\n%s", report.SummaryLine(), strings.Join(msgs, "\n"))
	}
	b.Logf("large cluster (%d nodes, %d pods, %d Deployments, %d ReplicaSets, %d PDBs): %s",
		len(snap.Nodes), len(snap.Pods), len(snap.Deployments), len(snap.ReplicaSets), len(snap.PDBs), report.SummaryLine())
	b.Logf("the snapshot and report hold %.0f MiB of live heap", float64(held)/(1<<20))
	b.Logf("setup took %s in all", time.Since(start).Round(time.Millisecond))
	snap, report, client = nil, nil, nil

	for _, chunk := range []int64{0, 5000, -1} {
		b.Run("in-process/"+chunkName(chunk), func(b *testing.B) {
			b.ReportAllocs()
			var requests int64
			var listing, checking time.Duration
			for b.Loop() {
				client, err := check.NewClient(verifyCfg)
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				snap, err := check.Take(b.Context(), client, check.Options{ChunkSize: chunk})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				report := check.Run(snap, model, check.Checks())
				checking += time.Since(t1)
				listing += t1.Sub(t0)
				requests += client.Requests()
				if report.Summary.Passed != report.Summary.Checks {
					b.Fatal(report.SummaryLine())
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(requests)/n, "requests/op")
			b.ReportMetric(float64(small[chunkName(chunk)]), "small-cluster-requests")
			b.ReportMetric(listing.Seconds()/n, "snapshot-s")
			b.ReportMetric(checking.Seconds()/n, "checks-s")
		})
	}

	b.Run("process", func(b *testing.B) {
		var requests, peak int64
		for b.Loop() {
			cmd := exec.Command(verifyBin, "verify", "-f", topoPath, "--kubeconfig", cp.Kubeconfig(), "-o", "json")
			out, rss := runSampled(b, cmd)
			var r check.Report
			if err := json.Unmarshal(out, &r); err != nil {
				b.Fatalf("verify -o json: %v\n%s", err, out)
			}
			if r.Summary.Passed != r.Summary.Checks {
				b.Fatalf("verify: %+v", r.Summary)
			}
			requests += r.Summary.APIRequests
			peak = max(peak, rss)
		}
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	})
}

// liveHeap collects garbage and returns the bytes of live heap objects.
func liveHeap() int64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// chunkName names a page size as verify's flag does.
func chunkName(chunk int64) string {
	switch {
	case chunk == 0:
		return "chunk-" + strconv.Itoa(check.DefaultChunkSize)
	case chunk < 0:
		return "unpaged"
	}
	return "chunk-" + strconv.FormatInt(chunk, 10)
}

// takeAndRun does what verify does once and returns the snapshot.
func takeAndRun(b *testing.B, cfg *rest.Config, m *topology.Model, chunk int64) *check.Snapshot {
	b.Helper()
	client, err := check.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := check.Take(b.Context(), client, check.Options{ChunkSize: chunk})
	if err != nil {
		b.Fatal(err)
	}
	check.Run(snap, m, check.Checks())
	return snap
}

// runSampled runs cmd and returns its standard output and peak RSS.
func runSampled(b *testing.B, cmd *exec.Cmd) ([]byte, int64) {
	b.Helper()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	_, rss, err := procstat.Run(cmd)
	if err != nil {
		b.Fatal(err)
	}
	return stdout.Bytes(), rss
}

// benchTopology generates the 1,000-node topology.
func benchTopology() []byte {
	var y strings.Builder
	y.WriteString(`apiVersion: stretch.dev/v1alpha1
kind: Topology
metadata:
  name: bench-eu
spec:
  kubernetes:
    version: "1.35.4"
    apiEndpoint: api.bench.example.eu
  network:
    interRegionRTTms: 12
  adminCIDRs: [198.51.100.0/28]
  regions:
`)
	for r, region := range []string{"sto1", "sto2"} {
		net := 10 * (r + 1)
		fmt.Fprintf(&y, "  - name: %s\n    role: data\n    nodes:\n", region)
		fmt.Fprintf(&y, "    - {name: %s-cp-0, ip: 10.%d.0.10, roles: [control-plane, etcd]}\n", region, net)
		for s := range benchStorage {
			fmt.Fprintf(&y, "    - {name: %s-s-%d, ip: 10.%d.0.%d, roles: [storage], devices: [vdb], cpu: \"8\", memory: 32Gi}\n", region, s, net, 30+s)
		}
		for w := range benchWorkers {
			fmt.Fprintf(&y, "    - {name: %s-w-%03d, ip: 10.%d.%d.%d, roles: [worker], cpu: \"16\", memory: 64Gi}\n",
				region, w, net, 1+w/200, 10+w%200)
		}
	}
	y.WriteString(`  - name: osl1
    role: arbiter
    nodes:
    - {name: osl1-cp-0, ip: 10.30.0.10, roles: [control-plane, etcd]}
    - {name: osl1-w-0, ip: 10.30.0.20, roles: [worker]}
  storage:
    blockPools:
    - {name: replicapool, storageClass: ceph-block, default: true}
  workloads:
    minReplicas: 2
`)
	return []byte(y.String())
}

// benchCluster writes, through the API, what Kubespray, the kubelets,
// Calico, Rook and the workload controllers would.
type benchCluster struct {
	b        *testing.B
	ctx      context.Context
	cfg      *rest.Config
	client   kubernetes.Interface
	dyn      dynamic.Interface
	model    *topology.Model
	requests atomic.Int64
	nodeIPs  map[string]string
}

func newBenchCluster(b *testing.B, cp *sim.ControlPlane, m *topology.Model) *benchCluster {
	bc := &benchCluster{b: b, ctx: b.Context(), cfg: cp.RESTConfig(), model: m, nodeIPs: map[string]string{}}
	// Setup is not what is measured: no client-side rate limit, protobuf.
	cfg := cp.RESTConfig()
	cfg.QPS, cfg.Burst = 2000, 4000
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countRT{rt, &bc.requests} })
	var err error
	if bc.client, err = kubernetes.NewForConfig(cfg); err != nil {
		b.Fatal(err)
	}
	if bc.dyn, err = dynamic.NewForConfig(bc.cfg); err != nil {
		b.Fatal(err)
	}
	for _, n := range m.Nodes {
		bc.nodeIPs[n.Name] = n.IP
	}
	return bc
}

// countRT counts the setup's requests.
type countRT struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// parallel calls fn(0) ... fn(n-1) on benchParallel goroutines and fails
// the benchmark with the first error.
func (bc *benchCluster) parallel(what string, n int, fn func(i int) error) {
	bc.b.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(benchParallel, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop handing out work
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		bc.b.Fatalf("%s: %v", what, first)
	}
}

// applyBundle applies the rendered bundle for real, as Flux would.
func (bc *benchCluster) applyBundle(t *v1alpha1.Topology) {
	bc.b.Helper()
	out, err := generators.Render(bc.ctx, t, generators.Options{BaseDir: bc.b.TempDir()})
	if err != nil {
		bc.b.Fatal(err)
	}
	objs := []*unstructured.Unstructured{{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "flux-system"},
	}}}
	for _, file := range out.Bundle.Files {
		if strings.HasPrefix(file.Path, "kubespray/") || strings.HasSuffix(file.Path, "/kustomization.yaml") {
			continue
		}
		decoded, err := apply.Decode(file.Data)
		if err != nil {
			bc.b.Fatalf("%s: %v", file.Path, err)
		}
		objs = append(objs, decoded...)
	}
	if err := apply.Apply(bc.ctx, bc.cfg, objs, benchManager); err != nil {
		bc.b.Fatal(err)
	}
}

// largeStage reports whether a node is added with the workloads: the
// workers of the data regions.
func largeStage(n topology.NodeModel) bool { return n.Worker && !n.Arbiter }

// systemNodesAndPods creates the control-plane, storage and arbiter nodes,
// the kube-apiserver pods and Rook's pods and status.
func (bc *benchCluster) systemNodesAndPods() {
	bc.b.Helper()
	var nodes []topology.NodeModel
	for _, n := range bc.model.Nodes {
		if !largeStage(n) {
			nodes = append(nodes, n)
		}
	}
	bc.parallel("create nodes", len(nodes), func(i int) error { return bc.node(nodes[i]) })
	bc.serviceAccounts("kube-system", bc.model.Storage.Namespace)

	var pods []*corev1.Pod
	for _, n := range bc.model.Nodes {
		if n.ControlPlane {
			pods = append(pods, systemPod("kube-apiserver-"+n.Name, "kube-system", n.Name,
				map[string]string{"component": "kube-apiserver", "tier": "control-plane"}))
		}
	}
	ns := bc.model.Storage.Namespace
	mons := []string{"a", "b", "c", "d", "e"}
	monNodes := []string{"sto1-s-0", "sto1-s-1", "sto2-s-0", "sto2-s-1", "osl1-cp-0"}
	for i, id := range mons {
		zone := strings.SplitN(monNodes[i], "-", 2)[0]
		pods = append(pods, systemPod("rook-ceph-mon-"+id, ns, monNodes[i],
			map[string]string{"app": "rook-ceph-mon", "mon": id, "mon_cluster": ns, "zone": zone}))
	}
	for i, node := range bc.model.Storage.StorageNodes {
		id := strconv.Itoa(i)
		zone := strings.SplitN(node, "-", 2)[0]
		pods = append(pods, systemPod("rook-ceph-osd-"+id, ns, node,
			map[string]string{"app": "rook-ceph-osd", "ceph-osd-id": id, "osd": id, "topology-location-zone": zone,
				"topology-location-host": node, "topology-location-region": bc.model.Name}))
	}
	for i, node := range []string{"sto1-s-0", "sto2-s-0"} {
		id := string(rune('a' + i))
		pods = append(pods, systemPod("rook-ceph-mgr-"+id, ns, node, map[string]string{"app": "rook-ceph-mgr", "mgr": id}))
	}
	bc.parallel("create system pods", len(pods), func(i int) error { return bc.pod(pods[i], i) })

	bc.crStatus(benchCephClusterGVR, ns, map[string]any{
		"phase": "Ready", "state": "Created", "message": "Cluster created successfully",
		"ceph": map[string]any{"health": "HEALTH_OK", "lastChecked": "2026-08-21T10:00:00Z"},
	})
	bc.crStatus(benchCephBlockPoolGVR, "builtin-mgr", map[string]any{"phase": "Ready"})
	bc.crStatus(benchCephBlockPoolGVR, "replicapool", map[string]any{"phase": "Ready"})
}

func systemPod(name, ns, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "main", Image: "registry.example/" + strings.TrimSuffix(name, "-"+node) + ":1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")}},
		}}},
	}
}

// serviceAccounts creates the default ServiceAccounts that
// kube-controller-manager would (pods cannot be admitted without them).
func (bc *benchCluster) serviceAccounts(namespaces ...string) {
	bc.b.Helper()
	for _, ns := range namespaces {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
		if _, err := bc.client.CoreV1().ServiceAccounts(ns).Create(bc.ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			bc.b.Fatal(err)
		}
	}
}

// crStatus writes the status of a Rook object, as the operator would.
func (bc *benchCluster) crStatus(gvr schema.GroupVersionResource, name string, status map[string]any) {
	bc.b.Helper()
	res := bc.dyn.Resource(gvr).Namespace(bc.model.Storage.Namespace)
	obj, err := res.Get(bc.ctx, name, metav1.GetOptions{})
	if err != nil {
		bc.b.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj.Object, status, "status"); err != nil {
		bc.b.Fatal(err)
	}
	if _, err := res.UpdateStatus(bc.ctx, obj, metav1.UpdateOptions{}); err != nil {
		bc.b.Fatal(err)
	}
}

// node registers a node as Kubespray and its kubelet would, with Calico's
// annotations, and marks it Ready.
func (bc *benchCluster) node(n topology.NodeModel) error {
	node, err := sim.NodeObject(n, bc.model.Kubernetes.Version)
	if err != nil {
		return err
	}
	i := nodeIndex(bc.model, n.Name)
	node.Annotations = map[string]string{
		"projectcalico.org/WireguardPublicKey": sim.WireGuardPublicKey(n.Name),
		// One address per node in the pod subnet (10.233.64.0/18).
		"projectcalico.org/IPv4WireguardInterfaceAddr":           fmt.Sprintf("10.233.%d.%d", 64+i*16/256, i*16%256+1),
		"projectcalico.org/IPv4Address":                          n.IP + "/16",
		"node.alpha.kubernetes.io/ttl":                           "0",
		"volumes.kubernetes.io/controller-managed-attach-detach": "true",
	}
	node.Spec.PodCIDR = fmt.Sprintf("10.233.%d.%d/28", 64+i*16/256, i*16%256)
	status := node.Status
	created, err := bc.client.CoreV1().Nodes().Create(bc.ctx, node, metav1.CreateOptions{FieldManager: benchManager})
	if err != nil {
		return err
	}
	now := metav1.Now()
	created.Status = status
	for _, c := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		created.Status.Conditions = append(created.Status.Conditions, corev1.NodeCondition{Type: c, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficient" + strings.TrimSuffix(string(c), "Pressure"), LastHeartbeatTime: now, LastTransitionTime: now})
	}
	created.Status.Conditions = append(created.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now})
	created.Status.DaemonEndpoints.KubeletEndpoint.Port = 10250
	created.Status.NodeInfo.ContainerRuntimeVersion = "containerd://2.1.4"
	created.Status.NodeInfo.KernelVersion = "6.1.0-37-amd64"
	created.Status.NodeInfo.OSImage = "Debian GNU/Linux 12 (bookworm)"
	created.Status.NodeInfo.MachineID = digest(n.Name)[:32]
	created.Status.NodeInfo.SystemUUID = digest("uuid/" + n.Name)[:32]
	created.Status.NodeInfo.BootID = digest("boot/" + n.Name)[:32]
	_, err = bc.client.CoreV1().Nodes().UpdateStatus(bc.ctx, created, metav1.UpdateOptions{FieldManager: benchManager})
	return err
}

func nodeIndex(m *topology.Model, name string) int {
	for i, n := range m.Nodes {
		if n.Name == name {
			return i
		}
	}
	return 0
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// pod creates p on its node and marks it Running, as the kubelet would.
// i numbers the pod (its IP).
func (bc *benchCluster) pod(p *corev1.Pod, i int) error {
	created, err := bc.client.CoreV1().Pods(p.Namespace).Create(bc.ctx, p, metav1.CreateOptions{FieldManager: benchManager})
	if err != nil {
		return err
	}
	now := metav1.Now()
	podIP := fmt.Sprintf("10.233.%d.%d", 64+i/256%64, i%256)
	hostIP := bc.nodeIPs[p.Spec.NodeName]
	created.Status.Phase = corev1.PodRunning
	created.Status.HostIP, created.Status.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	created.Status.PodIP, created.Status.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	created.Status.StartTime = &now
	created.Status.Conditions = nil
	for _, c := range []corev1.PodConditionType{"PodReadyToStartContainers", corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		created.Status.Conditions = append(created.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range created.Spec.Containers {
		created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + digest(c.Image),
			ContainerID: "containerd://" + digest(p.Namespace+"/"+p.Name+"/"+c.Name),
			Ready:       true, Started: new(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	_, err = bc.client.CoreV1().Pods(p.Namespace).UpdateStatus(bc.ctx, created, metav1.UpdateOptions{FieldManager: benchManager})
	return err
}

// workloads adds the data regions' workers and benchDeployments
// Deployments, each with its ReplicaSet, PodDisruptionBudget and
// benchReplicas Running pods, half in each data region.
func (bc *benchCluster) workloads() {
	bc.b.Helper()
	var workers [2][]string // by data region
	var nodes []topology.NodeModel
	for _, n := range bc.model.Nodes {
		if largeStage(n) {
			nodes = append(nodes, n)
			r := 0
			if n.Region == bc.model.Data[1] {
				r = 1
			}
			workers[r] = append(workers[r], n.Name)
		}
	}
	bc.parallel("create nodes", len(nodes), func(i int) error { return bc.node(nodes[i]) })

	namespaces := make([]string, benchNamespaces)
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("team-%02d", i)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i], Labels: map[string]string{"team": namespaces[i]}}}
		if _, err := bc.client.CoreV1().Namespaces().Create(bc.ctx, ns, metav1.CreateOptions{}); err != nil {
			bc.b.Fatal(err)
		}
	}
	bc.serviceAccounts(namespaces...)

	deployments := make([]*appsv1.Deployment, benchDeployments)
	bc.parallel("create Deployments", benchDeployments, func(d int) error {
		var err error
		deployments[d], err = bc.client.AppsV1().Deployments(namespaces[d%benchNamespaces]).Create(bc.ctx,
			benchDeployment(namespaces[d%benchNamespaces], fmt.Sprintf("app-%03d", d)), metav1.CreateOptions{FieldManager: benchManager})
		return err
	})
	replicaSets := make([]*appsv1.ReplicaSet, benchDeployments)
	bc.parallel("create ReplicaSets and PDBs", benchDeployments, func(d int) error {
		dep := deployments[d]
		hash := digest(dep.Name)[:10]
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: dep.Name + "-" + hash, Namespace: dep.Namespace,
				Labels:          map[string]string{"app": dep.Name, "pod-template-hash": hash},
				Annotations:     map[string]string{"deployment.kubernetes.io/desired-replicas": strconv.Itoa(benchReplicas), "deployment.kubernetes.io/max-replicas": strconv.Itoa(benchReplicas + 13), "deployment.kubernetes.io/revision": "1"},
				OwnerReferences: []metav1.OwnerReference{benchControllerRef("Deployment", dep.Name, dep.UID)}},
			Spec: appsv1.ReplicaSetSpec{Replicas: dep.Spec.Replicas,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": dep.Name, "pod-template-hash": hash}},
				Template: *dep.Spec.Template.DeepCopy()},
		}
		rs.Spec.Template.Labels = rs.Labels
		var err error
		if replicaSets[d], err = bc.client.AppsV1().ReplicaSets(dep.Namespace).Create(bc.ctx, rs, metav1.CreateOptions{FieldManager: benchManager}); err != nil {
			return err
		}
		pdb := &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: dep.Name + "-stretch", Namespace: dep.Namespace, Labels: map[string]string{"app": dep.Name}},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromInt32(1)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": dep.Name}}},
		}
		_, err = bc.client.PolicyV1().PodDisruptionBudgets(dep.Namespace).Create(bc.ctx, pdb, metav1.CreateOptions{FieldManager: benchManager})
		return err
	})
	// The controllers' status.
	bc.parallel("write Deployment and ReplicaSet status", benchDeployments, func(d int) error {
		dep, rs := deployments[d], replicaSets[d]
		now := metav1.Now()
		dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: benchReplicas, UpdatedReplicas: benchReplicas,
			ReadyReplicas: benchReplicas, AvailableReplicas: benchReplicas, Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
					Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
					Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name), LastUpdateTime: now, LastTransitionTime: now},
			}}
		if _, err := bc.client.AppsV1().Deployments(dep.Namespace).UpdateStatus(bc.ctx, dep, metav1.UpdateOptions{FieldManager: benchManager}); err != nil {
			return err
		}
		rs.Status = appsv1.ReplicaSetStatus{ObservedGeneration: rs.Generation, Replicas: benchReplicas, FullyLabeledReplicas: benchReplicas,
			ReadyReplicas: benchReplicas, AvailableReplicas: benchReplicas}
		_, err := bc.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(bc.ctx, rs, metav1.UpdateOptions{FieldManager: benchManager})
		return err
	})

	// The pods: replica r of Deployment d in data region r%2, on the
	// region's workers in turn (about 20 pods per worker).
	bc.parallel("create pods", benchDeployments*benchReplicas, func(i int) error {
		d, r := i/benchReplicas, i%benchReplicas
		rs := replicaSets[d]
		region := workers[r%2]
		node := region[(d*benchReplicas/2+r/2)%len(region)]
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s", rs.Name, digest(strconv.Itoa(i))[:5]), Namespace: rs.Namespace,
				Labels:          rs.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{benchControllerRef("ReplicaSet", rs.Name, rs.UID)}},
			Spec: *rs.Spec.Template.Spec.DeepCopy(),
		}
		p.Spec.NodeName = node
		return bc.pod(p, len(bc.model.Nodes)+i)
	})
}

func benchControllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: new(true), BlockOwnerDeletion: new(true)}
}

// benchDeployment is a Deployment as kubectl stretch render leaves it:
// zone and hostname spreads, affinity to the data regions, requests.
func benchDeployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name, "team": ns}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(benchReplicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "app",
						Image: "registry.example/" + ns + "/" + name + ":1.4.2",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"},
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
							PeriodSeconds: 10},
					}},
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
							MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"sto1", "sto2"}}},
						}}},
					}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
						{MaxSkew: 1, TopologyKey: topology.LabelZone, WhenUnsatisfiable: corev1.DoNotSchedule,
							NodeTaintsPolicy: new(corev1.NodeInclusionPolicyHonor), LabelSelector: &metav1.LabelSelector{MatchLabels: labels}},
						{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway,
							LabelSelector: &metav1.LabelSelector{MatchLabels: labels}},
					},
				},
			},
		},
	}
}
