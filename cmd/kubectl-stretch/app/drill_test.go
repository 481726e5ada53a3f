package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TestDrillArbiterAllowed: --lose takes the arbiter as well as a data
// region; the region check passes and drill goes on to the cluster.
func TestDrillArbiterAllowed(t *testing.T) {
	code, out, errOut := run(t, "drill", "-f", example, "--lose", "osl1", "--kubeconfig", t.TempDir()+"/missing")
	if code != ExitError || out != "" || strings.Contains(errOut, "not in spec.regions") || errOut == "" {
		t.Errorf("exit %d, stdout %q, stderr %q: want the cluster connection refused, not the region", code, out, errOut)
	}
}

// drillJSON runs drill -o json and decodes its report.
func drillJSON(t *testing.T, want int, args ...string) v1alpha1.DrillReport {
	t.Helper()
	code, out, errOut := run(t, append([]string{"drill", "-f", example, "-o", "json"}, args...)...)
	var r v1alpha1.DrillReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != want {
		t.Fatalf("drill %v: exit %d (want %d), %v\nstdout:\n%s\nstderr:\n%s", args, code, want, err, out, errOut)
	}
	return r
}

// byName returns the report's workloads by kind/name.
func byName(r v1alpha1.DrillReport) map[string]v1alpha1.DrillWorkload {
	out := map[string]v1alpha1.DrillWorkload{}
	for _, w := range r.Workloads {
		out[w.Kind+"/"+w.Name] = w
	}
	return out
}

