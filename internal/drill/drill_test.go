package drill

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

func exampleModel(t *testing.T) *topology.Model {
	t.Helper()
	f, err := topology.Load("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return topology.NewModel(f.Topology)
}

// nodes builds the Ready nodes of m as Kubespray labels and taints them.
func nodes(m *topology.Model) *check.Snapshot {
	s := &check.Snapshot{}
	for _, n := range m.Nodes {
		labels := map[string]string{"kubernetes.io/hostname": n.Name}
		for k, v := range n.Labels {
			labels[k] = v
		}
		var taints []corev1.Taint
		for _, t := range n.InstalledTaints() {
			taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
		}
		cpu, mem := n.CPU, n.Memory
		if cpu == "" {
			cpu, mem = "4", "16Gi"
		}
		s.Nodes = append(s.Nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels},
			Spec:       corev1.NodeSpec{Taints: taints},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")},
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			},
		})
	}
	return s
}

// pod is a Ready pod of the app "app" on node, owned by owner (kind/name,
// or "" for a bare pod), with what tweak adds.
func pod(name, node, owner string, tweak func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": "app"}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if owner != "" {
		kind, oname, _ := strings.Cut(owner, "/")
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: oname, Controller: &yes}}
	}
	if tweak != nil {
		tweak(&p)
	}
	return p
}

// deployment adds the ReplicaSet web-1 of Deployment web.
func deployment(s *check.Snapshot) {
	yes := true
	s.ReplicaSets = append(s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Controller: &yes}}}})
}

func seconds(n int64) *int64 { return &n }

func naiveSpread(p *corev1.Pod) {
	p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: topology.LabelZone, WhenUnsatisfiable: corev1.DoNotSchedule,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}},
	}}
}

func patchedSpread(p *corev1.Pod) {
	naiveSpread(p)
	honor := corev1.NodeInclusionPolicyHonor
	p.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = &honor
	p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelArbiter, Operator: corev1.NodeSelectorOpDoesNotExist}}}},
	}}}
}

func requestCPU(cpu string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
}

