package generators

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/descheduler"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// strictJSON decodes data into v, refusing unknown fields.
func strictJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, data)
	}
}

// TestRebalanceRendersTheDescheduler renders the rebalance topology: its
// bundle holds the descheduler chart's HelmRepository and a HelmRelease
// that runs it as a Deployment every interval, balancing only the
// DoNotSchedule spread constraints of the sources' namespace, with the
// DefaultEvictor's defaults. Without rebalance (the eviction
// topology, the same otherwise) there is no descheduler.
func TestRebalanceRendersTheDescheduler(t *testing.T) {
	t.Parallel()
	b := renderFile(t, "../testdata/topologies/valid/rebalance.yaml", Options{})
	files := map[string][]byte{}
	for _, f := range b.Files {
		files[f.Path] = f.Data
	}
	var repo flux.HelmRepository
	var release flux.HelmRelease
	for p, v := range map[string]any{
		"workloads/descheduler/helmrepository.yaml": &repo,
		"workloads/descheduler/helmrelease.yaml":    &release,
	} {
		data, ok := files[p]
		if !ok {
			t.Fatalf("the bundle has no %s", p)
		}
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		strictJSON(t, j, v)
	}
	if repo.Spec.URL != descheduler.RepoURL || repo.Namespace != "kube-system" {
		t.Errorf("HelmRepository: url %q in %q, want %q in kube-system", repo.Spec.URL, repo.Namespace, descheduler.RepoURL)
	}
	c := release.Spec.Chart.Spec
	if c.Chart != "descheduler" || c.Version != descheduler.ChartVersion || c.SourceRef.Name != repo.Name || release.Namespace != repo.Namespace {
		t.Errorf("HelmRelease chart %+v in %q: want chart descheduler %s from HelmRepository %s", c, release.Namespace, descheduler.ChartVersion, repo.Name)
	}
	var values descheduler.Values
	strictJSON(t, release.Spec.Values, &values)
	if values.Kind != "Deployment" || values.DeschedulingInterval != "2m" || values.DeschedulerPolicyAPIVersion != "descheduler/v1alpha2" {
		t.Errorf("values: kind %q, interval %q, policy API %q; want Deployment, 2m, descheduler/v1alpha2",
			values.Kind, values.DeschedulingInterval, values.DeschedulerPolicyAPIVersion)
	}
	p := values.DeschedulerPolicy
	if p.APIVersion != "" || p.Kind != "" {
		t.Errorf("the chart writes the policy's apiVersion and kind itself; values have %q %q", p.APIVersion, p.Kind)
	}
	if len(p.Profiles) != 1 {
		t.Fatalf("want one profile, got %d", len(p.Profiles))
	}
	prof := p.Profiles[0]
	if got := prof.Plugins.Balance; got == nil || !slices.Equal(got.Enabled, []string{descheduler.TopologySpread}) || prof.Plugins.Deschedule != nil {
		t.Errorf("plugins %+v: want only %s, at balance", prof.Plugins, descheduler.TopologySpread)
	}
	var spread descheduler.TopologySpreadArgs
	for _, pc := range prof.PluginConfigs {
		switch pc.Name {
		case descheduler.DefaultEvictor:
			if pc.Args != nil {
				t.Errorf("DefaultEvictor args %s: want its defaults (PodsWithoutPDB never sees a budget in v0.35.1)", pc.Args)
			}
		case descheduler.TopologySpread:
			strictJSON(t, pc.Args, &spread)
		default:
			t.Errorf("unexpected plugin %s", pc.Name)
		}
	}
	if spread.Namespaces == nil || !slices.Equal(spread.Namespaces.Include, []string{"shop"}) || len(spread.Namespaces.Exclude) > 0 {
		t.Errorf("namespaces %+v: want include [shop]", spread.Namespaces)
	}
	if !slices.Equal(spread.Constraints, []string{"DoNotSchedule"}) {
		t.Errorf("constraints %v: want [DoNotSchedule]", spread.Constraints)
	}

	for _, f := range renderFile(t, "../testdata/topologies/valid/eviction.yaml", Options{}).Files {
		if strings.HasPrefix(f.Path, "workloads/descheduler/") || bytes.Contains(f.Data, []byte("descheduler")) {
			t.Errorf("without rebalance the bundle has %s, or a file naming the descheduler", f.Path)
		}
	}
}

// TestRebalanceNamespaces checks which namespaces the descheduler may
// touch: those of the spread kinds, default for none, never kube-system
// nor the Rook namespace; ScheduleAnyway adds its constraints; and no
// namespace at all is refused, since an empty list means every namespace.
func TestRebalanceNamespaces(t *testing.T) {
	t.Parallel()
	parse := func(docs ...string) []*kyaml.RNode {
		var out []*kyaml.RNode
		for _, d := range docs {
			out = append(out, kyaml.MustParse(d))
		}
		return out
	}
	r := &topology.RebalanceModel{Interval: "1m", ScheduleAnyway: true, ExcludedNamespaces: []string{"kube-system", "rook-ceph"}}
	workloads := parse(
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: shop}\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: b}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c, namespace: rook-ceph}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: kube-system}\n",
		"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: e, namespace: agents}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f, namespace: config}\n",
		"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: g, namespace: batch}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: h, namespace: shop}\n",
	)
	out, err := rebalanceObjects(r, workloads)
	if err != nil {
		t.Fatal(err)
	}
	release, ok := out[1].Typed.(*flux.HelmRelease)
	if !ok {
		t.Fatalf("second object is %T, want the HelmRelease", out[1].Typed)
	}
	var values descheduler.Values
	strictJSON(t, release.Spec.Values, &values)
	var spread descheduler.TopologySpreadArgs
	strictJSON(t, values.DeschedulerPolicy.Profiles[0].PluginConfigs[1].Args, &spread)
	if want := []string{"batch", "default", "shop"}; !slices.Equal(spread.Namespaces.Include, want) {
		t.Errorf("namespaces %v, want %v", spread.Namespaces.Include, want)
	}
	if want := []string{"DoNotSchedule", "ScheduleAnyway"}; !slices.Equal(spread.Constraints, want) {
		t.Errorf("constraints %v, want %v", spread.Constraints, want)
	}

	_, err = rebalanceObjects(r, parse(
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c, namespace: rook-ceph}\n",
		"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: e, namespace: agents}\n",
	))
	want := "spec.workloads.rebalance: no Deployment, ReplicaSet or StatefulSet of the sources is in a namespace the descheduler may touch (not kube-system, rook-ceph)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("no namespace: error %v, want one starting %q", err, want)
	}
}
