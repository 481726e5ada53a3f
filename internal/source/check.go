package source

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// Check refuses a source that must not be read, before anything of it is
// read or fetched: a path CheckPaths refuses, a folder source that holds
// the topology file, a symbolic link that leads out of a workloads folder
// or a chart, and a kustomization that reaches outside the folder that
// holds both the topology file and the kustomize folder or names a remote
// base (unless opts.AllowRemoteBases). Load calls it; validate calls it
// alone. A missing folder or chart is left to the loader.
func Check(baseDir string, src v1alpha1.Source, opts Options) error {
	if err := CheckPaths(src); err != nil {
		return err
	}
	switch {
	case src.Path != "":
		dir := filepath.Join(baseDir, src.Path)
		if opts.TopologyFile != "" && topology.HoldsFile(dir, opts.TopologyFile) {
			return fmt.Errorf("workloads folder %s holds the topology file %s, which is not a workload: give the workloads a folder of their own", dir, opts.TopologyFile)
		}
		if isDir(dir) {
			return checkLinks(dir, false, dir)
		}
	case src.Kustomize != "":
		dir := filepath.Join(baseDir, src.Kustomize)
		if !isDir(dir) {
			return nil
		}
		root, err := commonFolder(baseDir, dir)
		if err != nil {
			return fmt.Errorf("kustomize folder: %w", err)
		}
		return checkKustomization(dir, root, opts.AllowRemoteBases)
	case src.Helm != nil:
		if chart := filepath.Join(baseDir, src.Helm.Chart); isDir(chart) {
			return checkLinks(chart, true, chart)
		}
	}
	return nil
}

// isDir reports whether p is a folder (or a link to one).
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// CheckPaths refuses a source whose paths cannot be read the same from
// any checkout of the repository: an absolute path, or a URL where a
// local folder or chart is meant (see topology.LocalPathProblem).
func CheckPaths(src v1alpha1.Source) error {
	check := func(what, p string) error {
		if msg := topology.LocalPathProblem(what, p); msg != "" {
			return fmt.Errorf("%s %s: %s", what, p, msg)
		}
		return nil
	}
	var errs []error
	errs = append(errs, check("workloads folder", src.Path), check("kustomize folder", src.Kustomize))
	if src.Helm != nil {
		errs = append(errs, check("helm chart", src.Helm.Chart))
		for _, v := range src.Helm.ValuesFiles {
			errs = append(errs, check("values file", v))
		}
	}
	return errors.Join(errs...)
}

// checkLinks refuses a symbolic link in dir (and its subfolders, when
// deep) that leads outside every folder of within, or nowhere. The link's
// target is never read: its content must not reach an error message.
func checkLinks(dir string, deep bool, within ...string) error {
	var roots []string
	for _, w := range within {
		r, err := realPath(w)
		if err != nil {
			return fmt.Errorf("%s: %w", w, err)
		}
		roots = append(roots, r)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && !deep {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := realPath(p)
		if err != nil {
			return fmt.Errorf("%s: a symbolic link that leads nowhere is refused", p)
		}
		if !slices.ContainsFunc(roots, func(r string) bool { return isWithin(r, target) }) {
			return fmt.Errorf("%s: a symbolic link to %s, outside %s, is refused: copy the file into the folder", p, target, strings.Join(within, " and "))
		}
		return nil
	})
}