// TestPredictVerdicts covers each verdict on built snapshots of the
// example topology, losing sto1.
func TestPredictVerdicts(t *testing.T) {
	m := exampleModel(t)
	const wantDefault = DefaultTolerationSeconds + 40 + SchedulingSeconds
	for _, tc := range []struct {
		name      string
		opts      Options
		pods      func(s *check.Snapshot)
		kind      string
		verdict   v1alpha1.Verdict
		available bool
		recovery  int64
		failed    bool
		reason    string
	}{{
		name: "deployment recovers after the default toleration",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", nil), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", nil))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, reason: "replaced on sto2-w-0",
	}, {
		name: "tolerationSeconds shortens the recovery",
		pods: func(s *check.Snapshot) {
			deployment(s)
			tol := func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds(30)}}
			}
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", tol), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", tol))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: 30 + 40 + SchedulingSeconds,
	}, {
		name: "--rto fails a slower recovery",
		opts: Options{RTO: time.Minute},
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", nil), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", nil))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, failed: true, reason: "slower than --rto 1m0s",
	}, {
		name: "a toleration without tolerationSeconds is never evicted",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
			}))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictHangs, failed: true, reason: "never evicted",
	}, {
		name: "naive zone spread stays pending",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", naiveSpread), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", naiveSpread))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, available: true, failed: true, reason: "set nodeTaintsPolicy: Honor",
	}, {
		name: "patched zone spread recovers",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", patchedSpread), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", patchedSpread))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, reason: "replaced on sto2-w-0",
	}, {
		name: "statefulset hangs until fenced",
		pods: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("db-0", "sto1-w-0", "StatefulSet/db", nil))
		},
		kind: "StatefulSet", verdict: v1alpha1.VerdictHangs, failed: true, reason: "stay Terminating",
	}, {
		name: "statefulset recovers once fenced",
		opts: Options{Fence: true},
		pods: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("db-0", "sto1-w-0", "StatefulSet/db", nil))
		},
		kind: "StatefulSet", verdict: v1alpha1.VerdictRecovers, recovery: 40 + SchedulingSeconds, reason: "out-of-service",
	}, {
		name: "bare pod is lost",
		pods: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("debug", "sto1-w-1", "", nil))
		},
		kind: "Pod", verdict: v1alpha1.VerdictLost, failed: true, reason: "never recreated",
	}, {
		name: "daemonset pods are not a failure",
		pods: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("agent-a", "sto1-w-0", "DaemonSet/agent", nil), pod("agent-b", "sto2-w-0", "DaemonSet/agent", nil))
		},
		kind: "DaemonSet", verdict: v1alpha1.VerdictUnaffected, available: true, reason: "not a failure",
	}, {
		name: "no pod in the lost region",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-b", "sto2-w-0", "ReplicaSet/web-1", nil))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictUnaffected, available: true,
	}, {
		name: "not enough CPU left",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods,
				pod("web-a", "sto1-w-0", "ReplicaSet/web-1", requestCPU("7")),
				pod("web-b", "sto2-w-0", "ReplicaSet/web-1", requestCPU("7")),
				pod("web-c", "sto2-w-1", "ReplicaSet/web-1", requestCPU("7")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, available: true, failed: true, reason: "insufficient cpu",
	}, {
		name: "nodeSelector pinned to the lost region",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", func(p *corev1.Pod) {
				p.Spec.NodeSelector = map[string]string{topology.LabelZone: "sto1"}
			}))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, failed: true, reason: "node affinity or nodeSelector",
	}, {
		name: "a ReplicaSet without a Deployment is its own workload",
		pods: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("rs-a", "sto1-w-0", "ReplicaSet/solo", nil))
		},
		kind: "ReplicaSet", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := nodes(m)
			tc.pods(s)
			r := Predict(s, m, "sto1", tc.opts)
			if len(r.Workloads) != 1 {
				t.Fatalf("got %d workloads, want 1: %+v", len(r.Workloads), r.Workloads)
			}
			w := r.Workloads[0]
			if w.Kind != tc.kind || w.Verdict != tc.verdict || w.Available != tc.available || w.RecoverySeconds != tc.recovery || w.Failed != tc.failed {
				t.Errorf("got %s %s available=%v recovery=%d failed=%v (%s), want %s %s available=%v recovery=%d failed=%v",
					w.Kind, w.Verdict, w.Available, w.RecoverySeconds, w.Failed, w.Reason, tc.kind, tc.verdict, tc.available, tc.recovery, tc.failed)
			}
			if !strings.Contains(w.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", w.Reason, tc.reason)
			}
			if r.Failed() != tc.failed {
				t.Errorf("report Failed() = %v, want %v", r.Failed(), tc.failed)
			}
		})
	}
}

// TestPredictPlatform counts etcd members, control planes and mons.
func TestPredictPlatform(t *testing.T) {
	m := exampleModel(t)
	mons := func(zones ...string) func(s *check.Snapshot) {
		return func(s *check.Snapshot) {
			for i, z := range zones {
				node := map[string]string{"sto1": "sto1-s-0", "sto2": "sto2-s-0", "osl1": "osl1-cp-0"}[z]
				s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: m.Storage.Namespace, Name: "mon-" + string(rune('a'+i)),
					Labels: map[string]string{"app": rook.AppMon, rook.LabelMonZone: z}}, Spec: corev1.PodSpec{NodeName: node}})
			}
		}
	}
	for _, tc := range []struct {
		name            string
		lose            string
		setup           func(s *check.Snapshot)
		etcd, api, ceph bool
		reason          string
	}{
		{name: "losing a data region keeps quorum (model's mons)", lose: "sto1", etcd: true, api: true, ceph: true, reason: "3 of 5 mons left, 3 needed (the topology's mon placement)"},
		{name: "losing the arbiter keeps quorum", lose: "osl1", etcd: true, api: true, ceph: true, reason: "4 of 5 mons left"},
		{name: "mon pods counted by their node", lose: "sto2", setup: mons("sto1", "sto1", "sto2", "sto2", "osl1"), etcd: true, api: true, ceph: true, reason: "3 of 5 mons left, 3 needed (mon pods)"},
		{name: "three mons in the lost region lose Ceph quorum", lose: "sto1", setup: mons("sto1", "sto1", "sto1", "sto2", "osl1"), etcd: true, api: true, ceph: false, reason: "2 of 5 mons left"},
		{name: "a NotReady etcd member elsewhere loses etcd quorum", lose: "sto1", setup: func(s *check.Snapshot) {
			for i := range s.Nodes {
				if s.Nodes[i].Name == "sto2-cp-0" {
					s.Nodes[i].Status.Conditions[0].Status = corev1.ConditionFalse
				}
			}
		}, etcd: false, api: false, ceph: true, reason: "1 of 3 members left, 2 needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := nodes(m)
			if tc.setup != nil {
				tc.setup(s)
			}
			r := Predict(s, m, tc.lose, Options{})
			p := r.Platform
			if p.EtcdQuorum != tc.etcd || p.APIServer != tc.api || p.CephMonQuorum != tc.ceph {
				t.Errorf("got etcd %v api %v ceph %v, want %v %v %v (%v)", p.EtcdQuorum, p.APIServer, p.CephMonQuorum, tc.etcd, tc.api, tc.ceph, p.Reasons)
			}
			if !strings.Contains(strings.Join(p.Reasons, "\n"), tc.reason) {
				t.Errorf("reasons %q do not say %q", p.Reasons, tc.reason)
			}
			if want := !(tc.etcd && tc.api && tc.ceph); r.Failed() != want {
				t.Errorf("Failed() = %v, want %v", r.Failed(), want)
			}
		})
	}
}

