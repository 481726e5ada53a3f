package generators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	jsonnet "github.com/google/go-jsonnet"

	"github.com/stretch-dev/kubectl-stretch/blueprints"
	"github.com/stretch-dev/kubectl-stretch/internal/input"
)

// embeddedPrefix names embedded blueprint files in Jsonnet errors.
const embeddedPrefix = "blueprints/"

// engine evaluates the Jsonnet blueprints of each layer, with a folder that
// replaces blueprint files and mixins merged over the layers' output.
type engine struct {
	overlay string
	mixins  []mixin
	imp     *importer
	// applied lists, per layer, the mixins that change it (as given to
	// newEngine); checkMixins fills it.
	applied map[string][]string
	// ctx, when set, ends an evaluation early (see eval).
	ctx context.Context
}

// mixin is a mixin file, as given to newEngine and as an absolute path.
type mixin struct {
	name, abs string
}

// newEngine returns an engine. blueprintsDir, when set, is a folder whose
// files replace the embedded blueprints of the same name. mixins are Jsonnet
// files, each an object (or a function of the model returning one) keyed by
// layer name and merged over that layer's output in order.
func newEngine(blueprintsDir string, mixins []string) (*engine, error) {
	e := &engine{imp: &importer{embedded: blueprints.FS(), cache: map[string]jsonnet.Contents{}}}
	if blueprintsDir != "" {
		abs, err := filepath.Abs(blueprintsDir)
		if err != nil {
			return nil, fmt.Errorf("blueprints folder %s: %w", blueprintsDir, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("blueprints folder: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("blueprints folder %s is not a directory", blueprintsDir)
		}
		e.overlay = abs
		e.imp.overlay = abs
	}
	for _, m := range mixins {
		abs, err := filepath.Abs(m)
		if err != nil {
			return nil, fmt.Errorf("mixin %s: %w", m, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("mixin: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("mixin: %w", &input.NotRegularError{Name: m, Mode: st.Mode()})
		}
		e.mixins = append(e.mixins, mixin{name: m, abs: abs})
	}
	return e, nil
}

// checkMixins evaluates every mixin and checks that its top-level fields
// name known layers, so that a typo in a layer name is an error rather
// than a mixin silently ignored. It records which mixins change each layer.
func (e *engine) checkMixins(modelJSON []byte, layers []string) error {
	known := map[string]bool{}
	for _, l := range layers {
		known[l] = true
	}
	e.applied = map[string][]string{}
	var errs []error
	for _, mx := range e.mixins {
		m := mx.abs
		snippet := fmt.Sprintf("local m = import %s;\nlocal model = std.parseJson(std.extVar('model'));\nstd.objectFieldsAll(if std.isFunction(m) then m(model) else m)", quote(m))
		out, err := e.eval("<mixin check>", snippet, modelJSON, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("mixin %s: %w", mx.name, err))
			continue
		}
		var fields []string
		if err := json.Unmarshal([]byte(out), &fields); err != nil {
			errs = append(errs, fmt.Errorf("mixin %s: %w", mx.name, err))
			continue
		}
		for _, f := range fields {
			if !known[f] {
				errs = append(errs, fmt.Errorf("mixin %s: %q is not a layer a mixin can change (layers: %s)", mx.name, f, strings.Join(layers, ", ")))
				continue
			}
			e.applied[f] = append(e.applied[f], mx.name)
		}
	}
	return errors.Join(errs...)
}

// mixinsFor returns the mixin files, as given to newEngine, that change
// layer, in order. It knows them once checkMixins has run.
func (e *engine) mixinsFor(layer string) []string {
	return e.applied[layer]
}

// evalLayer evaluates the blueprint <layer>.jsonnet, called with the model and
// extra arguments (each a JSON value), merges the mixins over the result
// and returns the layer's files: bundle path -> JSON object.
func (e *engine) evalLayer(layer string, modelJSON []byte, args map[string][]byte) (map[string]json.RawMessage, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "local blueprint = import %s;\n", quote(layer+".jsonnet"))
	b.WriteString("local model = std.parseJson(std.extVar('model'));\n")
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	sort.Strings(names)
	call := []string{"model"}
	for _, k := range names {
		fmt.Fprintf(&b, "local arg_%s = std.parseJson(std.extVar(%s));\n", k, quote("arg_"+k))
		call = append(call, "arg_"+k)
	}
	fmt.Fprintf(&b, "local out = blueprint(%s);\n", strings.Join(call, ", "))
	b.WriteString("local mixins = [\n")
	for _, m := range e.mixins {
		fmt.Fprintf(&b, "  import %s,\n", quote(m.abs))
	}
	b.WriteString("];\n")
	b.WriteString("local merge(acc, m) = acc + (if std.isFunction(m) then m(model) else m);\n")
	fmt.Fprintf(&b, "std.foldl(merge, mixins, { %s: out })[%s]\n", quote(layer), quote(layer))

	out, err := e.eval(layer, b.String(), modelJSON, args)
	if err != nil {
		return nil, err
	}
	var files map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		return nil, fmt.Errorf("blueprint %s.jsonnet must return an object mapping paths to objects: %w", layer, err)
	}
	return files, nil
}

// eval evaluates a snippet. go-jsonnet takes no context and a mixin may
// loop or allocate forever, so the evaluation runs in a goroutine of its
// own and eval returns as soon as e.ctx ends; the abandoned goroutine runs
// on until the program exits, which the command does at once. Recursion
// is bounded by go-jsonnet's MaxStack (500 frames by default), which
// turns an endless non-tail recursion into an error.
func (e *engine) eval(name, snippet string, modelJSON []byte, args map[string][]byte) (string, error) {
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	vm := jsonnet.MakeVM()
	vm.Importer(e.imp)
	vm.ExtVar("model", string(modelJSON))
	for k, v := range args {
		vm.ExtVar("arg_"+k, string(v))
	}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := vm.EvaluateAnonymousSnippet("<"+name+">", snippet)
		done <- result{out, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if r.err != nil {
		return "", &jsonnetError{short: shortError(r.err.Error()), err: r.err}
	}
	return r.out, nil
}

// jsonnetError is a Jsonnet evaluation error shown short (see shortError),
// with go-jsonnet's error, stack trace included, as its cause.
type jsonnetError struct {
	short string
	err   error
}

func (e *jsonnetError) Error() string { return "jsonnet: " + e.short }
func (e *jsonnetError) Unwrap() error { return e.err }

// shortError keeps the first line of a Jsonnet error and the first stack
// frame that is in a real file (a blueprint or a mixin), dropping the
// frames of the evaluation snippet and the standard library.
func shortError(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	out := lines[0]
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "<") || strings.HasPrefix(l, "Field ") || strings.HasPrefix(l, "During ") {
			continue
		}
		if loc, _, ok := strings.Cut(l, "\t"); ok {
			l = loc
		}
		if !strings.Contains(out, l) {
			out += " (at " + l + ")"
		}
		break
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// importer resolves imports: absolute paths and paths relative to a file on
// disk from the disk, blueprint names from the overlay folder first and the
// embedded blueprints second.
type importer struct {
	overlay  string
	embedded fs.FS
	cache    map[string]jsonnet.Contents
}

// Import implements jsonnet.Importer.
func (i *importer) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	var candidates []string
	switch {
	case filepath.IsAbs(importedPath):
		candidates = append(candidates, importedPath)
	case filepath.IsAbs(importedFrom) && (i.overlay == "" || filepath.Dir(importedFrom) != i.overlay):
		candidates = append(candidates, filepath.Join(filepath.Dir(importedFrom), importedPath))
	}
	if !filepath.IsAbs(importedPath) {
		if i.overlay != "" {
			candidates = append(candidates, filepath.Join(i.overlay, importedPath))
		}
		candidates = append(candidates, embeddedPrefix+path.Clean(importedPath))
	}
	for _, c := range candidates {
		if cached, ok := i.cache[c]; ok {
			return cached, c, nil
		}
		var data []byte
		var err error
		if strings.HasPrefix(c, embeddedPrefix) {
			data, err = fs.ReadFile(i.embedded, strings.TrimPrefix(c, embeddedPrefix))
		} else {
			data, err = input.ReadFile(c, input.SourceLimit)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return jsonnet.Contents{}, "", err
		}
		contents := jsonnet.MakeContentsRaw(data)
		i.cache[c] = contents
		return contents, c, nil
	}
	return jsonnet.Contents{}, "", fmt.Errorf("import %q: not found (looked in %s)", importedPath, strings.Join(candidates, ", "))
}