// TestDrillLive predicts the loss of each region of the example, its
// bundle applied to a real API server with the state its controllers
// write (verify's fixture).
func TestDrillLive(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	start := time.Now()
	cp := sim.StartForTest(t)
	if err := cp.InstallBundleCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	fx := newVerifyFixture(t, cp.RESTConfig())
	// The fixture's API servers are bare pods; a kubelet's are mirror pods.
	for _, n := range fx.model.Nodes {
		if !n.ControlPlane {
			continue
		}
		fx.deletePod(t, "kube-system", "kube-apiserver-"+n.Name)
		fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-" + n.Name, Namespace: "kube-system",
			Labels:      map[string]string{"component": "kube-apiserver", "tier": "control-plane"},
			Annotations: map[string]string{"kubernetes.io/config.mirror": "simulated"}}}, n.Name)
	}
	// The API server tainted the nodes not-ready when they were created;
	// with no node lifecycle controller here, drop the taint as it does
	// once they are Ready (the scheduler, and drill, would refuse them).
	nodes, err := fx.client.CoreV1().Nodes().List(fx.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == drill.TaintNotReady })
		if _, err := fx.client.CoreV1().Nodes().Update(fx.ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("cluster ready in %s", time.Since(start).Round(time.Millisecond))
	admin := "--kubeconfig=" + cp.Kubeconfig()
	want := int64(drill.DefaultTolerationSeconds + 40 + drill.SchedulingSeconds)

	t.Run("lose sto1", func(t *testing.T) {
		r := drillJSON(t, ExitFailed, admin, "--lose", "sto1")
		if r.Kind != v1alpha1.KindDrillReport || r.APIVersion != v1alpha1.APIVersion || r.LostRegion != "sto1" || r.Topology != "demo-eu" {
			t.Errorf("header %s %s %s %s", r.APIVersion, r.Kind, r.Topology, r.LostRegion)
		}
		if p := r.Platform; !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum || !p.CephStretchDegraded {
			t.Errorf("platform %+v: want every quorum kept and Ceph in degraded stretch mode", p)
		}
		if !strings.Contains(strings.Join(r.Platform.Reasons, "\n"), "3 of 5 mons left, 3 needed (mon pods)") {
			t.Errorf("mons not counted from their pods: %q", r.Platform.Reasons)
		}
		w := byName(r)
		if len(w) != 3 {
			t.Errorf("workloads %+v: want storefront, orders-db and log-shipper", r.Workloads)
		}
		sf := w["Deployment/storefront"]
		if sf.Verdict != v1alpha1.VerdictRecovers || !sf.Available || sf.RecoverySeconds != want || sf.PodsLost != 1 || sf.Failed || !strings.Contains(sf.Reason, "replaced on sto2-w-") {
			t.Errorf("storefront: %+v", sf)
		}
		// The bundle's PDB for it, maxUnavailable 1, holds with one of two
		// replicas left.
		if sf.PDB != "shop/storefront-stretch" || sf.PDBViolated || !strings.Contains(sf.Reason, "holds during the outage") {
			t.Errorf("storefront's PDB: %q violated=%v (%s)", sf.PDB, sf.PDBViolated, sf.Reason)
		}
		if db := w["StatefulSet/orders-db"]; db.Verdict != v1alpha1.VerdictHangs || !db.Available || !db.Failed {
			t.Errorf("orders-db: %+v", db)
		}
		if ls := w["DaemonSet/log-shipper"]; ls.Verdict != v1alpha1.VerdictUnaffected || ls.PodsLost != 2 || ls.Failed {
			t.Errorf("log-shipper: %+v", ls)
		}
	})

	// The bundle's stretch-verify ClusterRole grants every kind drill
	// lists, persistentvolumes included: its group gets the admin's report.
	t.Run("only the stretch-verify ClusterRole", func(t *testing.T) {
		kc := fx.userKubeconfig(t, cp, "driller", "stretch:verifiers")
		r := drillJSON(t, ExitFailed, "--kubeconfig="+kc, "--lose", "sto1")
		if len(r.Unavailable) != 0 || len(r.Workloads) != 3 {
			t.Errorf("as a member of stretch:verifiers: unavailable %+v, %d workloads", r.Unavailable, len(r.Workloads))
		}
	})

	t.Run("lose sto1 fenced", func(t *testing.T) {
		r := drillJSON(t, ExitOK, admin, "--lose", "sto1", "--fence")
		if db := byName(r)["StatefulSet/orders-db"]; db.Verdict != v1alpha1.VerdictRecovers || db.RecoverySeconds != 40+drill.SchedulingSeconds {
			t.Errorf("orders-db once fenced: %+v", db)
		}
	})

	t.Run("rto", func(t *testing.T) {
		r := drillJSON(t, ExitFailed, admin, "--lose", "sto2", "--fence", "--rto", "30s")
		if sf := byName(r)["Deployment/storefront"]; !sf.Failed || !strings.Contains(sf.Reason, "slower than --rto 30s") {
			t.Errorf("storefront with --rto 30s: %+v", sf)
		}
	})

	t.Run("lose the arbiter", func(t *testing.T) {
		r := drillJSON(t, ExitOK, admin, "--lose", "osl1")
		if p := r.Platform; !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum || p.CephStretchDegraded {
			t.Errorf("platform %+v: want every quorum kept and stretch mode healthy", p)
		}
		for _, w := range r.Workloads {
			if w.Verdict != v1alpha1.VerdictUnaffected {
				t.Errorf("%s/%s: %s (%s), want unaffected", w.Kind, w.Name, w.Verdict, w.Reason)
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		code, out, _ := run(t, "drill", admin, "-f", example, "--lose", "sto1")
		t.Logf("drill --lose sto1:\n%s", out)
		if code != ExitFailed || !strings.Contains(out, "platform: etcd quorum yes, API server yes, Ceph mon quorum yes, Ceph stretch mode degraded, ingress endpoints 0 of 0") ||
			!strings.Contains(out, "losing sto1: 3 workloads: 1 recover, 1 hang, 0 pending, 0 lost, 1 unaffected; 1 fail") {
			t.Errorf("table (exit %d):\n%s", code, out)
		}
	})
}

// judgedDeployment is a two-replica Deployment whose pods leave an
// unreachable node after 5 s, spread over the zones by spread.
func judgedDeployment(name string, spread func(*corev1.Pod)) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "main", Image: "registry.example/" + name + ":1"}},
		Tolerations: []corev1.Toleration{
			{Key: drill.TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(5))},
			{Key: drill.TaintNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(5))},
		},
	}}
	spread(p)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "judged"}, Spec: appsv1.DeploymentSpec{
		Replicas: new(int32(2)),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec},
	}}
}

