package generators

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/strict"
)

// decodeFiles checks and strictly decodes a layer's files, sorted by path.
// It reports every file that fails, as a *decodeError.
func decodeFiles(layer string, files map[string]json.RawMessage) ([]object, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var errs []error
	var out []object
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

func decodeFile(layer, p string, raw json.RawMessage) (object, error) {
	if err := checkLayerPath(layer, p); err != nil {
		return object{}, err
	}
	row, _ := layout.Lookup(layer) // CheckLayerPath knows the layer
	var typed any
	if !row.Cluster {
		// A file another tool reads: only the files the row lists.
		for _, f := range row.Files {
			if f.Match(p) {
				typed = f.New()
			}
		}
		if typed == nil {
			return object{}, fmt.Errorf("%s: not a file the %s layer knows (known: %s)", p, layer, filePaths(row))
		}
	} else {
		var err error
		if typed, err = newKRMObject(raw); err != nil {
			return object{}, fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := strict.Unmarshal(raw, typed); err != nil {
		return object{}, fmt.Errorf("%s: %w", p, err)
	}
	return object{Path: p, Layer: layer, Raw: raw, Typed: typed}, nil
}

func filePaths(row layout.Layer) string {
	var s []string
	for _, f := range row.Files {
		s = append(s, f.Path)
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
	for _, k := range layout.Kinds() {
		if k.APIVersion == tm.APIVersion && k.Kind == tm.Kind {
			return k.New(), nil
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
	for _, k := range layout.Kinds() {
		s = append(s, k.APIVersion+" "+k.Kind)
	}
	return strings.Join(s, ", ")
}