// TestPredictSkipsPlatformPods leaves static pods and Rook's daemons to
// the platform: they are not workloads that could fail over.
func TestPredictSkipsPlatformPods(t *testing.T) {
	m := exampleModel(t)
	s := nodes(m)
	s.Pods = append(s.Pods,
		pod("kube-apiserver-sto1-cp-0", "sto1-cp-0", "Node/sto1-cp-0", nil),
		pod("etcd-sto1-cp-0", "sto1-cp-0", "", func(p *corev1.Pod) {
			p.Annotations = map[string]string{annotationMirror: "abc"}
		}),
		pod("rook-ceph-osd-0", "sto1-s-0", "", func(p *corev1.Pod) { p.Namespace = m.Storage.Namespace }),
	)
	r := Predict(s, m, "sto1", Options{})
	if len(r.Workloads) != 0 || r.Failed() {
		t.Errorf("got workloads %+v (failed %v), want none", r.Workloads, r.Failed())
	}
}

// TestPredictPartial: a kind that could not be listed makes the report
// partial and says why.
func TestPredictPartial(t *testing.T) {
	m := exampleModel(t)
	s := nodes(m)
	s.Errors[check.KindPods] = errors.New("pods is forbidden")
	r := Predict(s, m, "sto1", Options{})
	if !r.Partial() || len(r.Unavailable) != 1 || !strings.Contains(r.Unavailable[0].Message, "forbidden") {
		t.Errorf("partial %v, unavailable %+v", r.Partial(), r.Unavailable)
	}
	var b bytes.Buffer
	if err := r.Write(&b, "table"); err != nil || !strings.Contains(b.String(), "PARTIAL REPORT") {
		t.Errorf("table (%v):\n%s", err, b.String())
	}
}

// TestReportFormats writes one report in every format.
func TestReportFormats(t *testing.T) {
	m := exampleModel(t)
	s := nodes(m)
	s.Pods = append(s.Pods, pod("db-0", "sto1-w-0", "StatefulSet/db", nil), pod("debug", "sto2-w-0", "", nil))
	r := Predict(s, m, "sto1", Options{})
	out := map[string]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := r.Write(&b, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = b.String()
	}
	var back v1alpha1.DrillReport
	if err := json.Unmarshal([]byte(out["json"]), &back); err != nil || back.Kind != "DrillReport" || back.APIVersion != "stretch.dev/v1alpha1" ||
		len(back.Workloads) != 2 || back.Workloads[0].Verdict != v1alpha1.VerdictUnaffected || back.Workloads[1].Verdict != v1alpha1.VerdictHangs {
		t.Errorf("json (%v):\n%s", err, out["json"])
	}
	if !strings.Contains(out["yaml"], "kind: DrillReport\n") || !strings.Contains(out["yaml"], "cephMonQuorum: true\n") {
		t.Errorf("yaml:\n%s", out["yaml"])
	}
	if !strings.Contains(out["junit"], `tests="5" failures="1"`) || !strings.Contains(out["junit"], `type="hangs"`) {
		t.Errorf("junit:\n%s", out["junit"])
	}
	if !strings.Contains(out["table"], "hangs (FAIL)") || !strings.HasSuffix(out["table"], "losing sto1: 2 workloads: 0 recover, 1 hang, 0 pending, 0 lost, 1 unaffected; 1 fail\n") {
		t.Errorf("table:\n%s", out["table"])
	}
}