// zoneSpread is a maxSkew 1 DoNotSchedule zone spread; honor adds
// nodeTaintsPolicy: Honor and keeps the pods off the arbiter, as render's
// patch does.
func zoneSpread(honor bool) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: topology.LabelZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: p.Labels}}
		if honor {
			c.NodeTaintsPolicy = new(corev1.NodeInclusionPolicyHonor)
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelArbiter, Operator: corev1.NodeSelectorOpDoesNotExist}}}},
			}}}
		}
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{c}
	}
}

// zoneAntiAffinity keeps the pods of one app in different zones
// (required): two replicas cannot both run in one region.
func zoneAntiAffinity(p *corev1.Pod) {
	p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
		TopologyKey: topology.LabelZone, LabelSelector: &metav1.LabelSelector{MatchLabels: p.Labels},
	}}}}
}

// hostAntiAffinity is render's patched zone spread plus a required
// hostname anti-affinity: the replacement must avoid its sibling's node.
func hostAntiAffinity(p *corev1.Pod) {
	zoneSpread(true)(p)
	p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
		TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: p.Labels},
	}}}
}

// minDomainsSpread is render's patched zone spread with minDomains 2:
// with one region left, the global minimum counts as 0.
func minDomainsSpread(p *corev1.Pod) {
	zoneSpread(true)(p)
	p.Spec.TopologySpreadConstraints[0].MinDomains = new(int32(2))
}

// pinnedVolume is a local PersistentVolume on node sto1-w-0, bound in
// advance to the claim judged/pinned-data.
func pinnedVolume() (*corev1.PersistentVolume, *corev1.PersistentVolumeClaim) {
	size := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "judged-local"}, Spec: corev1.PersistentVolumeSpec{
		Capacity: size, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: "",
		PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/judged"}},
		ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: "judged", Name: "pinned-data"},
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"sto1-w-0"}}},
		}}}},
	}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "pinned-data", Namespace: "judged"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: new(""), VolumeName: pv.Name,
		Resources: corev1.VolumeResourceRequirements{Requests: size},
	}}
	return pv, pvc
}

