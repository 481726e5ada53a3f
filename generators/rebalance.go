package generators

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/descheduler"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
)

// rebalanceNamespace holds the descheduler's HelmRepository, HelmRelease
// and the chart's objects, as the chart's README installs it.
const rebalanceNamespace = "kube-system"

// spreadKinds are the kinds whose pod templates the patcher spreads: the
// namespaces of their objects are those the descheduler may touch.
var spreadKinds = []string{"Deployment", "ReplicaSet", "StatefulSet"}

// workloadNamespaces returns the namespaces of the spread kinds among
// objs, sorted, without the excluded ones; an object without a namespace
// goes to default, as Flux applies it.
func workloadNamespaces(objs []*kyaml.RNode, excluded []string) []string {
	var out []string
	for _, o := range objs {
		if !slices.Contains(spreadKinds, o.GetKind()) {
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		if !slices.Contains(excluded, ns) {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deschedulerPolicy is the policy the rebalance option renders: one
// profile that balances the topology spread constraints of the pods in
// namespaces. The DefaultEvictor keeps its defaults; evictions go through
// the Eviction API, which honours the PodDisruptionBudget render's patch
// gives every spread workload. The evictor's PodsWithoutPDB protection is
// not used: in descheduler v0.35.1 its budget lister is created after the
// informers started and never fills, so it protects every pod (seen on the
// simulated cluster).
func deschedulerPolicy(r *topology.RebalanceModel, namespaces []string) (descheduler.Policy, error) {
	constraints := []string{"DoNotSchedule"}
	if r.ScheduleAnyway {
		constraints = append(constraints, "ScheduleAnyway")
	}
	spread, err := json.Marshal(descheduler.TopologySpreadArgs{
		Namespaces:  &descheduler.Namespaces{Include: namespaces},
		Constraints: constraints,
	})
	if err != nil {
		return descheduler.Policy{}, err
	}
	return descheduler.Policy{
		Profiles: []descheduler.Profile{{
			Name: "stretch-rebalance",
			PluginConfigs: []descheduler.PluginConfig{
				{Name: descheduler.DefaultEvictor},
				{Name: descheduler.TopologySpread, Args: spread},
			},
			Plugins: descheduler.Plugins{
				Balance: &descheduler.PluginSet{Enabled: []string{descheduler.TopologySpread}},
			},
		}},
	}, nil
}

// rebalanceObjects returns the files of workloads/descheduler/: the
// descheduler chart's HelmRepository and a HelmRelease that runs it as a
// Deployment with the policy above. It refuses a topology whose sources
// have no workload to rebalance: an empty namespace list would let the
// descheduler evict pods of every namespace.
func rebalanceObjects(r *topology.RebalanceModel, workloads []*kyaml.RNode) ([]object, error) {
	namespaces := workloadNamespaces(workloads, r.ExcludedNamespaces)
	if len(namespaces) == 0 {
		return nil, fmt.Errorf("spec.workloads.rebalance: no Deployment, ReplicaSet or StatefulSet of the sources is in a namespace the descheduler may touch (not %s); remove rebalance or add the workloads",
			strings.Join(r.ExcludedNamespaces, ", "))
	}
	policy, err := deschedulerPolicy(r, namespaces)
	if err != nil {
		return nil, err
	}
	values, err := json.Marshal(descheduler.Values{
		Kind:                        "Deployment",
		DeschedulingInterval:        r.Interval,
		DeschedulerPolicyAPIVersion: descheduler.PolicyAPIVersion,
		DeschedulerPolicy:           policy,
	})
	if err != nil {
		return nil, err
	}
	dir := layout.DirWorkloads + "/" + topology.RebalanceSource + "/"
	repo := flux.HelmRepositorySpec{URL: descheduler.RepoURL, Interval: "1h"}
	release := flux.HelmReleaseSpec{
		Interval: "30m",
		Chart: flux.HelmChartRef{Spec: flux.HelmChartSpec{
			Chart:     descheduler.Chart,
			Version:   descheduler.ChartVersion,
			SourceRef: flux.CrossNamespaceRef{Kind: "HelmRepository", Name: descheduler.Chart},
		}},
		Values: values,
	}
	var out []object
	for _, o := range []struct {
		file, apiVersion, kind string
		spec                   any
		typed                  any
	}{
		{"helmrepository.yaml", flux.HelmRepositoryAPIVersion, "HelmRepository", repo, &flux.HelmRepository{}},
		{"helmrelease.yaml", flux.HelmReleaseAPIVersion, "HelmRelease", release, &flux.HelmRelease{}},
	} {
		// metav1.ObjectMeta would write creationTimestamp: null.
		raw, err := json.Marshal(struct {
			APIVersion string       `json:"apiVersion"`
			Kind       string       `json:"kind"`
			Metadata   manifestMeta `json:"metadata"`
			Spec       any          `json:"spec"`
		}{o.apiVersion, o.kind, manifestMeta{Name: descheduler.Chart, Namespace: rebalanceNamespace}, o.spec})
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, o.typed); err != nil {
			return nil, err
		}
		out = append(out, object{Path: dir + o.file, Layer: layout.Workloads, Raw: raw, Typed: o.typed})
	}
	return out, nil
}

// manifestMeta is the metadata of an object render builds in Go.
type manifestMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}
