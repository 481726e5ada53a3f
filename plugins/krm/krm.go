// Package krm is kubectl-stretch as a KRM function (a ResourceList on
// standard input and output), for kustomize's exec functions and kpt.
//
// As a generator its functionConfig is a stretch.dev/v1alpha1 Topology and
// it appends the bundle's Kubernetes objects of the layers the layer table
// marks KRM (network, storage, access and workloads; not the Kubespray
// inventory or the Flux Kustomizations, which only make sense as files).
// As a transformer its functionConfig is a stretch.dev/v1alpha1 SpreadPolicy and it spread-patches the items,
// appending the missing PodDisruptionBudgets, and reports the namespaces
// the items name but none of them creates (NAMESPACE001). Either way each
// change and risk is reported in ResourceList.results.
package krm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/strict"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// policyOf returns the patcher's policy of a SpreadPolicy: spread.PolicyFor's, as
// the other doors derive it from a topology, over a model holding the
// spec's zone key, data zones, minReplicas (the topology's default when
// unset) and evictionSeconds, with the spec's arbiter taint key, when set, and zone-bound
// classes on top.
func policyOf(s v1alpha1.SpreadPolicySpec) spread.Policy {
	m := &topology.Model{Data: s.DataZones}
	m.Labels.Zone = s.ZoneKey
	m.Workloads.MinReplicas = topology.DefaultMinReplicas
	if s.MinReplicas != nil {
		m.Workloads.MinReplicas = *s.MinReplicas
	}
	m.Workloads.EvictionSeconds = s.EvictionSeconds
	p := spread.PolicyFor(m)
	if s.ArbiterTaintKey != "" {
		p.ArbiterTaintKey = s.ArbiterTaintKey
	}
	p.ZoneBoundStorageClasses = s.ZoneBoundStorageClasses
	return p
}

// Execute reads a ResourceList from rw, runs Processor on it and writes
// the ResourceList back. kyaml's reader also takes a v1 List and bare
// resources, and its writer would then answer in that shape; no KRM
// orchestrator sends them, so Execute refuses every wrapper but a
// config.kubernetes.io/v1 ResourceList, and then writes nothing. The input
// is read once: the wrapper is known when the processor runs, and the
// writer is told to drop what framework.Execute writes after a refusal.
func Execute(baseDir string, rw *kio.ByteReadWriter) error {
	out := &dropWriter{w: rw.Writer}
	rw.Writer = out
	p := Processor(baseDir)
	return framework.Execute(framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		if rw.WrappingKind != kio.ResourceListKind || rw.WrappingAPIVersion != kio.ResourceListAPIVersion {
			out.drop = true
			got := "not wrapped in a list"
			if len(rl.Items) == 0 && rl.FunctionConfig == nil {
				got = "empty"
			}
			if rw.WrappingKind != "" {
				got = fmt.Sprintf("a %s %q", rw.WrappingKind, rw.WrappingAPIVersion)
			}
			return fmt.Errorf("the input is %s: a KRM function reads an apiVersion %s, kind %s", got, kio.ResourceListAPIVersion, kio.ResourceListKind)
		}
		return p.Process(rl)
	}), rw)
}

// dropWriter passes writes to w until drop is set, then drops them.
type dropWriter struct {
	w    io.Writer
	drop bool
}

func (d *dropWriter) Write(b []byte) (int, error) {
	if d.drop {
		return len(b), nil
	}
	return d.w.Write(b)
}

// Processor returns the function. baseDir resolves a Topology's workload
// sources (kustomize runs exec functions in the kustomization's folder).
func Processor(baseDir string) framework.ResourceListProcessor {
	return framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		if rl.FunctionConfig == nil {
			return errors.New("no functionConfig: give a stretch.dev/v1alpha1 Topology (generator) or SpreadPolicy (transformer)")
		}
		apiVersion, kind := rl.FunctionConfig.GetApiVersion(), rl.FunctionConfig.GetKind()
		switch {
		case apiVersion == v1alpha1.APIVersion && kind == v1alpha1.KindTopology:
			return generate(rl, baseDir)
		case apiVersion == v1alpha1.APIVersion && kind == v1alpha1.KindSpreadPolicy:
			return transform(rl)
		}
		return fmt.Errorf("functionConfig is %s %s; want %s %s or %s %s", apiVersion, kind, v1alpha1.APIVersion, v1alpha1.KindTopology, v1alpha1.APIVersion, v1alpha1.KindSpreadPolicy)
	})
}

// generate appends the bundle's Kubernetes objects to the items.
func generate(rl *framework.ResourceList, baseDir string) error {
	cfg := rl.FunctionConfig.Copy()
	// kustomize annotates the functionConfig; the Topology has no room for it.
	if err := cfg.PipeE(kyaml.Lookup("metadata"), kyaml.Clear("annotations")); err != nil {
		return fmt.Errorf("functionConfig: %w", err)
	}
	if err := cfg.PipeE(kyaml.Lookup("metadata"), kyaml.Clear("labels")); err != nil {
		return fmt.Errorf("functionConfig: %w", err)
	}
	data, err := cfg.String()
	if err != nil {
		return fmt.Errorf("functionConfig: %w", err)
	}
	f, err := topology.Parse([]byte(data), "functionConfig")
	if err != nil {
		return err
	}
	out, err := generators.Render(context.Background(), f.Topology, generators.Options{BaseDir: baseDir})
	if err != nil {
		return err
	}
	for _, file := range out.Bundle.Files {
		if row, _ := layout.Lookup(file.Layer); !row.KRM || !layout.ClusterFile(file.Layer, file.Path) {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(file.Data), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return fmt.Errorf("%s: %w", file.Path, err)
		}
		rl.Items = append(rl.Items, nodes...)
	}
	for _, fd := range out.Findings {
		rl.Results = append(rl.Results, result(fd.Finding))
	}
	return nil
}

// transform spread-patches the items.
func transform(rl *framework.ResourceList) error {
	data, err := rl.FunctionConfig.MarshalJSON()
	if err != nil {
		return fmt.Errorf("functionConfig: %w", err)
	}
	var sp v1alpha1.SpreadPolicy
	if err := strict.Unmarshal(data, &sp); err != nil {
		return fmt.Errorf("functionConfig SpreadPolicy: %w", err)
	}
	res, err := spread.Patch(rl.Items, policyOf(sp.Spec))
	if err != nil {
		return err
	}
	rl.Items = append(rl.Items, res.Added...)
	for _, f := range res.Findings {
		rl.Results = append(rl.Results, result(f))
	}
	// The items are what is applied: a namespace none of them creates
	// must exist already (NAMESPACE001, as lint checks its files).
	for _, f := range namespaces.Check(res.Namespaced, namespaces.EffectApply) {
		rl.Results = append(rl.Results, result(f))
	}
	return nil
}

// result turns a finding into a KRM result. Findings never fail the
// function: the patch is done and the risks are reported, as lint does
// for a gate.
func result(f spread.Finding) *framework.Result {
	sev := framework.Info
	if !f.Changed && f.Severity != spread.SeverityInfo {
		sev = framework.Warning
	}
	return &framework.Result{
		Message:  f.ID + ": " + f.Message,
		Severity: sev,
		ResourceRef: &kyaml.ResourceIdentifier{
			TypeMeta: kyaml.TypeMeta{Kind: f.Kind},
			NameMeta: kyaml.NameMeta{Name: f.Name, Namespace: f.Namespace},
		},
		Tags: map[string]string{"id": f.ID, "severity": string(f.Severity)},
	}
}
