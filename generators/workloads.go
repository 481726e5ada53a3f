package generators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/namespaces"
	"github.com/stretch-dev/kubectl-stretch/internal/source"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
)

// workloadsGenerator loads each workload source, spread-patches it and
// writes one file per object under workloads/<source>/. It has no
// blueprint: the objects are the user's, and the patcher keeps their
// comments and key order.
type workloadsGenerator struct{}

func (workloadsGenerator) Layer() string { return layout.Workloads }

func (workloadsGenerator) Generate(ctx context.Context, in *layerInput) ([]object, error) {
	policy := spread.PolicyFor(in.Model)
	kubeVersion := "v" + in.Model.Kubernetes.Version
	var out []object
	var refs []namespaces.Ref
	var workloads []*kyaml.RNode // every source's objects, for rebalance
	bySource := map[string][]Finding{}
	for _, src := range in.Model.Workloads.Sources {
		files, err := source.Load(ctx, in.BaseDir, src, source.Options{
			KubeVersion: kubeVersion, TopologyFile: in.TopologyFile, AllowRemoteBases: in.AllowRemoteBases,
		})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		objs, origin, findings, err := patchFiles(files, policy, src.Name)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		for i := range findings {
			findings[i].Source = src.Name
		}
		bySource[src.Name] = findings
		workloads = append(workloads, objs...)
		seen := map[string]string{}
		for i, o := range objs {
			refs = append(refs, namespaces.Ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Source: src.Name, File: origin[i]})
			p, err := objectPath(src.Name, o.GetKind(), o.GetNamespace(), o.GetName())
			if err != nil {
				return nil, fmt.Errorf("source %s: %s %s: %w", src.Name, printable(o.GetKind()), printable(objectRef(o)), err)
			}
			// Keyed in lower case: on a case-insensitive file system (macOS,
			// Windows) the Roles Admin and admin would share a file.
			key := strings.ToLower(p)
			if prev, ok := seen[key]; ok {
				return nil, fmt.Errorf("source %s: two objects would be written to %s: %s %s and %s", src.Name, p, o.GetKind(), printable(objectRef(o)), prev)
			}
			seen[key] = printable(objectRef(o))
			data, err := o.String()
			if err != nil {
				return nil, fmt.Errorf("source %s: encode %s %s: %w", src.Name, o.GetKind(), o.GetName(), err)
			}
			out = append(out, object{Path: p, Layer: layout.Workloads, YAML: []byte(data), Typed: o})
		}
	}
	if r := in.Model.Workloads.Rebalance; r != nil {
		objs, err := rebalanceObjects(r, workloads)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	for _, g := range namespaces.Missing(refs, createdNamespaces(in.Objects)...) {
		for _, src := range in.Model.Workloads.Sources {
			var objs []namespaces.Ref
			for _, r := range g.Objects {
				if r.Source == src.Name {
					objs = append(objs, r)
				}
			}
			if len(objs) > 0 {
				bySource[src.Name] = append(bySource[src.Name], Finding{Finding: g.Finding(objs), Source: src.Name, File: objs[0].File})
			}
		}
	}
	for _, src := range in.Model.Workloads.Sources {
		in.Findings = append(in.Findings, bySource[src.Name]...)
	}
	return out, nil
}

// createdNamespaces returns the names of the Namespace objects of the
// layers rendered before the workloads (the Rook namespace): the workloads
// stage runs after theirs.
func createdNamespaces(objs []object) []string {
	var out []string
	for _, o := range objs {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if o.Raw != nil && json.Unmarshal(o.Raw, &meta) == nil && meta.Kind == "Namespace" {
			out = append(out, meta.Metadata.Name)
		}
	}
	return out
}

// patchFiles decodes a source's files, patches their objects as one set
// (an HPA in one file targets a Deployment in another) and returns them
// with the added PodDisruptionBudgets at the end. An object whose kind,
// namespace or name could not be a file of workloads/<source>/ is refused
// (see objectPath). Errors name the file and line of the bad field, when
// the source is a folder, or the document and line of the built stream.
func patchFiles(files []source.File, policy spread.Policy, name string) ([]*kyaml.RNode, []string, []Finding, error) {
	objs, origin, err := spread.ReadFiles(files)
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := spread.Patch(objs, policy)
	if err != nil {
		return nil, nil, nil, spread.InFiles(err, origin)
	}
	// Patch has expanded aliases: the names checked are the ones written.
	var errs []error
	for i, o := range objs {
		_, err := objectPath(name, o.GetKind(), o.GetNamespace(), o.GetName())
		var fe *fieldError
		if !errors.As(err, &fe) {
			if err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		line, col := fieldPosition(o, fe.Field)
		errs = append(errs, &spread.DocumentError{Document: i + 1, Line: line, Column: col,
			Kind: printable(o.GetKind()), Name: printable(objectRef(o)), Path: fe.Field, Msg: fe.Msg})
	}
	if len(errs) > 0 {
		return nil, nil, nil, spread.InFiles(errors.Join(errs...), origin)
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
	// origin names no file for built output, nor for the added objects.
	origin = append(origin[:len(objs):len(objs)], make([]string, len(res.Added))...)
	return append(objs, res.Added...), origin, findings, nil
}

// fieldPosition returns the line and column of an object's field (kind,
// metadata.namespace or metadata.name), or of the object when it has none.
func fieldPosition(o *kyaml.RNode, field string) (line, col int) {
	n := o.YNode()
	if f, err := o.Pipe(kyaml.Lookup(strings.Split(field, ".")...)); err == nil && f != nil {
		n = f.YNode()
	}
	return n.Line, n.Column
}

// objectRef is an object's namespace/name, or its name alone.
func objectRef(o *kyaml.RNode) string {
	if ns := o.GetNamespace(); ns != "" {
		return ns + "/" + o.GetName()
	}
	return o.GetName()
}

// printable returns s, or s quoted when it holds a space or a character
// that is not printable ASCII, so that no name from a manifest writes
// control characters to a terminal.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return strconv.Quote(s)
	}
	return s
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
