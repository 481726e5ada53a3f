package spread

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Result is what a patch run changed and found.
type Result struct {
	// Findings are every change and every risk, sorted by namespace,
	// kind, name, ID and message.
	Findings []Finding
	// Added are the PodDisruptionBudgets the patcher created, in the order
	// of their workloads in the input.
	Added []*kyaml.RNode
	// Namespaced are the objects of the input that set metadata.namespace,
	// and its Namespace objects, in input order: what a check that every
	// namespace is created needs (see internal/namespaces).
	Namespaced []ObjectRef
}

// ObjectRef identifies an object of the input and its line.
type ObjectRef struct {
	Kind, Namespace, Name string
	// Line is the object's line in its stream; 0 when unknown.
	Line int
}

// Changed reports whether any finding is a change.
func (r *Result) Changed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Changed })
}

// Patch patches Kubernetes objects in place: it spreads the Deployments,
// StatefulSets and ReplicaSets, raises replicas and HorizontalPodAutoscaler
// minimums, and returns the PodDisruptionBudgets to add in Result.Added for
// the caller to append. Comments and key order are kept.
//
// Bad input (an object that is not a mapping, a field of the wrong type)
// is reported for every object at once, as DocumentErrors joined with
// errors.Join, and then no object is patched (YAML aliases may already be
// expanded into copies, which means the same). Objects of other kinds pass
// through untouched.
func Patch(objs []*kyaml.RNode, p Policy) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	roots := make([]*yaml.Node, len(objs))
	pos := make([]int, len(objs))
	for i, o := range objs {
		pos[i] = i + 1
		if o == nil {
			continue
		}
		roots[i] = o.Document()
		if n := roots[i]; n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			roots[i] = n.Content[0]
		}
	}
	return run(roots, pos, p)
}

// annotationHelmHook marks a Helm hook, such as a test Pod.
const annotationHelmHook = "helm.sh/hook"

// object is one decoded Kubernetes object of the input.
type object struct {
	doc        int        // 1-based position in the input
	node       *yaml.Node // nil once PatchStream's first pass has read it
	line       int        // the line of node, for findings
	apiVersion string
	group      string
	kind       string
	name       string
	namespace  string
	skip       bool // opted out
	minRepl    int  // the AnnotationMinReplicas value; 0 when not set
	hook       bool // a Helm hook: run on demand, not kept running
}

// replicated reports whether the object is an apps/v1 Deployment,
// StatefulSet or ReplicaSet, whose replicas the patcher raises.
func (o *object) replicated() bool {
	return o.group == "apps" && (o.kind == "Deployment" || o.kind == "StatefulSet" || o.kind == "ReplicaSet")
}

// nsName names the object in messages: namespace/name, or name.
func (o *object) nsName() string {
	if o.namespace == "" {
		return o.name
	}
	return o.namespace + "/" + o.name
}

// patcher holds the state of one run.
type patcher struct {
	p         Policy
	dataZones map[string]bool
	zoneBound map[string]bool
	findings  []Finding
	added     []addedPDB

	workloads []*workload
	hpas      []*hpa
	pdbs      []*pdb
	claims    map[string]*claim // by namespace/name, as read
	lookup    map[string]*claim // the claims of the whole input, to look up
	last      *object           // the object read last
	texts     map[string]string // when set, the findings' texts, shared
	volumes   []*object         // node-local PersistentVolumes
	secrets   []*object         // plain v1 Secrets
	refs      []ObjectRef       // Result.Namespaced
}

