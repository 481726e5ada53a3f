package generators

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/rules"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// exampleObjects renders the example with the given mixin text (none when
// empty) and returns its objects and model, or the render's error.
func exampleObjects(t *testing.T, mixin string) ([]object, *topology.Model, error) {
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
	objs, _, err := renderObjects(context.Background(), f.Topology, opts)
	return objs, topology.NewModel(f.Topology), err
}

// liveSnapshot is what verify would read from a cluster that runs the
// objects: the CephCluster, pools and FelixConfigurations, the topology's
// nodes, and Rook's mons (2/2/1) and OSDs (one per storage node) as the
// CephCluster places them.
func liveSnapshot(m *topology.Model, objs []object) *check.Snapshot {
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
		for i := range rules.MonsIn(r) {
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

// ruleCase breaks one rule: bundle in the rendered objects, which both
// render's bundle checks and verify then read; live, when set, only in
// what verify reads of a running cluster (Rook's pods), which render has
// no counterpart of.
type ruleCase struct {
	name   string
	bundle func(t *testing.T, m *topology.Model, objs []object) []object
	live   func(t *testing.T, m *topology.Model, s *check.Snapshot)
}

func typedIn[T any](t *testing.T, objs []object, ok func(T) bool) T {
	t.Helper()
	for _, o := range objs {
		if v, is := o.Typed.(T); is && ok(v) {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T in the example", zero)
	return zero
}

func clusterIn(objs []object) *rook.CephCluster { return typedOf[*rook.CephCluster](objs)[0] }

func replicapoolIn(objs []object) *rook.CephBlockPool {
	for _, p := range typedOf[*rook.CephBlockPool](objs) {
		if p.Name == "replicapool" {
			return p
		}
	}
	return nil
}

func cephCluster(t *testing.T, objs []object) *rook.CephCluster {
	return typedIn(t, objs, func(*rook.CephCluster) bool { return true })
}

func replicapool(t *testing.T, objs []object) *rook.CephBlockPool {
	return typedIn(t, objs, func(p *rook.CephBlockPool) bool { return p.Name == "replicapool" })
}

func without(objs []object, drop func(object) bool) []object {
	var out []object
	for _, o := range objs {
		if !drop(o) {
			out = append(out, o)
		}
	}
	return out
}

// cluster returns a bundle breaker that changes the CephCluster.
func cluster(change func(m *topology.Model, c *rook.CephCluster)) func(*testing.T, *topology.Model, []object) []object {
	return func(t *testing.T, m *topology.Model, objs []object) []object {
		change(m, cephCluster(t, objs))
		return objs
	}
}

// pool returns a bundle breaker that changes the replicapool.
func pool(change func(p *rook.CephBlockPool)) func(*testing.T, *topology.Model, []object) []object {
	return func(t *testing.T, _ *topology.Model, objs []object) []object {
		change(replicapool(t, objs))
		return objs
	}
}

// podLabelled returns the first pod of the snapshot with label app=app.
func podLabelled(t *testing.T, s *check.Snapshot, app string) *corev1.Pod {
	t.Helper()
	for i := range s.Pods {
		if s.Pods[i].Labels[rook.LabelApp] == app {
			return &s.Pods[i]
		}
	}
	t.Fatalf("no %s pod", app)
	return nil
}

// ruleCases break each rule of the rule book, by its ID.
var ruleCases = map[string][]ruleCase{
	rules.Mons.ID: {
		{name: "3 mons", bundle: cluster(func(_ *topology.Model, c *rook.CephCluster) { c.Spec.Mon.Count = 3 })},
		{name: "a mon in the other data region", live: func(t *testing.T, m *topology.Model, s *check.Snapshot) {
			p := podLabelled(t, s, rook.AppMon)
			p.Labels[rook.LabelMonZone] = m.Data[1]
		}},
	},
	rules.Arbiter.ID: {{name: "a data zone is an arbiter too", bundle: cluster(func(m *topology.Model, c *rook.CephCluster) {
		for i := range c.Spec.Mon.StretchCluster.Zones {
			if c.Spec.Mon.StretchCluster.Zones[i].Name == m.Data[0] {
				c.Spec.Mon.StretchCluster.Zones[i].Arbiter = true
			}
		}
	})}},
	rules.Zones.ID: {
		{name: "a zone that is no region", bundle: cluster(func(m *topology.Model, c *rook.CephCluster) {
			for i := range c.Spec.Mon.StretchCluster.Zones {
				if c.Spec.Mon.StretchCluster.Zones[i].Name == m.Data[1] {
					c.Spec.Mon.StretchCluster.Zones[i].Name = m.Data[1] + "-b"
				}
			}
		})},
		{name: "not in stretch mode", bundle: cluster(func(_ *topology.Model, c *rook.CephCluster) { c.Spec.Mon.StretchCluster = nil })},
	},
	rules.FailureDomain.ID: {{name: "hostname label", bundle: cluster(func(_ *topology.Model, c *rook.CephCluster) {
		c.Spec.Mon.StretchCluster.FailureDomainLabel = corev1.LabelHostname
	})}},
	rules.PoolSize.ID: {
		{name: "size 3", bundle: pool(func(p *rook.CephBlockPool) { p.Spec.Replicated.Size = 3 })},
		{name: "4 copies in one zone", bundle: pool(func(p *rook.CephBlockPool) { p.Spec.Replicated.ReplicasPerFailureDomain = 4 })},
	},
	rules.MgrPool.ID: {{name: "no .mgr pool", bundle: func(_ *testing.T, _ *topology.Model, objs []object) []object {
		return without(objs, func(o object) bool {
			p, ok := o.Typed.(*rook.CephBlockPool)
			return ok && p.Spec.Name == rules.MgrPoolName
		})
	}}},
	rules.NoErasureCoding.ID: {{name: "2+1 chunks", bundle: pool(func(p *rook.CephBlockPool) {
		p.Spec.ErasureCoded = []byte(`{"dataChunks":2,"codingChunks":1}`)
	})}},
	rules.OSDRegions.ID: {
		{name: "an arbiter node in spec.storage.nodes", bundle: cluster(func(m *topology.Model, c *rook.CephCluster) {
			arbiter := slices.IndexFunc(m.Regions, func(r topology.RegionModel) bool { return r.Arbiter })
			c.Spec.Storage.Nodes = append(c.Spec.Storage.Nodes, rook.StorageNode{Name: m.Regions[arbiter].Nodes[0]})
		})},
		{name: "useAllNodes", bundle: cluster(func(_ *topology.Model, c *rook.CephCluster) { c.Spec.Storage.UseAllNodes = true })},
		{name: "an OSD pod in the arbiter", live: func(t *testing.T, m *topology.Model, s *check.Snapshot) {
			p := podLabelled(t, s, rook.AppOSD)
			p.Labels[rook.LabelOSDZone] = m.Arbiter
		}},
	},
	rules.WireGuard.ID: {
		{name: "wireguardEnabled false", bundle: func(t *testing.T, _ *topology.Model, objs []object) []object {
			typedIn(t, objs, func(f *calico.FelixConfiguration) bool { return f.Name == "default" }).Spec.WireguardEnabled = new(false)
			return objs
		}},
		{name: "no FelixConfiguration default", bundle: func(_ *testing.T, _ *topology.Model, objs []object) []object {
			return without(objs, func(o object) bool { _, ok := o.Typed.(*calico.FelixConfiguration); return ok })
		}},
	},
}

// renderFired runs render's bundle checks and returns, by rule, the checks
// that reported it.
func renderFired(m *topology.Model, objs []object) map[string][]string {
	fired := map[string][]string{}
	for _, p := range runBundleChecks(m, objs) {
		if p.rule != "" {
			fired[p.rule] = append(fired[p.rule], p.check)
		}
	}
	return fired
}

// verifyFired runs verify's checks and returns, by rule, the checks that
// reported it.
func verifyFired(m *topology.Model, s *check.Snapshot) map[string][]string {
	fired := map[string][]string{}
	for _, r := range check.Run(s, m, check.Checks()).Results {
		if r.Rule != "" {
			fired[r.Rule] = append(fired[r.Rule], r.ID)
		}
	}
	return fired
}

// assertFired says whether exactly the rule fired, through checks of the
// rule book's table only.
func assertFired(t *testing.T, side string, fired map[string][]string, rule string, checks []string) {
	t.Helper()
	if len(fired) != 1 || len(fired[rule]) == 0 {
		t.Errorf("%s: rules %v fired, want %s alone", side, fired, rule)
	}
	for _, id := range fired[rule] {
		if !slices.Contains(checks, id) {
			t.Errorf("%s: %s reported rule %s; the rule book says %v call it", side, id, rule, checks)
		}
	}
}

// TestRuleBookSides runs every rule of the rule book, broken in one object,
// through render's bundle checks and verify, and asserts that both report
// the same rule, through the checks the rule book names. A rule without a
// case fails the test.
func TestRuleBookSides(t *testing.T) {
	t.Parallel()
	objs, m, err := exampleObjects(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if fired := renderFired(m, objs); len(fired) > 0 {
		t.Fatalf("render: the example breaks %v", fired)
	}
	if fired := verifyFired(m, liveSnapshot(m, objs)); len(fired) > 0 {
		t.Fatalf("verify: a cluster running the example breaks %v", fired)
	}
	for id := range ruleCases {
		if !slices.ContainsFunc(rules.Book, func(r rules.Rule) bool { return r.ID == id }) {
			t.Errorf("cases for %s, which is not in the rule book", id)
		}
	}
	for _, r := range rules.Book {
		if len(ruleCases[r.ID]) == 0 {
			t.Errorf("rule %s has no case: break it in ruleCases", r.ID)
		}
		for _, tc := range ruleCases[r.ID] {
			t.Run(r.ID+"/"+tc.name, func(t *testing.T) {
				objs, m, err := exampleObjects(t, "")
				if err != nil {
					t.Fatal(err)
				}
				if tc.bundle != nil {
					objs = tc.bundle(t, m, objs)
				}
				live := liveSnapshot(m, objs)
				if tc.live != nil {
					tc.live(t, m, live)
				}
				if tc.live == nil {
					assertFired(t, "render", renderFired(m, objs), r.ID, r.Render)
				} else if fired := renderFired(m, objs); len(fired) > 0 {
					t.Errorf("render: %v fired on a break of the live cluster only", fired)
				}
				assertFired(t, "verify", verifyFired(m, live), r.ID, r.Verify)
			})
		}
	}
}

// TestRuleBookTable checks the rule book's table of callers against the
// registries: every render check it names applies the rule, and every
// verify check it names exists.
func TestRuleBookTable(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{}
	for _, c := range check.Checks() {
		ids[c.ID] = true
	}
	for _, r := range rules.Book {
		if len(r.Render) == 0 || len(r.Verify) == 0 {
			t.Errorf("rule %s: render %v, verify %v; both sides must call every rule", r.ID, r.Render, r.Verify)
		}
		for _, id := range r.Render {
			i := slices.IndexFunc(bundleChecks, func(c bundleCheck) bool { return c.id == id })
			if i < 0 || !slices.ContainsFunc(bundleChecks[i].rules, func(x rules.Rule) bool { return x.ID == r.ID }) {
				t.Errorf("rule %s: render check %s does not apply it", r.ID, id)
			}
		}
		for _, id := range r.Verify {
			if !ids[id] {
				t.Errorf("rule %s: verify has no check %s", r.ID, id)
			}
		}
	}
	for _, c := range bundleChecks {
		for _, x := range c.rules {
			if !slices.Contains(x.Render, c.id) {
				t.Errorf("render check %s applies rule %s, which the rule book does not say", c.id, x.ID)
			}
		}
	}
}

// TestRenderVerifyAgree holds render and verify to one reading, Rook's, of
// the fields they used to read apart: a pool is erasure coded when it has
// data or coding chunks (render refused `erasureCoded: {}`, verify flagged
// zero chunks), and an unset failure-domain label is
// topology.kubernetes.io/zone (render refused it). Each value goes into the
// example through a mixin for render, and into the same object of a cluster
// running the example for verify.
func TestRenderVerifyAgree(t *testing.T) {
	t.Parallel()
	ec := func(raw string) func([]object) {
		return func(objs []object) { replicapoolIn(objs).Spec.ErasureCoded = []byte(raw) }
	}
	label := func(l string) func([]object) {
		return func(objs []object) { clusterIn(objs).Spec.Mon.StretchCluster.FailureDomainLabel = l }
	}
	const pool, mon = "'storage/rook/cluster/pool-replicapool.yaml'+: { spec+: { ", "'storage/rook/cluster/cephcluster.yaml'+: { spec+: { mon+: { stretchCluster+: { "
	for _, tc := range []struct {
		name, mixin string         // the value, as a mixin of the rook layer
		live        func([]object) // the same value in the live objects
		check       string         // the verify check that reads it
		refusal     string         // render's refusal; none when the value is right
	}{
		{"erasureCoded {}", pool + "erasureCoded: {} } }", ec(`{}`), "STOR005", ""},
		{"erasureCoded zero chunks", pool + `erasureCoded: {"dataChunks":0,"codingChunks":0} } }`, ec(`{"dataChunks":0,"codingChunks":0}`), "STOR005", ""},
		{"erasureCoded null", pool + "erasureCoded: null } }", ec(`null`), "STOR005", ""},
		{"erasureCoded 2+1", pool + `erasureCoded: {"dataChunks":2,"codingChunks":1} } }`, ec(`{"dataChunks":2,"codingChunks":1}`), "STOR005", "[rook-pools] storage/rook/cluster/pool-replicapool.yaml: CephBlockPool replicapool is erasure coded"},
		{"erasureCoded coding chunks only", pool + `erasureCoded: {"codingChunks":1} } }`, ec(`{"codingChunks":1}`), "STOR005", "[rook-pools] storage/rook/cluster/pool-replicapool.yaml: CephBlockPool replicapool is erasure coded"},
		{"failureDomainLabel unset", mon + "failureDomainLabel:: null } } } }", label(""), "STOR001", ""},
		{"failureDomainLabel zone", mon + "failureDomainLabel: 'topology.kubernetes.io/zone' } } } }", label("topology.kubernetes.io/zone"), "STOR001", ""},
		{"failureDomainLabel hostname", mon + "failureDomainLabel: 'kubernetes.io/hostname' } } } }", label("kubernetes.io/hostname"), "STOR001", "[rook-stretch] storage/rook/cluster/cephcluster.yaml: spec.mon.stretchCluster.failureDomainLabel is \"kubernetes.io/hostname\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broken := tc.refusal != ""
			_, _, err := exampleObjects(t, "{ rook+: { "+tc.mixin+" } }")
			if (err != nil) != broken || err != nil && !strings.Contains(err.Error(), tc.refusal) {
				t.Errorf("render: %v; want the refusal %q", err, tc.refusal)
			}
			objs, m, err := exampleObjects(t, "")
			if err != nil {
				t.Fatal(err)
			}
			tc.live(objs)
			if st := verifyStatus(t, liveSnapshot(m, objs), m, tc.check); (st == check.StatusFail) != broken {
				t.Errorf("verify: %s %s, want failed %t", tc.check, st, broken)
			}
		})
	}
}
