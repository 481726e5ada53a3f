package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

// TestDrillArbiterAllowed: --lose takes the arbiter as well as a data
// region; the region check passes and drill goes on to the cluster.
func TestDrillArbiterAllowed(t *testing.T) {
	code, out, errOut := run(t, "drill", "-f", example, "--lose", "osl1", "--kubeconfig", t.TempDir()+"/missing")
	if code != ExitError || out != "" || strings.Contains(errOut, "no such region") || errOut == "" {
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
		if p := r.Platform; !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum {
			t.Errorf("platform %+v: want every quorum kept", p)
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
		if db := w["StatefulSet/orders-db"]; db.Verdict != v1alpha1.VerdictHangs || !db.Available || !db.Failed {
			t.Errorf("orders-db: %+v", db)
		}
		if ls := w["DaemonSet/log-shipper"]; ls.Verdict != v1alpha1.VerdictUnaffected || ls.PodsLost != 2 || ls.Failed {
			t.Errorf("log-shipper: %+v", ls)
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
		if p := r.Platform; !p.EtcdQuorum || !p.APIServer || !p.CephMonQuorum {
			t.Errorf("platform %+v", p)
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
		if code != ExitFailed || !strings.Contains(out, "platform: etcd quorum yes, API server yes, Ceph mon quorum yes") ||
			!strings.Contains(out, "losing sto1: 3 workloads: 1 recover, 1 hang, 0 pending, 0 lost, 1 unaffected; 1 fail") {
			t.Errorf("table (exit %d):\n%s", code, out)
		}
	})
}
