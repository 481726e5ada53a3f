package drill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

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

const rbdDriver = "rook-ceph.rbd.csi.ceph.com"

// persistentVolume is a CSI volume of driver (none when ""), with access
// mode mode, bound by node affinity to hosts when there are any.
func persistentVolume(name, driver string, mode corev1.PersistentVolumeAccessMode, hosts ...string) corev1.PersistentVolume {
	pv := corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{AccessModes: []corev1.PersistentVolumeAccessMode{mode}}}
	if driver != "" {
		pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: name}
	} else {
		pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt/" + name}
	}
	if len(hosts) > 0 {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: hosts}},
		}}}}
	}
	return pv
}

// claim adds the claim name of namespace shop, bound to pv.
func claim(s *check.Snapshot, name string, pv corev1.PersistentVolume) {
	s.PersistentVolumes = append(s.PersistentVolumes, pv)
	s.PVCs = append(s.PVCs, corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: pv.Name, AccessModes: pv.Spec.AccessModes}})
}

// mounts makes the pod mount the claim.
func mounts(claim string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
}

// pdb is a PodDisruptionBudget of namespace shop selecting app=app.
func pdb(name string, tweak func(*policyv1.PodDisruptionBudget)) policyv1.PodDisruptionBudget {
	b := policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}}}}
	tweak(&b)
	return b
}

// antiAffinity keeps the app=app pods apart on key.
func antiAffinity(key string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}},
		}}}}
	}
}

// affinityTo makes the pod run in the zone of a pod of app.
func affinityTo(app string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: topology.LabelZone, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		}}}}
	}
}

// minDomains is the patched spread with minDomains n.
func minDomains(n int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		patchedSpread(p)
		p.Spec.TopologySpreadConstraints[0].MinDomains = &n
	}
}

// revision labels the pod with a pod-template-hash and spreads it over
// the zones with maxSkew 2 (the arbiter left out), counting only its own
// revision when byRevision.
func revision(hash string, byRevision bool) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		naiveSpread(p)
		p.Labels["pod-template-hash"] = hash
		p.Spec.TopologySpreadConstraints[0].MaxSkew = 2
		if byRevision {
			p.Spec.TopologySpreadConstraints[0].MatchLabelKeys = []string{"pod-template-hash"}
		}
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: topology.LabelArbiter, Operator: corev1.NodeSelectorOpDoesNotExist}}}},
		}}}
	}
}

