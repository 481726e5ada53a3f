package drill

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/descheduler"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// rebalanceBundle renders testdata/topologies/valid/rebalance.yaml with a
// 5 s evictionSeconds and a 5 s rebalance interval and returns its files.
func rebalanceBundle(t *testing.T) (*topology.Model, map[string][]byte) {
	t.Helper()
	const file = "../../testdata/topologies/valid/rebalance.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for old, repl := range map[string]string{"evictionSeconds: 30": "evictionSeconds: 5", "interval: 2m": "interval: 5s"} {
		if !strings.Contains(text, old) {
			t.Fatalf("%s has no %q", file, old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	f, err := topology.Parse([]byte(text), file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, bf := range out.Bundle.Files {
		files[bf.Path] = bf.Data
	}
	return topology.NewModel(f.Topology), files
}

// decodeFile decodes a bundle file into v.
func decodeFile(t *testing.T, files map[string][]byte, path string, v any) {
	t.Helper()
	data, ok := files[path]
	if !ok {
		t.Fatalf("the bundle has no %s", path)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// storefrontPods returns the running, not terminating storefront pods by
// region.
func storefrontPods(ctx context.Context, t *testing.T, client kubernetes.Interface, m *topology.Model) map[string]int {
	t.Helper()
	pods, err := client.CoreV1().Pods("shop").List(ctx, metav1.ListOptions{LabelSelector: "app=storefront"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !running(p) || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, n := range m.Nodes {
			if n.Name == p.Spec.NodeName {
				out[n.Region]++
			}
		}
	}
	return out
}

// waitPods polls until the storefront's running pods per region are want.
func waitPods(t *testing.T, client kubernetes.Interface, m *topology.Model, want map[string]int, timeout time.Duration, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var got map[string]int
	for {
		got = storefrontPods(ctx, t, client, m)
		if equalCounts(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: storefront pods by region %v after %s, want %v", what, got, timeout, want)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestSpreadReturnsWithDescheduler plays a region loss on the simulated
// cluster (real kube-apiserver, scheduler and controller-manager, kwok
// kubelets) with the storefront Deployment and budget render writes for
// the rebalance topology: after sto1 fails, its pod is evicted after the
// 5 s evictionSeconds and replaced in sto2; after sto1 returns the spread
// stays skewed (2 pods in sto2, none in sto1) for three descheduling
// intervals, because the scheduler never moves a running pod. The real
// descheduler with the rendered policy then does not evict while the
// budget allows no disruption, and once the rendered budget is back it
// evicts one pod, which the scheduler places in sto1: WaitSpreadReturn
// reports how long the spread took to return.
func TestSpreadReturnsWithDescheduler(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the simulated cluster")
	}
	model, files := rebalanceBundle(t)
	var deploy appsv1.Deployment
	var pdb policyv1.PodDisruptionBudget
	var release flux.HelmRelease
	var values descheduler.Values
	decodeFile(t, files, "workloads/apps/deployment_shop_storefront.yaml", &deploy)
	decodeFile(t, files, "workloads/apps/poddisruptionbudget_shop_storefront-stretch.yaml", &pdb)
	decodeFile(t, files, "workloads/descheduler/helmrelease.yaml", &release)
	if err := json.Unmarshal(release.Spec.Values, &values); err != nil {
		t.Fatal(err)
	}
	interval, err := time.ParseDuration(values.DeschedulingInterval)
	if err != nil || interval != 5*time.Second {
		t.Fatalf("rendered interval %q (%v), want 5s", values.DeschedulingInterval, err)
	}
	if ts := deploy.Spec.Template.Spec.Tolerations; len(ts) != 2 || ts[0].TolerationSeconds == nil || *ts[0].TolerationSeconds != 5 {
		t.Fatalf("rendered tolerations %+v, want evictionSeconds 5", ts)
	}

	state := t.TempDir()
	c := sim.StartClusterForTestWith(t, sim.ClusterOptions{
		Options:                sim.Options{StateDir: state},
		Topology:               model,
		NodeMonitorGracePeriod: 6 * time.Second,
	})
	client, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PolicyV1().PodDisruptionBudgets("shop").Create(ctx, &pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().Deployments("shop").Create(ctx, &deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPods(t, client, model, map[string]int{"sto1": 1, "sto2": 1}, 60*time.Second, "rollout")

	if err := c.Fail(ctx, "sto1"); err != nil {
		t.Fatal(err)
	}
	waitPods(t, client, model, map[string]int{"sto2": 2}, 90*time.Second, "after sto1 failed")
	if err := c.Heal(ctx, "sto1"); err != nil {
		t.Fatal(err)
	}
	workloads, err := SpreadWorkloads(ctx, client, []string{"shop"})
	if err != nil || len(workloads) != 1 || workloads[0].Name != "storefront" {
		t.Fatalf("SpreadWorkloads: %v, %+v; want the storefront", err, workloads)
	}

	// Without a descheduler nothing moves the pods back.
	wait := func(d time.Duration) ([]SpreadReturn, error) {
		wctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return WaitSpreadReturn(wctx, client, workloads, SpreadOptions{Poll: 500 * time.Millisecond})
	}
	rs, err := wait(3 * interval)
	if err == nil || rs[0].Returned || len(rs[0].Skews) == 0 || rs[0].Skews[0].Skew != 2 {
		t.Fatalf("without the descheduler: %v, %+v; want the zone skew to stay 2", err, rs)
	}

	// The rendered policy, while the budget allows no eviction.
	strict := pdb.DeepCopy()
	zero := intstr.FromInt32(0)
	live, err := client.PolicyV1().PodDisruptionBudgets("shop").Get(ctx, pdb.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Spec.MaxUnavailable = &zero
	live, err = client.PolicyV1().PodDisruptionBudgets("shop").Update(ctx, live, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The Eviction API reads the budget's status: wait until the
	// disruption controller has seen the change.
	for deadline := time.Now().Add(30 * time.Second); ; {
		got, err := client.PolicyV1().PodDisruptionBudgets("shop").Get(ctx, pdb.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.ObservedGeneration >= live.Generation && got.Status.DisruptionsAllowed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget status %+v 30 s after maxUnavailable 0", got.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := c.StartDescheduler(ctx, values.DeschedulerPolicy, interval); err != nil {
		var missing *sim.MissingBinaryError
		if errors.As(err, &missing) {
			t.Fatal(missing.Error())
		}
		t.Fatal(err)
	}
	rs, err = wait(3 * interval)
	if err == nil || rs[0].Returned {
		t.Fatalf("descheduler with maxUnavailable 0: %v, %+v; want the budget to block every eviction", err, rs)
	}
	logFile := filepath.Join(state, "logs", sim.DeschedulerName+".log")
	logData, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	blocked := string(logData)
	if !strings.Contains(blocked, "Error evicting pod") || !strings.Contains(blocked, "disruption budget") {
		t.Errorf("the descheduler's log does not say the budget refused an eviction:\n%s", tailOf(logData))
	}
	if strings.Contains(blocked, `"Evicted pod"`) {
		t.Errorf("the descheduler evicted a pod although the budget allowed no disruption:\n%s", tailOf(logData))
	}

	// The rendered budget (maxUnavailable 1) lets it evict one pod.
	live, err = client.PolicyV1().PodDisruptionBudgets("shop").Get(ctx, pdb.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Spec = strict.Spec
	if _, err := client.PolicyV1().PodDisruptionBudgets("shop").Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rs, err = wait(120 * time.Second)
	if err != nil || !rs[0].Returned || rs[0].Seconds() == nil {
		t.Fatalf("with the descheduler: %v, %+v; want the spread back within maxSkew", err, rs)
	}
	t.Logf("spread returned %s after the budget allowed it (spreadReturnSeconds %d)", rs[0].After, *rs[0].Seconds())
	logData, err = os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var evicted []string
	for _, line := range strings.Split(strings.TrimPrefix(string(logData), blocked), "\n") {
		if strings.Contains(line, `"Evicted pod"`) {
			evicted = append(evicted, line)
		}
	}
	if len(evicted) != 1 {
		t.Errorf("the descheduler evicted %d pods once the budget allowed it, want 1:\n%s", len(evicted), strings.Join(evicted, "\n"))
	}
	t.Logf("descheduler: %s", strings.Join(evicted, "\n"))
	waitPods(t, client, model, map[string]int{"sto1": 1, "sto2": 1}, 30*time.Second, "after the descheduler")
	if err := c.StopDescheduler(); err != nil {
		t.Error(err)
	}
}

// tailOf returns the last 4 KiB of a log.
func tailOf(b []byte) string {
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
