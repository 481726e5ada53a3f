//go:build linux

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/fence"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// drillGrace is the simulated cluster's node monitor grace period in the
// execute tests: short, so that each scenario takes seconds.
const drillGrace = 6 * time.Second

// detachedExample starts the example's simulated cluster detached, as
// `sim up` does (drill --via sim opens its state folder), and stops it
// when the test ends.
func detachedExample(t *testing.T) (*sim.Detached, *topology.Model, kubernetes.Interface) {
	t.Helper()
	binDir := requireTestbin(t)
	f, err := topology.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	model := topology.NewModel(f.Topology)
	state := filepath.Join(t.TempDir(), "st")
	start := time.Now()
	d, err := sim.Up(t.Context(), sim.UpOptions{ClusterOptions: sim.ClusterOptions{
		Options:  sim.Options{StateDir: state, BinDir: binDir},
		Topology: model, NodeMonitorGracePeriod: drillGrace,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := d.Down(context.Background()); err != nil {
			t.Errorf("sim down: %v", err)
		}
	})
	t.Logf("simulated cluster up in %s", time.Since(start).Round(time.Second))
	cfg, err := d.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	return d, model, kubernetes.NewForConfigOrDie(cfg)
}

// monPods runs the topology's five mons (2/2/1) as pods of Rook's
// namespace bound to a node of each region, tolerating every taint: the
// platform's mon quorum is counted from them.
func monPods(t *testing.T, client kubernetes.Interface, m *topology.Model) {
	t.Helper()
	ns := m.Storage.Namespace
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	placement := map[string]int{}
	for _, r := range m.Regions {
		n := 2
		if r.Name == m.Arbiter {
			n = 1
		}
		placement[r.Name] = n
	}
	i := 0
	for _, node := range m.Nodes {
		if placement[node.Region] == 0 {
			continue
		}
		placement[node.Region]--
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rook-ceph-mon-%c", 'a'+i), Namespace: ns,
			Labels: map[string]string{"app": rook.AppMon}},
			Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "mon", Image: "quay.io/ceph/ceph:v19"}},
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}}
		if _, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		i++
	}
}

// tolerating sets the pods' tolerationSeconds for the unreachable and
// not-ready taints, as render does with spec.workloads.evictionSeconds.
func tolerating(secs int64) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{
			{Key: drill.TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(secs)},
			{Key: drill.TaintNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(secs)},
		}
	}
}

// scenarioDeployment is judgedDeployment in namespace ns with replicas and
// each change applied to its pod template.
func scenarioDeployment(name string, replicas int32, changes ...func(*corev1.Pod)) *appsv1.Deployment {
	d := judgedDeployment(name, zoneSpread(true))
	d.Namespace = "drill"
	d.Spec.Replicas = new(replicas)
	p := &corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
	for _, c := range changes {
		c(p)
	}
	d.Spec.Template.Spec = p.Spec
	return d
}