// TestDrillJudgedByScheduler predicts the loss of sto1 for Deployments
// that exercise drill's placement filters, then fails sto1 on the
// simulated cluster (real kube-scheduler and kube-controller-manager,
// kwok kubelets) and checks each prediction against what the scheduler
// does: the patched zone spread's replacement lands in sto2, and so does
// the one with a hostname anti-affinity, on another node than its
// sibling; the naive spread, the zone anti-affinity, the minDomains 2
// spread and a pod whose volume is bound to a node of sto1 stay Pending,
// for the reason drill gave.
func TestDrillJudgedByScheduler(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	c, model, client := exampleCluster(t)
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "judged"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deployments := []*appsv1.Deployment{
		judgedDeployment("naive", zoneSpread(false)),
		judgedDeployment("patched", zoneSpread(true)),
		judgedDeployment("apart", zoneAntiAffinity),
		judgedDeployment("hostapart", hostAntiAffinity),
		judgedDeployment("mindomains", minDomainsSpread),
	}
	pv, pvc := pinnedVolume()
	if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().PersistentVolumeClaims("judged").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pinned := judgedDeployment("pinned", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}}}}
	})
	pinned.Spec.Replicas = new(int32(1))
	for _, d := range append(deployments, pinned) {
		if _, err := client.AppsV1().Deployments("judged").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// pods returns the live pods of app by the region of their node ("" when
	// unscheduled), how many are Ready, the nodes they run on, and the
	// scheduler's message for an unschedulable one.
	region := map[string]string{}
	for _, n := range model.Nodes {
		region[n.Name] = n.Region
	}
	type state struct {
		byRegion      map[string]int
		ready         int
		nodes         []string
		unschedulable string
	}
	pods := func(app string) state {
		list, err := client.CoreV1().Pods("judged").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			t.Fatal(err)
		}
		st := state{byRegion: map[string]int{}}
		for _, p := range list.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			st.byRegion[region[p.Spec.NodeName]]++
			if p.Spec.NodeName != "" {
				st.nodes = append(st.nodes, p.Spec.NodeName)
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					st.ready++
				}
				if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
					st.unschedulable = cond.Message
				}
			}
		}
		return st
	}
	waitFor := func(what string, limit time.Duration, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, limit)
			}
			time.Sleep(time.Second)
		}
	}
	waitFor("every Deployment Ready, one pod per data region", 90*time.Second, func() bool {
		for _, d := range deployments {
			st := pods(d.Name)
			if st.ready != 2 || st.byRegion["sto1"] != 1 || st.byRegion["sto2"] != 1 {
				return false
			}
		}
		st := pods("pinned")
		return st.ready == 1 && st.byRegion["sto1"] == 1
	})
	before := pods("hostapart").nodes

	r := drillJSON(t, ExitFailed, "--kubeconfig="+c.Kubeconfig(), "--lose", "sto1", "--node-monitor-grace-period", sim.DefaultNodeMonitorGracePeriod.String())
	w := byName(r)
	predicted := map[string]struct {
		verdict v1alpha1.Verdict
		reason  string
		// scheduler is what the scheduler's FailedScheduling message says
		// for a pending replacement.
		scheduler string
	}{
		"naive":      {v1alpha1.VerdictPending, "set nodeTaintsPolicy: Honor", "topology spread constraints"},
		"patched":    {v1alpha1.VerdictRecovers, "replaced on sto2-", ""},
		"apart":      {v1alpha1.VerdictPending, "pod anti-affinity: a pod it must avoid runs in topology.kubernetes.io/zone=sto2", "anti-affinity"},
		"hostapart":  {v1alpha1.VerdictRecovers, "replaced on sto2-", ""},
		"mindomains": {v1alpha1.VerdictPending, "fewer than minDomains 2", "topology spread constraints"},
		"pinned":     {v1alpha1.VerdictPending, "node affinity of PersistentVolume judged-local does not match", "didn't match PersistentVolume's node affinity"},
	}
	for name, want := range predicted {
		got := w["Deployment/"+name]
		if got.Verdict != want.verdict || !strings.Contains(got.Reason, want.reason) {
			t.Errorf("prediction for %s: %s (%s), want %s saying %q", name, got.Verdict, got.Reason, want.verdict, want.reason)
		}
		t.Logf("predicted %s: %s in %d s: %s", name, got.Verdict, got.RecoverySeconds, got.Reason)
	}
	if t.Failed() {
		t.FailNow()
	}
	// The node drill names for hostapart's replacement is not its
	// sibling's.
	hostapart := w["Deployment/hostapart"]
	for _, n := range before {
		if region[n] == "sto2" && strings.Contains(hostapart.Reason, "replaced on "+n) {
			t.Errorf("drill places hostapart's replacement on its sibling's node %s: %s", n, hostapart.Reason)
		}
	}

	failed := time.Now()
	if err := c.Fail(ctx, "sto1"); err != nil {
		t.Fatal(err)
	}
	// The judge: the recovering replacements run in sto2; then each
	// pending one's replacement exists and the scheduler has found it
	// unschedulable, for the reason drill gave.
	for _, name := range []string{"patched", "hostapart"} {
		waitFor(name+" back at 2 Ready pods in sto2", 120*time.Second, func() bool {
			st := pods(name)
			return st.ready == 2 && st.byRegion["sto2"] == 2
		})
		t.Logf("observed: %s back at 2 Ready pods in sto2 %s after the outage (predicted %d s)", name, time.Since(failed).Round(time.Second), w["Deployment/"+name].RecoverySeconds)
	}
	if st := pods("hostapart"); len(st.nodes) != 2 || st.nodes[0] == st.nodes[1] {
		t.Errorf("hostapart runs on %v: want two different nodes", st.nodes)
	}
	for _, name := range []string{"naive", "apart", "mindomains", "pinned"} {
		var st state
		waitFor(name+"'s replacement found unschedulable", 60*time.Second, func() bool {
			st = pods(name)
			return st.byRegion[""] == 1 && st.unschedulable != ""
		})
		left := 1 // a Ready pod in sto2
		if name == "pinned" {
			left = 0
		}
		if st.byRegion["sto2"] != left || st.ready != left || !strings.Contains(st.unschedulable, predicted[name].scheduler) {
			t.Errorf("%s after the loss: %v with %d Ready, scheduler: %q; want its replacement Pending (%q) and its sto2 pod Ready",
				name, st.byRegion, st.ready, st.unschedulable, predicted[name].scheduler)
		}
		t.Logf("observed: %s's replacement unschedulable: %s", name, st.unschedulable)
	}
}
