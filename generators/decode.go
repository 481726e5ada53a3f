package generators

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/stretch-dev/kubectl-stretch/internal/api/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/api/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/api/kubespray"
	"github.com/stretch-dev/kubectl-stretch/internal/api/rook"
)

// layerDirs lists the folders each layer may write into. A blueprint or a
// mixin that writes elsewhere fails the render, so that layers never
// overwrite each other.
var layerDirs = []struct {
	layer string
	dirs  []string
}{
	{LayerKubespray, []string{"kubespray/"}},
	{LayerCalico, []string{"network/calico/"}},
	{LayerRook, []string{"storage/rook/"}},
	{LayerWorkloads, []string{"workloads/"}},
	{LayerAccess, []string{"access/"}},
	{LayerFlux, []string{"flux/"}},
}

// kubesprayFiles maps each Kubespray file to the type it must decode into.
var kubesprayFiles = []struct {
	path string
	new  func() any
}{
	{"kubespray/hosts.yaml", func() any { return &kubespray.Inventory{} }},
	{"kubespray/group_vars/all/etcd.yml", func() any { return &kubespray.EtcdVars{} }},
	{"kubespray/group_vars/k8s_cluster/k8s-cluster.yml", func() any { return &kubespray.ClusterVars{} }},
	{"kubespray/group_vars/k8s_cluster/k8s-net-calico.yml", func() any { return &kubespray.CalicoVars{} }},
}

// customKinds maps the custom resources a bundle may hold to their types.
// Built-in kinds are looked up in client-go's scheme.
var customKinds = []struct {
	apiVersion, kind string
	new              func() any
}{
	{rook.APIVersion, "CephCluster", func() any { return &rook.CephCluster{} }},
	{rook.APIVersion, "CephBlockPool", func() any { return &rook.CephBlockPool{} }},
	{calico.APIVersion, "FelixConfiguration", func() any { return &calico.FelixConfiguration{} }},
	{flux.KustomizationAPIVersion, "Kustomization", func() any { return &flux.Kustomization{} }},
	{flux.HelmRepositoryAPIVersion, "HelmRepository", func() any { return &flux.HelmRepository{} }},
	{flux.HelmReleaseAPIVersion, "HelmRelease", func() any { return &flux.HelmRelease{} }},
}

// decodeFiles checks and strictly decodes a layer's files, sorted by path.
// It reports every file that fails, as a *decodeError.
func decodeFiles(layer string, files map[string]json.RawMessage) ([]Object, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var errs []error
	var out []Object
	for _, p := range paths {
		obj, err := decodeFile(layer, p, files[p])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, obj)
	}
	if len(errs) > 0 {
		return nil, &decodeError{errs: errs}
	}
	return out, nil
}

// decodeError holds the errors of a layer's files that failed the checks or
// the strict decoding, one per file, each "<path>: <cause>". Objects tells
// it apart from Jsonnet errors to name the mixins applied to the layer.
type decodeError struct {
	errs []error
}

// Error reads like errors.Join's, with several files listed one a line
// under a count.
func (e *decodeError) Error() string {
	if len(e.errs) == 1 {
		return e.errs[0].Error()
	}
	msg := errors.Join(e.errs...).Error()
	return fmt.Sprintf("%d files are invalid:\n  %s", len(e.errs), strings.ReplaceAll(msg, "\n", "\n  "))
}

func (e *decodeError) Unwrap() []error { return e.errs }

func decodeFile(layer, p string, raw json.RawMessage) (Object, error) {
	if err := checkPath(layer, p); err != nil {
		return Object{}, err
	}
	var typed any
	if strings.HasPrefix(p, "kubespray/") {
		for _, f := range kubesprayFiles {
			if f.path == p {
				typed = f.new()
			}
		}
		if typed == nil {
			return Object{}, fmt.Errorf("%s: not a file the kubespray layer knows (known: %s)", p, kubesprayPaths())
		}
	} else {
		var err error
		if typed, err = newKRMObject(raw); err != nil {
			return Object{}, fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := strictUnmarshal(raw, typed); err != nil {
		return Object{}, fmt.Errorf("%s: %w", p, err)
	}
	return Object{Path: p, Layer: layer, Raw: raw, Typed: typed}, nil
}

func checkPath(layer, p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
		return fmt.Errorf("%q: a bundle path must be relative, clean and use forward slashes", p)
	}
	if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
		return fmt.Errorf("%s: a bundle file must end in .yaml or .yml", p)
	}
	if path.Base(p) == "kustomization.yaml" {
		return fmt.Errorf("%s: kustomization.yaml files are generated; do not write them from a blueprint", p)
	}
	for _, ld := range layerDirs {
		if ld.layer != layer {
			continue
		}
		for _, d := range ld.dirs {
			if strings.HasPrefix(p, d) {
				return nil
			}
		}
		return fmt.Errorf("%s: the %s layer may only write under %s", p, layer, strings.Join(ld.dirs, ", "))
	}
	return fmt.Errorf("%s: unknown layer %q", p, layer)
}

