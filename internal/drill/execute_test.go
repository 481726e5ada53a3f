package drill

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// TestRecordRoundTrip: the ConfigMap a drill writes decodes to the same
// record, and a record without a region is refused.
func TestRecordRoundTrip(t *testing.T) {
	want := &Record{Region: "sto1", Via: v1alpha1.DrillViaSim, StateDir: "/tmp/st", Nodes: []string{"a", "b"},
		Taints:  []RecordedTaint{{Node: "a", Key: v1alpha1.DrillTaintKey, Value: "true", Effect: "NoExecute"}},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Version: "v1.2.3"}
	cm, err := want.configMap()
	if err != nil {
		t.Fatal(err)
	}
	if cm.Namespace != RecordNamespace || cm.Name != RecordName {
		t.Errorf("ConfigMap %s/%s", cm.Namespace, cm.Name)
	}
	got, err := recordOf(cm)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	delete(cm.Data, "region")
	if _, err := recordOf(cm); err == nil {
		t.Error("a record without a region decoded")
	}
	cm.Data["region"], cm.Data["taints"] = "sto1", "{"
	if _, err := recordOf(cm); err == nil {
		t.Error("a record with broken taints decoded")
	}
}

// TestDifference: verdicts, availability and the recovery tolerance of
// max(15 s, 25 %).
func TestDifference(t *testing.T) {
	rec := func(secs int64) *v1alpha1.DrillWorkload {
		return &v1alpha1.DrillWorkload{Verdict: v1alpha1.VerdictRecovers, Available: true, RecoverySeconds: secs}
	}
	obs := func(v v1alpha1.Verdict, avail bool, secs int64) *v1alpha1.DrillObservation {
		return &v1alpha1.DrillObservation{Verdict: v, Available: avail, RecoverySeconds: secs}
	}
	for _, tc := range []struct {
		name  string
		d     *v1alpha1.DrillWorkload
		o     *v1alpha1.DrillObservation
		match bool
	}{
		{"same", rec(30), obs(v1alpha1.VerdictRecovers, true, 30), true},
		{"15 s early on a short prediction", rec(30), obs(v1alpha1.VerdictRecovers, true, 15), true},
		{"16 s late on a short prediction", rec(30), obs(v1alpha1.VerdictRecovers, true, 46), false},
		{"25 % late on a long prediction", rec(340), obs(v1alpha1.VerdictRecovers, true, 425), true},
		{"more than 25 % late", rec(340), obs(v1alpha1.VerdictRecovers, true, 426), false},
		{"another verdict", rec(30), obs(v1alpha1.VerdictPending, true, 0), false},
		{"availability", rec(30), obs(v1alpha1.VerdictRecovers, false, 30), false},
		{"hangs as predicted", &v1alpha1.DrillWorkload{Verdict: v1alpha1.VerdictHangs}, obs(v1alpha1.VerdictHangs, false, 0), true},
	} {
		diff := difference(tc.d, tc.o)
		if (diff == "") != tc.match {
			t.Errorf("%s: difference %q, want match %t", tc.name, diff, tc.match)
		}
	}
	if Tolerance(10) != ToleranceSeconds || Tolerance(400) != 100 {
		t.Errorf("Tolerance(10) = %d, Tolerance(400) = %d", Tolerance(10), Tolerance(400))
	}
}

// TestTaintedEviction: under drill's own taint a pod without a toleration
// for it leaves at once, one tolerating it for a while after that while,
// one tolerating every taint never; and a StatefulSet recovers.
func TestTaintedEviction(t *testing.T) {
	pod := func(tols ...corev1.Toleration) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tols}}
	}
	unreachable := corev1.Toleration{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(5))}
	if secs, forever, grace := taintedEvictionSeconds([]*corev1.Pod{pod(unreachable)}); secs != 0 || forever || grace != 0 {
		t.Errorf("a pod tolerating only unreachable: %d %t %d", secs, forever, grace)
	}
	own := corev1.Toleration{Key: v1alpha1.DrillTaintKey, Operator: corev1.TolerationOpExists, TolerationSeconds: new(int64(7))}
	if secs, forever, _ := taintedEvictionSeconds([]*corev1.Pod{pod(), pod(own)}); secs != 7 || forever {
		t.Errorf("a pod tolerating the drill's taint 7 s: %d %t", secs, forever)
	}
	if _, forever, _ := taintedEvictionSeconds([]*corev1.Pod{pod(corev1.Toleration{Operator: corev1.TolerationOpExists})}); !forever {
		t.Error("a pod tolerating every taint is evicted")
	}
}

// TestPredictTainted: a loss by drill's own taint (Options.Tainted)
// evicts at once, without a grace period, and a StatefulSet recovers since
// its node's kubelet confirms the deletion; a naive zone spread still
// counts the tainted region and stays Pending.
func TestPredictTainted(t *testing.T) {
	m := exampleModel(t)
	s := nodes(m)
	deployment(s)
	s.Pods = append(s.Pods,
		pod("db-0", "sto1-w-0", "StatefulSet/db", nil),
		pod("web-1-a", "sto1-w-0", "ReplicaSet/web-1", func(p *corev1.Pod) {
			p.Labels = map[string]string{"app": "web"}
			p.Spec.Tolerations = []corev1.Toleration{{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds(300)}}
		}),
		pod("naive-a", "sto1-w-1", "Job/naive", naiveSpread),
		pod("naive-b", "sto2-w-1", "Job/naive", naiveSpread),
	)
	byKind := map[string]v1alpha1.DrillWorkload{}
	for _, w := range Predict(s, m, "sto1", Options{Tainted: true}).Workloads {
		byKind[w.Kind] = w
	}
	if db := byKind["StatefulSet"]; db.Verdict != v1alpha1.VerdictRecovers || db.RecoverySeconds != SchedulingSeconds {
		t.Errorf("StatefulSet under the drill's taint: %+v", db)
	}
	if web := byKind["Deployment"]; web.Verdict != v1alpha1.VerdictRecovers || web.RecoverySeconds != SchedulingSeconds || !strings.Contains(web.Reason, v1alpha1.DrillTaintKey) {
		t.Errorf("Deployment under the drill's taint: %+v", web)
	}
	if naive := byKind["Job"]; naive.Verdict != v1alpha1.VerdictPending {
		t.Errorf("naive spread under the drill's taint: %+v", naive)
	}
}
