package generators

import (
	"context"
	"fmt"
	"path"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/source"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

// LayerWorkloads is the layer of the user's spread-patched workloads.
const LayerWorkloads = "workloads"

// workloadsGenerator loads each workload source, spread-patches it and
// writes one file per object under workloads/<source>/. It has no
// blueprint: the objects are the user's, and the patcher keeps their
// comments and key order.
type workloadsGenerator struct{}

func (workloadsGenerator) Layer() string { return LayerWorkloads }

func (workloadsGenerator) Generate(ctx context.Context, in *Input) ([]Object, error) {
	policy := spread.PolicyFor(in.Model)
	kubeVersion := "v" + in.Model.Kubernetes.Version
	var out []Object
	for _, src := range in.Model.Workloads.Sources {
		files, err := source.Load(ctx, in.BaseDir, src, kubeVersion, nil)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		objs, findings, err := patchFiles(files, policy)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		for i := range findings {
			findings[i].Source = src.Name
		}
		in.Findings = append(in.Findings, findings...)
		seen := map[string]bool{}
		for _, o := range objs {
			p := path.Join("workloads", src.Name, objectFileName(o))
			if seen[p] {
				return nil, fmt.Errorf("source %s: two objects would be written to %s: %s %s/%s appears twice", src.Name, p, o.GetKind(), o.GetNamespace(), o.GetName())
			}
			seen[p] = true
			data, err := o.String()
			if err != nil {
				return nil, fmt.Errorf("source %s: encode %s %s: %w", src.Name, o.GetKind(), o.GetName(), err)
			}
			out = append(out, Object{Path: p, Layer: LayerWorkloads, YAML: []byte(data), Typed: o})
		}
	}
	return out, nil
}

// patchFiles decodes a source's files, patches their objects as one set
// (an HPA in one file targets a Deployment in another) and returns them
// with the added PodDisruptionBudgets at the end. Errors name the file and
// line of the bad field, when the source is a folder.
func patchFiles(files []source.File, policy spread.Policy) ([]*kyaml.RNode, []Finding, error) {
	objs, origin, err := spread.ReadFiles(files)
	if err != nil {
		return nil, nil, err
	}
	res, err := spread.Patch(objs, policy)
	if err != nil {
		return nil, nil, spread.InFiles(err, origin)
	}
	fileOf := map[string]string{}
	for i, o := range objs {
		fileOf[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = origin[i]
	}
	var findings []Finding
	for _, f := range res.Findings {
		file := fileOf[f.Kind+"/"+f.Namespace+"/"+f.Name]
		if file == "" {
			f.Line = 0 // a line of built output (kustomize, Helm) helps no one
		}
		findings = append(findings, Finding{Finding: f, File: file})
	}
	return append(objs, res.Added...), findings, nil
}

// objectFileName names an object's file after its kind, namespace and name.
func objectFileName(o *kyaml.RNode) string {
	parts := []string{strings.ToLower(o.GetKind())}
	if ns := o.GetNamespace(); ns != "" {
		parts = append(parts, ns)
	}
	parts = append(parts, o.GetName())
	return strings.Join(parts, "_") + ".yaml"
}

// Finding is a change or risk the spread patcher reported for a source.
type Finding struct {
	spread.Finding
	// Source names the workload source.
	Source string
	// File is the source's file the object was read from; empty for built
	// output (a kustomize build, a Helm chart).
	File string
}
