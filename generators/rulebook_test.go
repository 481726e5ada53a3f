package generators

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/api/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/api/rook"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// exampleObjects renders the example with the given mixin text (none when
// empty) and returns its objects and model, or the render's error.
func exampleObjects(t *testing.T, mixin string) ([]Object, *topology.Model, error) {
	t.Helper()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{BaseDir: "../testdata"}
	if mixin != "" {
		p := filepath.Join(t.TempDir(), "mixin.jsonnet")
		if err := os.WriteFile(p, []byte(mixin), 0o600); err != nil {
			t.Fatal(err)
		}
		opts.Mixins = []string{p}
	}
	objs, _, err := Objects(context.Background(), f.Topology, opts)
	return objs, topology.NewModel(f.Topology), err
}

// liveSnapshot is what verify would read from a cluster that runs the
// objects: the CephCluster, pools and FelixConfigurations, the topology's
// nodes, and Rook's mons (2/2/1) and OSDs (one per storage node) as the
// CephCluster places them.
func liveSnapshot(m *topology.Model, objs []Object) *check.Snapshot {
	s := &check.Snapshot{}
	for _, o := range objs {
		switch t := o.Typed.(type) {
		case *rook.CephCluster:
			s.CephClusters = append(s.CephClusters, *t)
		case *rook.CephBlockPool:
			s.CephBlockPools = append(s.CephBlockPools, *t)
		case *calico.FelixConfiguration:
			s.FelixConfigurations = append(s.FelixConfigurations, *t)
		}
	}
	region := map[string]string{}
	for _, n := range m.Nodes {
		region[n.Name] = n.Region
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}})
	}
	pod := func(name, node string, labels map[string]string) {
		s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.Storage.Namespace, Labels: labels},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	}
	id := 'a'
	for _, r := range m.Regions {
		want := 2
		if r.Arbiter {
			want = 1
		}
		for i := range want {
			node := r.Nodes[i%len(r.Nodes)]
			pod("rook-ceph-mon-"+string(id), node, map[string]string{rook.LabelApp: rook.AppMon, rook.LabelMonID: string(id), rook.LabelMonZone: r.Name})
			id++
		}
	}
	for i, node := range m.Storage.StorageNodes {
		osd := string(rune('0' + i))
		pod("rook-ceph-osd-"+osd, node, map[string]string{rook.LabelApp: rook.AppOSD, rook.LabelOSDID: osd, rook.LabelOSDZone: region[node]})
	}
	return s
}

// verifyStatus returns the status of verify's check id on the snapshot.
func verifyStatus(t *testing.T, s *check.Snapshot, m *topology.Model, id string) check.Status {
	t.Helper()
	for _, r := range check.Run(s, m, check.Checks()).Results {
		if r.ID == id {
			return r.Status
		}
	}
	t.Fatalf("verify has no check %s", id)
	return ""
}

// TestErasureCodedAgreement holds render and verify to one reading of a
// pool's spec.erasureCoded, Rook's: a pool is erasure coded when it has
// data or coding chunks. render used to refuse `erasureCoded: {}`, which
// verify (and Rook) read as a replicated pool.
func TestErasureCodedAgreement(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value        string // JSON, which is Jsonnet too
		erasureCoded bool
	}{
		{`{}`, false},
		{`{"dataChunks":0,"codingChunks":0}`, false},
		{`null`, false},
		{`{"dataChunks":2,"codingChunks":1}`, true},
		{`{"codingChunks":1}`, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			mixin := "{ rook+: { 'storage/rook/cluster/pool-replicapool.yaml'+: { spec+: { erasureCoded: " + tc.value + " } } } }"
			if _, _, err := exampleObjects(t, mixin); (err != nil) != tc.erasureCoded {
				t.Errorf("render: refused %t, want %t (%v)", err != nil, tc.erasureCoded, err)
			}
			// verify, on a cluster that runs the example with that pool.
			objs, m, err := exampleObjects(t, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if p, ok := o.Typed.(*rook.CephBlockPool); ok && p.Name == "replicapool" {
					p.Spec.ErasureCoded = []byte(tc.value)
				}
			}
			st := verifyStatus(t, liveSnapshot(m, objs), m, "STOR005")
			if failed := st == check.StatusFail; failed != tc.erasureCoded {
				t.Errorf("verify: STOR005 %s, want failed %t", st, tc.erasureCoded)
			}
		})
	}
}