// isWithin reports whether p is root or under it; both are clean paths.
func isWithin(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// kustomizationLists are the fields of a kustomization that list files or
// folders (or remote bases) kustomize loads.
var kustomizationLists = []string{
	"resources", "bases", "components", "crds", "configurations",
	"generators", "transformers", "validators", "patchesStrategicMerge",
}

// kustomizationPaths are the fields of a kustomization that hold items
// with a path field (or, for openapi, a path field themselves).
var kustomizationPaths = []string{"patches", "patchesJson6902", "replacements", "openapi"}

// checkKustomization walks the kustomization in dir and the local bases
// and components it names, before kustomize runs: every symbolic link
// must stay within root, every local file or folder named must resolve
// within it, and a remote base or resource (a git repository or an https
// URL, which kustomize would fetch) is refused unless allowRemote.
// kustomize itself reads files only in each kustomization's folder
// (LoadRestrictionsRootOnly); this bounds the bases it may reach.
func checkKustomization(dir, root string, allowRemote bool) error {
	roots := []string{root}
	seen := map[string]bool{}
	var visit func(dir string) error
	visit = func(dir string) error {
		real, err := realPath(dir)
		if err != nil || seen[real] {
			return nil // kustomize reports a missing folder; a cycle is visited once
		}
		seen[real] = true
		if err := checkLinks(dir, true, root); err != nil {
			return err
		}
		var file string
		var data []byte
		for _, n := range topology.KustomizationFiles {
			if data, err = os.ReadFile(filepath.Join(dir, n)); err == nil {
				file = filepath.Join(dir, n)
				break
			}
		}
		if file == "" {
			return nil // a folder of resources, or kustomize's error
		}
		var k map[string]any
		if err := yaml.Unmarshal(data, &k); err != nil {
			return nil // kustomize reports it
		}
		for _, ref := range kustomizationRefs(k) {
			if isRemote(ref) {
				if allowRemote {
					continue
				}
				return fmt.Errorf("%s: %s is a remote base or resource, which kustomize would fetch over the network: vendor it into the repository, or pass --allow-remote-bases", file, ref)
			}
			p := filepath.Join(dir, ref)
			target, err := realPath(p)
			if err != nil {
				continue // kustomize reports a missing file
			}
			if !slices.ContainsFunc(roots, func(r string) bool { return isWithin(r, target) }) {
				return fmt.Errorf("%s: %s leads outside %s, the folder that holds both the topology file and the kustomize folder, which a kustomize source may not read", file, ref, root)
			}
			if st, err := os.Stat(target); err == nil && st.IsDir() {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(dir)
}

// realPath returns p absolute, with symbolic links resolved.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// commonFolder returns the deepest folder that holds both a and b, with
// symbolic links resolved.
func commonFolder(a, b string) (string, error) {
	var real [2][]string
	for i, p := range []string{a, b} {
		abs, err := realPath(p)
		if err != nil {
			return "", err
		}
		real[i] = strings.Split(abs, string(filepath.Separator))
	}
	n := 0
	for n < len(real[0]) && n < len(real[1]) && real[0][n] == real[1][n] {
		n++
	}
	common := strings.Join(real[0][:n], string(filepath.Separator))
	if common == "" {
		common = string(filepath.Separator)
	}
	return common, nil
}

// kustomizationRefs returns the files, folders and URLs a decoded
// kustomization names: its lists of resources and bases, the path of
// its patches and replacements, and the files of its generators.
func kustomizationRefs(k map[string]any) []string {
	var refs []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" && !strings.ContainsAny(s, "\n") {
			refs = append(refs, s)
		}
	}
	for _, f := range kustomizationLists {
		if l, ok := k[f].([]any); ok {
			for _, v := range l {
				add(v)
			}
		}
	}
	for _, f := range kustomizationPaths {
		switch v := k[f].(type) {
		case []any:
			for _, item := range v {
				if m, ok := item.(map[string]any); ok {
					add(m["path"])
				}
			}
		case map[string]any:
			add(v["path"])
		}
	}
	for _, f := range []string{"configMapGenerator", "secretGenerator"} {
		l, _ := k[f].([]any)
		for _, item := range l {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			add(m["env"])
			for _, key := range []string{"files", "envs"} {
				fl, _ := m[key].([]any)
				for _, v := range fl {
					if s, ok := v.(string); ok {
						// files entries may be key=path.
						if _, after, found := strings.Cut(s, "="); found && key == "files" {
							s = after
						}
						add(s)
					}
				}
			}
		}
	}
	return refs
}

// scpLike matches a git address in scp style, such as git@host:org/repo.
var scpLike = regexp.MustCompile(`^[^/@:]+@[^/:]+:`)

// isRemote reports whether kustomize would fetch ref over the network:
// a URL (https://, ssh://, git::...), an scp-style git address or a
// GitHub path without a scheme (github.com/org/repo).
func isRemote(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git::") ||
		strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "github.com:") ||
		scpLike.MatchString(ref)
}

// maxErrorBytes is the longest error message a chart's error is given
// whole; a longer one (a template that includes itself gives about 100 KB)
// is cut to its start and its end, where Helm says the cause.
const maxErrorBytes = 2048

// errorHead and errorTail are how many bytes of a long error are kept.
const errorHead, errorTail = 600, 300

// truncatedError is an error whose message is cut in the middle.
type truncatedError struct {
	msg string
	err error
}

func (e *truncatedError) Error() string { return e.msg }
func (e *truncatedError) Unwrap() error { return e.err }

// shortError returns err, or when its message is long, err with the
// message cut to its first errorHead bytes (or its first lines), "...
// (N more bytes) ..." and its last errorTail bytes, each cut at a ": "
// where one is near.
func shortError(err error) error {
	msg := err.Error()
	if len(msg) <= maxErrorBytes {
		return err
	}
	head := msg[:errorHead]
	if i := strings.LastIndex(head, ": "); i > errorHead/2 {
		head = head[:i+1]
	}
	tail := msg[len(msg)-errorTail:]
	if i := strings.Index(tail, ": "); i >= 0 && i < errorTail/2 {
		tail = tail[i+2:]
	}
	left := len(msg) - len(head) - len(tail)
	return &truncatedError{msg: fmt.Sprintf("%s\n... (%d more bytes) ...\n%s", head, left, tail), err: err}
}

// diffObjects names the objects of two renders of a chart that differ (at
// most five, then a count), or says that the output differs when it does
// not parse.
func diffObjects(a, b []byte) string {
	index := func(data []byte) (map[string]string, error) {
		objs, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, o := range objs {
			key := o.GetKind() + " " + o.GetName()
			if ns := o.GetNamespace(); ns != "" {
				key = o.GetKind() + " " + ns + "/" + o.GetName()
			}
			s, _ := o.String()
			m[key] += s
		}
		return m, nil
	}
	ma, errA := index(a)
	mb, errB := index(b)
	if errA != nil || errB != nil {
		return "their output"
	}
	var keys []string
	for k, v := range ma {
		if mb[k] != v {
			keys = append(keys, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%q", k)
	}
	if len(keys) == 0 {
		return "their output"
	}
	if len(keys) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(keys[:5], ", "), len(keys)-5)
	}
	return strings.Join(keys, ", ")
}

// copyValues returns a deep copy of Helm values.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(x any) any {
	switch t := x.(type) {
	case map[string]any:
		return copyValues(t)
	case []any:
		out := make([]any, len(t))
		for i, y := range t {
			out[i] = copyValue(y)
		}
		return out
	}
	return x
}