// run patches the objects in roots; pos holds their positions for errors.
func run(roots []*yaml.Node, pos []int, p Policy) (*Result, error) {
	pt := newPatcher(p)
	pt.lookup = pt.claims
	// Read and check everything first, so that bad input changes nothing.
	var errs []error
	for i, n := range roots {
		if err := pt.read(pos[i], n); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	pt.patch()
	return pt.result(), nil
}

// newPatcher returns a patcher for policy p with nothing read.
func newPatcher(p Policy) *patcher {
	pt := &patcher{
		p:         p,
		dataZones: make(map[string]bool, len(p.DataZones)),
		zoneBound: make(map[string]bool, len(p.ZoneBoundStorageClasses)),
		claims:    map[string]*claim{},
	}
	for _, z := range p.DataZones {
		pt.dataZones[z] = true
	}
	for _, c := range p.ZoneBoundStorageClasses {
		pt.zoneBound[c] = true
	}
	return pt
}

// read classifies one object and checks the fields the patcher uses.
func (pt *patcher) read(doc int, n *yaml.Node) error {
	if n == nil {
		return &DocumentError{Document: doc, Msg: "expected a Kubernetes object, got nothing"}
	}
	line := n.Line
	if t := customTag(n); t != nil {
		return &DocumentError{Document: doc, Line: t.Line, Column: t.Column,
			Msg: "YAML tag " + strconv.Quote(t.Tag) + " is not supported in a Kubernetes manifest; remove the tag and write the value as plain YAML"}
	}
	if err := expandAliases(n); err != nil {
		return &DocumentError{Document: doc, Line: line, Column: n.Column, Msg: err.Error()}
	}
	if n.Kind != yaml.MappingNode {
		return &DocumentError{Document: doc, Line: line, Column: n.Column,
			Msg: "expected a Kubernetes object (a mapping), got " + kindName(n)}
	}
	var r reader
	o := &object{doc: doc, node: n, line: line}
	o.apiVersion = r.str(n, "", "apiVersion")
	o.kind = r.str(n, "", "kind")
	meta := r.mapping(n, "", "metadata")
	o.name = r.str(meta, "metadata", "name")
	o.namespace = r.str(meta, "metadata", "namespace")
	_, ann := r.labels(meta, "metadata", "annotations")
	if r.err == nil {
		switch {
		case o.apiVersion == "":
			r.fail(n, "apiVersion", "missing")
		case o.kind == "":
			r.fail(n, "kind", "missing")
		}
	}
	if pt.p.SkipAnnotation != "" && ann[pt.p.SkipAnnotation] == "true" {
		o.skip = true
	}
	_, o.hook = ann[annotationHelmHook]
	if g, _, ok := strings.Cut(o.apiVersion, "/"); ok {
		o.group = g
	}
	if _, ok := ann[AnnotationMinReplicas]; ok && r.err == nil && o.replicated() {
		o.minRepl = r.minReplicas(meta)
	}
	if r.err == nil {
		pt.classify(&r, o)
	}
	if r.err == nil && (o.namespace != "" || o.kind == "Namespace") {
		pt.refs = append(pt.refs, ObjectRef{Kind: o.kind, Namespace: o.namespace, Name: o.name, Line: line})
	}
	if r.err != nil {
		r.err.Document, r.err.Kind, r.err.Name = doc, o.kind, o.nsName()
		if r.err.Line == 0 {
			r.err.Line, r.err.Column = line, n.Column
		}
		return r.err
	}
	pt.last = o
	return nil
}

// customTag returns the first node below n, in document order, with an
// explicit tag outside the core schema (!!binary, !foo): Kubernetes
// decoders would give such a value a meaning the file does not show.
func customTag(n *yaml.Node) *yaml.Node {
	if !topology.CoreTagged(n) {
		return n
	}
	for _, c := range n.Content {
		if t := customTag(c); t != nil {
			return t
		}
	}
	return nil
}

// classify reads the objects the patcher works on.
func (pt *patcher) classify(r *reader, o *object) {
	switch {
	case o.replicated(), o.group == "apps" && o.kind == "DaemonSet",
		o.group == "batch" && (o.kind == "Job" || o.kind == "CronJob"),
		o.group == "" && o.kind == "Pod":
		if w := pt.readWorkload(r, o); w != nil {
			pt.workloads = append(pt.workloads, w)
		}
	case o.group == "autoscaling" && o.kind == "HorizontalPodAutoscaler":
		if h := readHPA(r, o); h != nil {
			pt.hpas = append(pt.hpas, h)
		}
	case o.group == "policy" && o.kind == "PodDisruptionBudget":
		spec := r.mapping(o.node, "", "spec")
		sel := readSelector(r, spec, "spec", "selector")
		pt.pdbs = append(pt.pdbs, &pdb{obj: o, sel: sel})
	case o.group == "" && o.kind == "PersistentVolumeClaim":
		spec := r.mapping(o.node, "", "spec")
		c := &claim{obj: o}
		c.class = r.str(spec, "spec", "storageClassName")
		c.modes = r.strs(spec, "spec", "accessModes")
		pt.claims[o.nsName()] = c
	case o.apiVersion == "v1" && o.kind == "Secret":
		pt.secrets = append(pt.secrets, o)
	case o.group == "" && o.kind == "PersistentVolume":
		spec := r.mapping(o.node, "", "spec")
		if r.mapping(spec, "spec", "local") != nil || r.mapping(spec, "spec", "hostPath") != nil {
			pt.volumes = append(pt.volumes, o)
		}
	}
}

// report records a finding of rule ru for object o: problem is what is
// wrong in the input as written, message what the patcher found and did.
func (pt *patcher) report(o *object, ru rule, changed bool, problem, message string) {
	r := &registry[ru]
	if pt.texts != nil {
		problem, message = pt.intern(problem), pt.intern(message)
	}
	pt.findings = append(pt.findings, Finding{
		ID:        r.ID,
		Severity:  r.Severity,
		Kind:      o.kind,
		Namespace: o.namespace,
		Name:      o.name,
		Line:      o.line,
		Problem:   problem,
		Message:   message,
		Fix:       r.Fix,
		Changed:   changed,
	})
}

// intern returns the copy of s in pt.texts, so that the many findings
// with the same text share one string.
func (pt *patcher) intern(s string) string {
	if t, ok := pt.texts[s]; ok {
		return t
	}
	pt.texts[s] = s
	return s
}

// risk records a finding of rule ru for object o that the patcher leaves
// as it is, so that its problem and message are the same text.
func (pt *patcher) risk(o *object, ru rule, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	pt.report(o, ru, false, msg, msg)
}

// patch applies the rules to everything read.
func (pt *patcher) patch() {
	targets := pt.linkHPAs()
	for _, w := range pt.workloads {
		pt.patchWorkload(w, targets[w])
	}
	for _, h := range pt.hpas {
		pt.patchHPA(h)
	}
	pt.finish()
}

// finish adds the PodDisruptionBudgets and reports the risks of claims,
// volumes and Secrets: what follows the patch of workloads and autoscalers.
func (pt *patcher) finish() {
	pt.addPDBs()
	for _, c := range sortedClaims(pt.claims) {
		if pt.zoneBound[c.class] {
			pt.risk(c.obj, ruleZoneBoundStorage, "uses StorageClass %s, whose volumes live in one region", c.class)
		}
	}
	for _, v := range pt.volumes {
		pt.risk(v, ruleNodeLocalVolume,
			"is a local or hostPath volume on one node; claims bound to it pin their pods to that node")
	}
	for _, s := range pt.secrets {
		pt.risk(s, rulePlainSecret,
			"is a plain Secret: its values are only base64-encoded, and the bundle is meant to be committed to Git")
	}
}

func sortedClaims(m map[string]*claim) []*claim {
	out := make([]*claim, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *claim) int { return cmp.Compare(a.obj.doc, b.obj.doc) })
	return out
}

// result sorts the findings and wraps the added objects.
func (pt *patcher) result() *Result {
	slices.SortStableFunc(pt.findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Message, b.Message),
		)
	})
	res := &Result{Findings: pt.findings, Namespaced: pt.refs}
	for _, a := range pt.added {
		res.Added = append(res.Added, kyaml.NewRNode(a.node()))
	}
	return res
}