func kubesprayPaths() string {
	var s []string
	for _, f := range kubesprayFiles {
		s = append(s, f.path)
	}
	return strings.Join(s, ", ")
}

// newKRMObject returns a new typed value for the apiVersion and kind of raw.
func newKRMObject(raw json.RawMessage) (any, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.APIVersion == "" || tm.Kind == "" || tm.Metadata.Name == "" {
		return nil, fmt.Errorf("a Kubernetes object needs apiVersion, kind and metadata.name")
	}
	for _, k := range customKinds {
		if k.apiVersion == tm.APIVersion && k.kind == tm.Kind {
			return k.new(), nil
		}
	}
	gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	if t, ok := scheme.Scheme.AllKnownTypes()[gvk]; ok {
		return reflect.New(t).Interface(), nil
	}
	return nil, fmt.Errorf("%s %s is not a kind the bundle knows: use a built-in Kubernetes kind or one of %s", tm.APIVersion, tm.Kind, customKindNames())
}

func customKindNames() string {
	var s []string
	for _, k := range customKinds {
		s = append(s, k.apiVersion+" "+k.kind)
	}
	return strings.Join(s, ", ")
}

// strictUnmarshal decodes raw into v, refusing unknown fields. An unknown
// or mistyped field is reported as a *fieldError naming its path.
func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &fieldError{path: te.Field, msg: fmt.Sprintf("expected %s, got %s", te.Type, te.Value), err: err}
	}
	// encoding/json names an unknown field but not where it is: find it.
	if name, ok := unknownFieldName(err); ok {
		if p := unknownFieldPath(raw, reflect.TypeOf(v), name); p != "" {
			return &fieldError{path: p, msg: fmt.Sprintf("unknown field %q", name), err: err}
		}
	}
	return err
}

// fieldError is a decoding error of one field: Error reads
// "<path>: <msg>", and the decoder's own error stays reachable.
type fieldError struct {
	path string // e.g. spec.wireguardEnabled
	msg  string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.msg }
func (e *fieldError) Unwrap() error { return e.err }

// unknownFieldName returns the field that encoding/json's
// DisallowUnknownFields refused, read from its message (the package has no
// error type for it).
func unknownFieldName(err error) (string, bool) {
	q, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(q)
	return name, uerr == nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// unknownFieldPath returns the path (spec.a, spec.list[0].b) of a field
// called name that t has no field for, walking raw with t as encoding/json
// does; "" if there is none.
func unknownFieldPath(raw json.RawMessage, t reflect.Type, name string) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	return walkUnknown(v, t, "", name)
}

func walkUnknown(v any, t reflect.Type, at, name string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, _ := v.(map[string]any)
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			p := joinPath(at, k)
			ft, ok := fields[k]
			if !ok {
				// encoding/json also matches names case-insensitively.
				for _, fk := range sortedKeys(fields) {
					if strings.EqualFold(fk, k) {
						ft, ok = fields[fk], true
						break
					}
				}
			}
			if !ok {
				if k == name {
					return p
				}
				continue
			}
			if r := walkUnknown(obj[k], ft, p, name); r != "" {
				return r
			}
		}
	case reflect.Map:
		obj, _ := v.(map[string]any)
		for _, k := range sortedKeys(obj) {
			if r := walkUnknown(obj[k], t.Elem(), joinPath(at, k), name); r != "" {
				return r
			}
		}
	case reflect.Slice, reflect.Array:
		list, _ := v.([]any)
		for i, e := range list {
			if r := walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", at, i), name); r != "" {
				return r
			}
		}
	}
	return ""
}

// jsonFields maps the JSON names of t's fields to their types, with the
// fields of embedded structs without a name promoted (outer fields win).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		n, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && n == "" && ft.Kind() == reflect.Struct {
			embedded = append(embedded, ft)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if n == "" {
			n = f.Name
		}
		fields[n] = f.Type
	}
	for _, et := range embedded {
		for n, ft := range jsonFields(et) {
			if _, ok := fields[n]; !ok {
				fields[n] = ft
			}
		}
	}
	return fields
}

func joinPath(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}
