// Package krm is kubectl-stretch as a KRM function (a ResourceList on
// standard input and output), for kustomize's exec functions and kpt.
//
// As a generator its functionConfig is a stretch.dev/v1alpha1 Topology and
// it appends the bundle's Kubernetes objects (network, storage and
// workloads; not the Kubespray inventory or the Flux Kustomizations, which
// only make sense as files). As a transformer its functionConfig is a
// stretch.dev/v1alpha1 SpreadPolicy and it spread-patches the items,
// appending the missing PodDisruptionBudgets, and reports the namespaces
// the items name but none of them creates (NAMESPACE001). Either way each
// change and risk is reported in ResourceList.results.
package krm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/strict"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// KindSpreadPolicy is the functionConfig kind of the transformer.
const KindSpreadPolicy = "SpreadPolicy"

// SpreadPolicy configures the transformer.
type SpreadPolicy struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   map[string]any   `json:"metadata,omitempty"`
	Spec       SpreadPolicySpec `json:"spec"`
}

// SpreadPolicySpec mirrors spread.Policy.
type SpreadPolicySpec struct {
	// ZoneKey defaults to topology.kubernetes.io/zone.
	ZoneKey string `json:"zoneKey,omitempty"`
	// DataZones are the two data regions. Required.
	DataZones []string `json:"dataZones"`
	// ArbiterTaintKey defaults to stretch.dev/arbiter.
	ArbiterTaintKey string `json:"arbiterTaintKey,omitempty"`
	// MinReplicas defaults to 2 when unset; an explicit 0 is kept, and
	// refused by the patcher's policy check.
	MinReplicas *int `json:"minReplicas,omitempty"`
	// ZoneBoundStorageClasses are classes whose volumes stay in one region.
	ZoneBoundStorageClasses []string `json:"zoneBoundStorageClasses,omitempty"`
}

// Policy returns the patcher's policy, with defaults filled in.
func (s SpreadPolicySpec) Policy() spread.Policy {
	p := spread.Policy{
		ZoneKey:                 s.ZoneKey,
		DataZones:               s.DataZones,
		ArbiterTaintKey:         s.ArbiterTaintKey,
		MinReplicas:             topology.DefaultMinReplicas,
		SkipAnnotation:          spread.AnnotationSkip,
		ZoneBoundStorageClasses: s.ZoneBoundStorageClasses,
	}
	if p.ZoneKey == "" {
		p.ZoneKey = topology.LabelZone
	}
	if p.ArbiterTaintKey == "" {
		p.ArbiterTaintKey = topology.TaintArbiter
	}
	if s.MinReplicas != nil {
		p.MinReplicas = *s.MinReplicas
	}
	return p
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
		case apiVersion == topology.APIVersion && kind == topology.Kind:
			return generate(rl, baseDir)
		case apiVersion == topology.APIVersion && kind == KindSpreadPolicy:
			return transform(rl)
		}
		return fmt.Errorf("functionConfig is %s %s; want %s %s or %s %s", apiVersion, kind, topology.APIVersion, topology.Kind, topology.APIVersion, KindSpreadPolicy)
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
	f, err := topology.Decode("functionConfig", []byte(data))
	if err != nil {
		return err
	}
	topology.Default(f.Topology)
	if err := f.Validate(); err != nil {
		return err
	}
	out, err := generators.Render(context.Background(), f.Topology, generators.Options{BaseDir: baseDir})
	if err != nil {
		return err
	}
	for _, file := range out.Bundle.Files {
		if !strings.HasSuffix(file.Path, ".yaml") || strings.HasSuffix(file.Path, "/kustomization.yaml") ||
			file.Layer == generators.LayerKubespray || file.Layer == generators.LayerFlux {
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
	var sp SpreadPolicy
	if err := strict.Unmarshal(data, &sp); err != nil {
		return fmt.Errorf("functionConfig SpreadPolicy: %w", err)
	}
	res, err := spread.Patch(rl.Items, sp.Spec.Policy())
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