// TestPredictVerdicts covers each verdict on built snapshots of the
// example topology, losing sto1.
func TestPredictVerdicts(t *testing.T) {
	m := exampleModel(t)
	// kube_controller_node_monitor_grace_period in the bundle, in seconds.
	const grace = 40
	const wantDefault = DefaultTolerationSeconds + grace + SchedulingSeconds
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
		// workload picks the workload (kind/name) when the snapshot has
		// more than one; pdb and pdbViolated are its PDB's.
		workload    string
		pdb         string
		pdbViolated bool
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
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: 30 + grace + SchedulingSeconds,
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
		kind: "StatefulSet", verdict: v1alpha1.VerdictRecovers, recovery: grace + SchedulingSeconds, reason: "out-of-service",
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
	}, {
		name: "a volume bound to a lost node keeps the replacement pending",
		pods: func(s *check.Snapshot) {
			deployment(s)
			claim(s, "data", persistentVolume("pv-local", "", corev1.ReadWriteOnce, "sto1-w-0"))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, failed: true, reason: "node affinity of PersistentVolume pv-local does not match",
	}, {
		name: "a fenced StatefulSet whose volume is bound to a lost node stays pending",
		opts: Options{Fence: true},
		pods: func(s *check.Snapshot) {
			claim(s, "data", persistentVolume("pv-local", "", corev1.ReadWriteOnce, "sto1-w-0"))
			s.Pods = append(s.Pods, pod("db-0", "sto1-w-0", "StatefulSet/db", mounts("data")))
		},
		kind: "StatefulSet", verdict: v1alpha1.VerdictPending, failed: true, reason: "PersistentVolume pv-local",
	}, {
		name: "a volume bound to any node of the zones left follows the pod",
		pods: func(s *check.Snapshot) {
			deployment(s)
			claim(s, "data", persistentVolume("pv-zonal", "", corev1.ReadWriteMany, "sto1-w-0", "sto2-w-1"))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault, reason: "replaced on sto2-w-1",
	}, {
		name: "a fenced StatefulSet's RBD volume follows the pod",
		opts: Options{Fence: true},
		pods: func(s *check.Snapshot) {
			claim(s, "data", persistentVolume("pv-rbd", rbdDriver, corev1.ReadWriteOnce))
			s.Pods = append(s.Pods, pod("db-0", "sto1-w-0", "StatefulSet/db", mounts("data")))
		},
		kind: "StatefulSet", verdict: v1alpha1.VerdictRecovers, recovery: grace + SchedulingSeconds, reason: "pv-rbd have no node affinity and follow the pod",
	}, {
		name: "a Deployment's RWO RBD volume stays attached to the lost node",
		pods: func(s *check.Snapshot) {
			deployment(s)
			claim(s, "data", persistentVolume("pv-rbd", rbdDriver, corev1.ReadWriteOnce))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictHangs, failed: true, reason: "pv-rbd stay attached to the lost node(s)",
	}, {
		name: "a fenced Deployment's RWO RBD volume follows the pod",
		opts: Options{Fence: true},
		pods: func(s *check.Snapshot) {
			deployment(s)
			claim(s, "data", persistentVolume("pv-rbd", rbdDriver, corev1.ReadWriteOnce))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: grace + SchedulingSeconds, reason: "follow the pod",
	}, {
		name: "a shared (RWX) CephFS volume does not hold the replacement",
		pods: func(s *check.Snapshot) {
			deployment(s)
			claim(s, "data", persistentVolume("pv-fs", "rook-ceph.cephfs.csi.ceph.com", corev1.ReadWriteMany))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault, reason: "replaced on sto2-w-0",
	}, {
		name: "a driver that does not attach does not hold the replacement",
		pods: func(s *check.Snapshot) {
			deployment(s)
			no := false
			s.CSIDrivers = append(s.CSIDrivers, storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "nfs.csi.k8s.io"}, Spec: storagev1.CSIDriverSpec{AttachRequired: &no}})
			claim(s, "data", persistentVolume("pv-nfs", "nfs.csi.k8s.io", corev1.ReadWriteOnce))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault,
	}, {
		name: "an unbound claim waiting for its first consumer is noted",
		pods: func(s *check.Snapshot) {
			deployment(s)
			wait := storagev1.VolumeBindingWaitForFirstConsumer
			s.StorageClasses = append(s.StorageClasses, storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "late"}, VolumeBindingMode: &wait})
			s.PVCs = append(s.PVCs, corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: new("late")}})
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("data")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault, reason: "shop/data are not bound yet and wait for their first consumer",
	}, {
		name: "a claim the snapshot lacks keeps the replacement pending",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", mounts("gone")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, failed: true, reason: "PersistentVolumeClaim shop/gone not found",
	}, {
		name: "a PDB minAvailable 2 is violated while sto1 is out",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.PDBs = append(s.PDBs, pdb("web", func(b *policyv1.PodDisruptionBudget) { b.Spec.MinAvailable = new(intstr.FromInt32(2)) }))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", nil), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", nil))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, pdb: "shop/web", pdbViolated: true,
		reason: "PDB shop/web (minAvailable 2) is violated during the outage: 1 of the 2 pods it wants Ready (taint-based eviction does not honour PDBs)",
	}, {
		name: "a PDB maxUnavailable 50% holds, and one that allows 0 disruptions only blocks drain",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Deployments = append(s.Deployments, appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: new(int32(2))}})
			s.PDBs = append(s.PDBs, pdb("web", func(b *policyv1.PodDisruptionBudget) {
				b.Spec.MaxUnavailable = new(intstr.FromString("50%"))
				b.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, DisruptionsAllowed: 0}
			}))
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", nil), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", nil))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, pdb: "shop/web",
		reason: "PDB shop/web (maxUnavailable 50%) holds during the outage: 1 Ready, 1 wanted; it allows 0 disruptions now, which blocks kubectl drain",
	}, {
		name: "zone anti-affinity cannot be met in one region",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", antiAffinity(topology.LabelZone)), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", antiAffinity(topology.LabelZone)))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, available: true, failed: true, reason: "pod anti-affinity: a pod it must avoid runs in topology.kubernetes.io/zone=sto2 (sto2-w-0, sto2-w-1)",
	}, {
		name: "host anti-affinity moves the replacement to another node",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", antiAffinity("kubernetes.io/hostname")), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", antiAffinity("kubernetes.io/hostname")))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault, reason: "replaced on sto2-w-1",
	}, {
		name: "an existing pod's anti-affinity keeps the replacement out",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", nil),
				pod("loner", "sto2-w-0", "StatefulSet/loner", func(p *corev1.Pod) {
					p.Labels = map[string]string{"app": "loner"}
					antiAffinity(topology.LabelZone)(p)
					p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels = map[string]string{"app": "app"}
				}))
		},
		workload: "Deployment/web", kind: "Deployment", verdict: v1alpha1.VerdictPending, failed: true, reason: "the anti-affinity of pod shop/loner forbids topology.kubernetes.io/zone=sto2",
	}, {
		name: "pod affinity to a pod only the lost region ran",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", affinityTo("cache")),
				pod("cache-0", "sto1-w-1", "StatefulSet/cache", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "cache"} }))
		},
		workload: "Deployment/web", kind: "Deployment", verdict: v1alpha1.VerdictPending, failed: true, reason: "pod affinity: no pod it must run with in this node's topology.kubernetes.io/zone",
	}, {
		name: "pod affinity met in the surviving region",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", affinityTo("cache")),
				pod("cache-0", "sto2-w-1", "StatefulSet/cache", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "cache"} }))
		},
		workload: "Deployment/web", kind: "Deployment", verdict: v1alpha1.VerdictRecovers, recovery: wantDefault, reason: "replaced on sto2-w-0",
	}, {
		name: "minDomains 2 keeps the patched spread pending with one region left",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", minDomains(2)), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", minDomains(2)))
		},
		kind: "Deployment", verdict: v1alpha1.VerdictPending, available: true, failed: true, reason: "against a minimum of 0: 1 domain(s) left (sto2), fewer than minDomains 2",
	}, {
		name: "without matchLabelKeys an old revision's pods count",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", revision("new", false)), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", revision("new", false)),
				pod("old-1", "sto2-w-0", "", revision("old", false)), pod("old-2", "sto2-w-1", "", revision("old", false)))
		},
		workload: "Deployment/web", kind: "Deployment", verdict: v1alpha1.VerdictPending, available: true, failed: true, reason: "skew 4 > maxSkew 2",
	}, {
		name: "matchLabelKeys counts only the pod's own revision",
		pods: func(s *check.Snapshot) {
			deployment(s)
			s.Pods = append(s.Pods, pod("web-a", "sto1-w-0", "ReplicaSet/web-1", revision("new", true)), pod("web-b", "sto2-w-0", "ReplicaSet/web-1", revision("new", true)),
				pod("old-1", "sto2-w-0", "", revision("old", true)), pod("old-2", "sto2-w-1", "", revision("old", true)))
		},
		workload: "Deployment/web", kind: "Deployment", verdict: v1alpha1.VerdictRecovers, available: true, recovery: wantDefault,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := nodes(m)
			tc.pods(s)
			r := Predict(s, m, "sto1", tc.opts)
			var w v1alpha1.DrillWorkload
			if tc.workload == "" {
				if len(r.Workloads) != 1 {
					t.Fatalf("got %d workloads, want 1: %+v", len(r.Workloads), r.Workloads)
				}
				w = r.Workloads[0]
			} else {
				i := slices.IndexFunc(r.Workloads, func(x v1alpha1.DrillWorkload) bool { return x.Kind+"/"+x.Name == tc.workload })
				if i < 0 {
					t.Fatalf("no workload %s in %+v", tc.workload, r.Workloads)
				}
				w = r.Workloads[i]
			}
			if w.PDB != tc.pdb || w.PDBViolated != tc.pdbViolated {
				t.Errorf("pdb %q violated=%v, want %q %v (%s)", w.PDB, w.PDBViolated, tc.pdb, tc.pdbViolated, w.Reason)
			}
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

// TestPredictCephStretchMode: losing a data region puts Ceph in degraded
// stretch mode, losing the arbiter does not, and without the mons'
// quorum there is no stretch mode to speak of.
func TestPredictCephStretchMode(t *testing.T) {
	m := exampleModel(t)
	for _, tc := range []struct {
		lose     string
		degraded bool
		reason   string
	}{
		{"sto1", true, "DEGRADED once sto1's mons and OSDs are down: the pools drop to min_size 1 and serve from the two copies in sto2"},
		{"sto2", true, "serve from the two copies in sto1"},
		{"osl1", false, "healthy: losing the arbiter only takes a mon"},
	} {
		r := Predict(nodes(m), m, tc.lose, Options{})
		if r.Platform.CephStretchDegraded != tc.degraded || !strings.Contains(strings.Join(r.Platform.Reasons, "\n"), tc.reason) {
			t.Errorf("lose %s: degraded %v, reasons %q; want %v and %q", tc.lose, r.Platform.CephStretchDegraded, r.Platform.Reasons, tc.degraded, tc.reason)
		}
	}
}

// TestPredictIngressEndpoints counts the Ready pods behind a NodePort or
// LoadBalancer Service on port 80 or 443, and the pods binding those
// ports on their node; losing every one of them fails the drill.
func TestPredictIngressEndpoints(t *testing.T) {
	m := exampleModel(t)
	ingress := func(p *corev1.Pod) { p.Namespace, p.Labels = "ingress", map[string]string{"app": "ingress"} }
	service := func(typ corev1.ServiceType, port int32) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "controller"}, Spec: corev1.ServiceSpec{
			Type: typ, Selector: map[string]string{"app": "ingress"}, Ports: []corev1.ServicePort{{Port: port}}}}
	}
	hostNet := func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 443}}
	}
	notReady := func(p *corev1.Pod) { ingress(p); p.Status.Conditions = nil }
	for _, tc := range []struct {
		name          string
		setup         func(s *check.Snapshot)
		before, after int
		failed        bool
		reason        string
	}{
		{name: "no ingress", setup: func(*check.Snapshot) {}, reason: "not judged"},
		{name: "a LoadBalancer Service keeps one of two", setup: func(s *check.Snapshot) {
			s.Services = append(s.Services, service(corev1.ServiceTypeLoadBalancer, 443))
			s.Pods = append(s.Pods, pod("in-a", "sto1-w-0", "DaemonSet/in", ingress), pod("in-b", "sto2-w-0", "DaemonSet/in", ingress), pod("in-c", "sto2-w-1", "DaemonSet/in", notReady))
		}, before: 2, after: 1, reason: "ingress: 1 of 2 Ready endpoints left"},
		{name: "a ClusterIP Service is not the ingress", setup: func(s *check.Snapshot) {
			s.Services = append(s.Services, service(corev1.ServiceTypeClusterIP, 443))
			s.Pods = append(s.Pods, pod("in-a", "sto1-w-0", "DaemonSet/in", ingress))
		}, reason: "not judged"},
		{name: "a NodePort Service on another port is not the ingress", setup: func(s *check.Snapshot) {
			s.Services = append(s.Services, service(corev1.ServiceTypeNodePort, 8080))
			s.Pods = append(s.Pods, pod("in-a", "sto1-w-0", "DaemonSet/in", ingress))
		}, reason: "not judged"},
		{name: "host network pods only in the lost region", setup: func(s *check.Snapshot) {
			s.Pods = append(s.Pods, pod("in-a", "sto1-w-0", "DaemonSet/in", hostNet), pod("in-b", "sto1-w-1", "DaemonSet/in", hostNet))
		}, before: 2, after: 0, failed: true, reason: "ingress: 0 of 2 Ready endpoints left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := nodes(m)
			tc.setup(s)
			r := Predict(s, m, "sto1", Options{})
			p := r.Platform
			if p.IngressEndpointsBefore != tc.before || p.IngressEndpoints != tc.after || r.Failed() != tc.failed {
				t.Errorf("ingress %d of %d, failed %v; want %d of %d, %v", p.IngressEndpoints, p.IngressEndpointsBefore, r.Failed(), tc.after, tc.before, tc.failed)
			}
			if !strings.Contains(strings.Join(p.Reasons, "\n"), tc.reason) {
				t.Errorf("reasons %q do not say %q", p.Reasons, tc.reason)
			}
			var b bytes.Buffer
			if err := r.Write(&b, "table"); err != nil || !strings.Contains(b.String(), fmt.Sprintf("ingress endpoints %d of %d", tc.after, tc.before)) {
				t.Errorf("table (%v):\n%s", err, b.String())
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
	if !strings.Contains(out["junit"], `tests="6" failures="1"`) || !strings.Contains(out["junit"], `type="hangs"`) {
		t.Errorf("junit:\n%s", out["junit"])
	}
	if !strings.Contains(out["table"], "hangs (FAIL)") || !strings.HasSuffix(out["table"], "losing sto1: 2 workloads: 0 recover, 1 hang, 0 pending, 0 lost, 1 unaffected; 1 fail\n") {
		t.Errorf("table:\n%s", out["table"])
	}
}