// settled waits until every pod of namespace drill is bound, Ready and
// not being deleted, and each Deployment and StatefulSet has its replicas.
func settled(t *testing.T, client kubernetes.Interface, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		why := ""
		pods, err := client.CoreV1().Pods("drill").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Spec.NodeName == "" || !isReady(&p) {
				why = "pod " + p.Name + " not Ready"
			}
		}
		deps, err := client.AppsV1().Deployments("drill").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps.Items {
			if d.Status.ReadyReplicas != *d.Spec.Replicas || d.Status.Replicas != *d.Spec.Replicas {
				why = "Deployment " + d.Name + " not at its replicas"
			}
		}
		sts, err := client.AppsV1().StatefulSets("drill").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts.Items {
			if s.Status.ReadyReplicas != *s.Spec.Replicas {
				why = "StatefulSet " + s.Name + " not Ready"
			}
		}
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace drill not settled within %s: %s", limit, why)
		}
		time.Sleep(time.Second)
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// executeDrill runs drill --execute --yes -o json, checks the exit code
// and decodes the report; its progress is logged.
func executeDrill(t *testing.T, want int, args ...string) v1alpha1.DrillReport {
	t.Helper()
	start := time.Now()
	code, out, errOut := run(t, append([]string{"drill", "-f", example, "-o", "json", "--execute", "--yes", "--interval", "500ms"}, args...)...)
	t.Logf("drill --execute %s: exit %d after %s; progress:\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Second), errOut)
	var r v1alpha1.DrillReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != want {
		t.Fatalf("exit %d (want %d), %v\nstdout:\n%s", code, want, err, out)
	}
	if r.Execution == nil || !r.Execution.Restored {
		t.Fatalf("execution %+v: want it restored", r.Execution)
	}
	return r
}

// checkMatch asserts that each named workload was observed as predicted,
// with the verdict want, and returns them by name.
func checkMatch(t *testing.T, r v1alpha1.DrillReport, want map[string]v1alpha1.Verdict) map[string]v1alpha1.DrillWorkload {
	t.Helper()
	w := byName(r)
	for name, verdict := range want {
		d, ok := w[name]
		switch {
		case !ok:
			t.Errorf("%s: not in the report", name)
		case d.Observed == nil || d.Match == nil:
			t.Errorf("%s: no observation", name)
		case d.Verdict != verdict || d.Observed.Verdict != verdict || !*d.Match:
			t.Errorf("%s: predicted %s (%d s, available %t: %s), observed %+v, match %t (%s); want %s both", name,
				d.Verdict, d.RecoverySeconds, d.Available, d.Reason, *d.Observed, *d.Match, d.Difference, verdict)
		default:
			t.Logf("%s: predicted %s %d s, observed %s %d s (min %d Ready)", name, d.Verdict, d.RecoverySeconds, d.Observed.Verdict, d.Observed.RecoverySeconds, d.Observed.MinReady)
		}
	}
	return w
}

// noDrillLeft asserts that the drill left nothing: no record, no taint of
// the drill's or out-of-service on any node, no failed region.
func noDrillLeft(t *testing.T, d *sim.Detached, client kubernetes.Interface) {
	t.Helper()
	if _, err := drill.ReadRecord(t.Context(), client); err != drill.ErrNoRecord {
		t.Errorf("drill record: %v, want none", err)
	}
	nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		for _, taint := range n.Spec.Taints {
			if taint.Key == v1alpha1.DrillTaintKey || taint.Key == fence.TaintKey {
				t.Errorf("node %s keeps the taint %s", n.Name, taint.Key)
			}
		}
	}
	reopened, err := sim.Open(d.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if failed := reopened.Failed(); len(failed) > 0 {
		t.Errorf("regions still failed: %v", failed)
	}
}

// TestDrillExecute predicts, then executes on the simulated cluster (real
// kube-apiserver, scheduler and controller-manager, kwok kubelets), the
// loss of each region, and asserts that prediction and observation match
// workload by workload: a one-replica StatefulSet hangs and recovers once
// fenced, a naive zone spread stays Pending while render's patched spread
// recovers in the surviving region, a region without the capacity leaves
// pods Pending, a shorter eviction toleration recovers sooner, and every
// quorum holds.
func TestDrillExecute(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	d, model, client := detachedExample(t)
	ctx := t.Context()
	monPods(t, client, model)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "drill"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// big takes 6 of a worker's 8 CPUs: one pod per worker, no room for
	// the lost region's two.
	bigRequests := func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("6")}
	}
	naive := judgedDeployment("naive", zoneSpread(false))
	naive.Namespace = "drill"
	for _, dep := range []*appsv1.Deployment{
		naive,
		scenarioDeployment("patched", 2, tolerating(5)),
		scenarioDeployment("slow", 2, tolerating(25)),
		scenarioDeployment("big", 4, tolerating(5), bigRequests),
	} {
		if _, err := client.AppsV1().Deployments("drill").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// db prefers sto1 and may run in sto2.
	labels := map[string]string{"app": "db"}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "drill"}, Spec: appsv1.StatefulSetSpec{
		Replicas: new(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "db", Image: "registry.example/db:1"}},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
				Weight: 100, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"sto1"}}}},
			}}}},
		}},
	}}
	if _, err := client.AppsV1().StatefulSets("drill").Create(ctx, db, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	settled(t, client, 90*time.Second)
	admin := "--kubeconfig=" + d.Kubeconfig()
	simFlags := []string{admin, "--via", "sim", "--state", d.Dir()}

	t.Run("lose sto1", func(t *testing.T) {
		plan := drillJSON(t, ExitFailed, admin, "--lose", "sto1", "--node-monitor-grace-period", drillGrace.String())
		r := executeDrill(t, ExitFailed, append(simFlags, "--lose", "sto1", "--timeout", "50s")...)
		w := checkMatch(t, r, map[string]v1alpha1.Verdict{
			"StatefulSet/db":     v1alpha1.VerdictHangs,
			"Deployment/naive":   v1alpha1.VerdictPending,
			"Deployment/patched": v1alpha1.VerdictRecovers,
			"Deployment/slow":    v1alpha1.VerdictRecovers,
			"Deployment/big":     v1alpha1.VerdictPending,
		})
		for name, p := range byName(plan) {
			if e := w[name]; e.Verdict != p.Verdict || e.RecoverySeconds != p.RecoverySeconds {
				t.Errorf("%s: plan mode %s %d s, execute mode predicted %s %d s", name, p.Verdict, p.RecoverySeconds, e.Verdict, e.RecoverySeconds)
			}
		}
		// evictionSeconds: 5 s against 25 s, measured.
		if fast, slow := w["Deployment/patched"].Observed, w["Deployment/slow"].Observed; fast.RecoverySeconds+10 > slow.RecoverySeconds {
			t.Errorf("tolerating 5 s recovered after %d s, 25 s after %d s: want the shorter toleration at least 10 s sooner", fast.RecoverySeconds, slow.RecoverySeconds)
		}
		if !strings.Contains(w["Deployment/big"].Reason, "insufficient cpu") {
			t.Errorf("big: %s: want the CPU named", w["Deployment/big"].Reason)
		}
		checkPlatform(t, r)
		noDrillLeft(t, d, client)
	})
	settled(t, client, 90*time.Second)

	t.Run("lose sto1 fenced", func(t *testing.T) {
		r := executeDrill(t, ExitFailed, append(simFlags, "--lose", "sto1", "--fence", "--timeout", "30s")...)
		checkMatch(t, r, map[string]v1alpha1.Verdict{
			"StatefulSet/db":   v1alpha1.VerdictRecovers,
			"Deployment/naive": v1alpha1.VerdictPending,
			"Deployment/big":   v1alpha1.VerdictPending,
		})
		noDrillLeft(t, d, client)
	})
	settled(t, client, 90*time.Second)

	t.Run("lose the arbiter", func(t *testing.T) {
		r := executeDrill(t, ExitOK, append(simFlags, "--lose", "osl1", "--timeout", "40s")...)
		for _, w := range r.Workloads {
			if w.Observed == nil || w.Observed.Verdict != v1alpha1.VerdictUnaffected || w.Match == nil || !*w.Match {
				t.Errorf("%s/%s: %+v", w.Kind, w.Name, w)
			}
		}
		checkPlatform(t, r)
		noDrillLeft(t, d, client)
	})

	t.Run("lose sto2 by taint", func(t *testing.T) {
		r := executeDrill(t, ExitFailed, admin, "--lose", "sto2", "--timeout", "30s")
		w := checkMatch(t, r, map[string]v1alpha1.Verdict{
			"Deployment/naive": v1alpha1.VerdictPending,
			"Deployment/big":   v1alpha1.VerdictPending,
		})
		// db runs in sto2 since it was fenced: evicted by the taint, its
		// kubelet confirms, and the StatefulSet recreates it in sto1.
		checkMatch(t, r, map[string]v1alpha1.Verdict{"StatefulSet/db": v1alpha1.VerdictRecovers})
		if r.Execution.Platform.EtcdQuorum != nil {
			t.Errorf("etcd observed with --via taint: %v", r.Execution.Platform.Reasons)
		}
		if p := w["Deployment/naive"]; p.Observed.MinReady != 1 {
			t.Errorf("naive: %d Ready in sto1 at the least, want its sto1 pod Ready throughout", p.Observed.MinReady)
		}
		noDrillLeft(t, d, client)
	})

	t.Run("a second drill is refused while one is recorded", func(t *testing.T) {
		rec := &drill.Record{Region: "sto1", Via: v1alpha1.DrillViaTaint, Started: time.Now()}
		if err := drill.CreateRecord(ctx, client, rec); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, "drill", "-f", example, admin, "--lose", "sto2", "--execute", "--yes")
		if code != ExitError || !strings.Contains(errOut, "drill --restore") {
			t.Errorf("exit %d, stderr %q: want it refused, naming drill --restore", code, errOut)
		}
		for range 2 { // twice: restore is idempotent
			if code, out, errOut := run(t, "drill", "-f", example, admin, "--restore"); code != ExitOK {
				t.Errorf("restore: exit %d\n%s%s", code, out, errOut)
			}
		}
		code, out, _ := run(t, "drill", "-f", example, admin, "--restore")
		if code != ExitOK || !strings.Contains(out, "nothing to restore") {
			t.Errorf("restore without a record: exit %d, %q", code, out)
		}
		noDrillLeft(t, d, client)
	})

	t.Run("killed drills are restored", func(t *testing.T) {
		settled(t, client, 90*time.Second)
		// A random moment in each stretch of a drill: starting (before or
		// while the record is written), failing the region, observing.
		random := func(from, to time.Duration) time.Duration { return from + time.Duration(rand.Int64N(int64(to-from))) }
		for i, delay := range []time.Duration{random(0, time.Second), random(time.Second, 3*time.Second), random(3*time.Second, 12*time.Second)} {
			c := start(t, t.TempDir(), "drill", "-f", absPath(t, example), admin, "--via", "sim", "--state", d.Dir(), "--lose", "sto1", "--execute", "--yes", "--timeout", "1m")
			time.Sleep(delay)
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-c.done
			t.Logf("kill %d after %s; the drill had printed:\n%s", i, delay, c.stderr.String())
			if code, out, errOut := run(t, "drill", "-f", example, admin, "--restore"); code != ExitOK {
				t.Errorf("restore: exit %d\n%s%s", code, out, errOut)
			}
			noDrillLeft(t, d, client)
		}
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			c := start(t, t.TempDir(), "drill", "-f", absPath(t, example), admin, "--via", "sim", "--state", d.Dir(), "--lose", "sto1", "--execute", "--yes", "--timeout", "1m")
			waitRecord(t, client, c)
			time.Sleep(time.Duration(500+rand.IntN(2000)) * time.Millisecond)
			if err := c.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-c.done:
			case <-time.After(drill.RestoreTimeout):
				t.Fatalf("%s: the drill did not end", sig)
			}
			code := c.cmd.ProcessState.ExitCode()
			t.Logf("%s: exit %d, stderr:\n%s", sig, code, c.stderr.String())
			if code != ExitInterrupted || !strings.Contains(c.stderr.String(), "restore: ConfigMap kube-system/kubectl-stretch-drill deleted") {
				t.Errorf("%s: exit %d, want %d after the drill's own restore", sig, code, ExitInterrupted)
			}
			noDrillLeft(t, d, client)
		}
	})
}

// waitRecord waits until the child drill has written its record.
func waitRecord(t *testing.T, client kubernetes.Interface, c *child) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := drill.ReadRecord(t.Context(), client); err == nil {
			return
		}
		if time.Now().After(deadline) || c.cmd.ProcessState != nil {
			t.Fatalf("no drill record; the drill printed:\n%s", c.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkPlatform asserts that every quorum was predicted kept and, where
// observed, observed kept.
func checkPlatform(t *testing.T, r v1alpha1.DrillReport) {
	t.Helper()
	p, o := r.Platform, r.Execution.Platform
	if !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum {
		t.Errorf("predicted platform %+v: want every quorum kept", p)
	}
	if !o.APIServer || o.EtcdQuorum == nil || !*o.EtcdQuorum || o.CephMonQuorum == nil || !*o.CephMonQuorum {
		t.Errorf("observed platform %v: want every quorum observed kept", o.Reasons)
	}
	t.Logf("platform observed: %s", strings.Join(o.Reasons, "; "))
}
