package generators

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
)

// A layer writes files only directly in its folders of the layer table
// (internal/layout; "*" stands for one folder named like a workload
// source): each is a folder Flux applies through a kustomization.yaml (a
// stage folder, or a source folder that workloads/kustomization.yaml
// lists) or one Ansible reads. A file anywhere else would overwrite
// another layer's or be left out silently, so checkLayerPath refuses it,
// whatever produced it: an object's name, kind or namespace, a source
// name, a blueprint or a mixin.

// checkLayerPath checks that a layer may write the file p: a clean,
// relative path with one of the row's extensions (.yaml or .yml unless
// the row names others) directly in one of the layer's folders, and
// not a kustomization.yaml (those are generated; see checkKustomizationPath).
func checkLayerPath(layer, p string) error {
	if err := checkCleanPath(p); err != nil {
		return err
	}
	if row, ok := layout.Lookup(layer); ok && !slices.Contains(row.Extensions(), path.Ext(p)) {
		return fmt.Errorf("%s: a file of the %s layer must end in %s", p, layer, strings.Join(row.Extensions(), " or "))
	}
	if path.Base(p) == layout.KustomizationFile {
		return fmt.Errorf("%s: kustomization.yaml files are generated; do not write them from a blueprint", p)
	}
	return checkLayerDir(layer, p)
}

// checkKustomizationPath checks a generated kustomization.yaml: it lists
// a layer's folder, or workloads/, which lists the source folders.
func checkKustomizationPath(layer, p string) error {
	if err := checkCleanPath(p); err != nil {
		return err
	}
	if path.Base(p) != layout.KustomizationFile {
		return fmt.Errorf("%s: not a kustomization.yaml", p)
	}
	if owner, ok := layout.Aggregate(path.Dir(p)); ok && owner == layer {
		return nil
	}
	return checkLayerDir(layer, p)
}

// checkCleanPath checks that p is relative, clean and uses forward slashes.
func checkCleanPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") ||
		strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("%q: a bundle path must be relative, clean and use forward slashes", p)
	}
	return nil
}

// checkLayerDir checks that p's folder is one of the layer's.
func checkLayerDir(layer, p string) error {
	dir := path.Dir(p)
	row, ok := layout.Lookup(layer)
	if !ok {
		return fmt.Errorf("%s: unknown layer %q", p, layer)
	}
	var names []string
	for _, d := range row.Dirs {
		if matchDir(d, dir) {
			return nil
		}
		names = append(names, layout.DirPattern(d))
	}
	return fmt.Errorf("%s: the %s layer may only write in %s", p, layer, strings.Join(names, ", "))
}

// matchDir reports whether dir is the folder pattern d, where "*" stands
// for one folder named like a workload source (a DNS-1123 label).
func matchDir(d, dir string) bool {
	pat, got := strings.Split(d, "/"), strings.Split(dir, "/")
	if len(pat) != len(got) {
		return false
	}
	for i := range pat {
		switch {
		case pat[i] == "*":
			if len(validation.IsDNS1123Label(got[i])) > 0 {
				return false
			}
		case pat[i] != got[i]:
			return false
		}
	}
	return true
}

// fieldError is a field of an object that cannot be written to the
// bundle: Field is its path (kind, metadata.namespace or metadata.name).
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }

// maxFileName is the longest file name most file systems allow, in bytes.
const maxFileName = 255

// kindPattern is a kind as Kubernetes names them: CamelCase letters and
// digits, like a Go type name.
var kindPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// pathSegmentKinds are the kinds whose names Kubernetes validates as path
// segments (RBAC's, such as system:aggregate-to-view) rather than DNS-1123
// subdomains.
var pathSegmentKinds = []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// objectPath returns the bundle path of a workload object of the source
// named source: workloads/<source>/<kind>_<namespace>_<name>.yaml, the
// kind in lower case and the namespace left out when empty. A source name
// that is not a DNS-1123 label, a kind that is not CamelCase, a namespace
// that is not a DNS-1123 label or a name Kubernetes would refuse is an
// error (a *fieldError for the object's fields), as is a file name longer
// than a file system allows. The path is then checked with checkLayerPath.
func objectPath(source, kind, namespace, name string) (string, error) {
	if msgs := validation.IsDNS1123Label(source); len(msgs) > 0 {
		return "", fmt.Errorf("source name %q is not a DNS-1123 label: %s", source, strings.Join(msgs, "; "))
	}
	if err := checkIdentity(kind, namespace, name); err != nil {
		return "", err
	}
	parts := []string{strings.ToLower(kind)}
	if namespace != "" {
		parts = append(parts, namespace)
	}
	base := strings.Join(append(parts, name), "_") + ".yaml"
	if len(base) > maxFileName {
		return "", &fieldError{Field: "metadata.name", Msg: fmt.Sprintf("the file name %s... would be %d bytes, more than the %d a file system allows: shorten the name", base[:32], len(base), maxFileName)}
	}
	// The workloads layer's one folder, workloads/*, with the source's name.
	row, _ := layout.Lookup(layout.Workloads)
	p := path.Join(strings.Replace(row.Dirs[0], "*", source, 1), base)
	if err := checkLayerPath(layout.Workloads, p); err != nil {
		return "", err
	}
	return p, nil
}

// checkIdentity checks an object's kind, namespace and name as
// Kubernetes would, strictly: a name is a DNS-1123 subdomain, or for RBAC
// kinds a path segment of printable ASCII that does not start with '.'.
func checkIdentity(kind, namespace, name string) error {
	switch {
	case kind == "":
		return &fieldError{Field: "kind", Msg: "required"}
	case len(kind) > validation.DNS1123LabelMaxLength || !kindPattern.MatchString(kind):
		return &fieldError{Field: "kind", Msg: fmt.Sprintf("%q is not a valid kind: a CamelCase name of letters and digits, starting with an upper-case letter, at most %d characters", kind, validation.DNS1123LabelMaxLength)}
	}
	if namespace != "" {
		if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
			return &fieldError{Field: "metadata.namespace", Msg: fmt.Sprintf("%q is not a valid namespace: %s", namespace, strings.Join(msgs, "; "))}
		}
	}
	if name == "" {
		return &fieldError{Field: "metadata.name", Msg: "required"}
	}
	if msgs := nameProblems(kind, name); len(msgs) > 0 {
		return &fieldError{Field: "metadata.name", Msg: fmt.Sprintf("%q is not a valid name: %s", name, strings.Join(msgs, "; "))}
	}
	return nil
}

// nameProblems returns what is wrong with an object's name, or nothing.
func nameProblems(kind, name string) []string {
	if msgs := pathvalidation.IsValidPathSegmentName(name); len(msgs) > 0 {
		return msgs
	}
	switch {
	case strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return []string{"must hold only printable ASCII, without spaces"}
	case strings.HasPrefix(name, "."):
		return []string{"must not start with '.'"}
	case strings.Contains(name, ".."):
		return []string{"may not contain '..'"}
	case len(name) > validation.DNS1123SubdomainMaxLength:
		return []string{fmt.Sprintf("must be no more than %d characters", validation.DNS1123SubdomainMaxLength)}
	case slices.Contains(pathSegmentKinds, kind):
		return nil
	}
	return validation.IsDNS1123Subdomain(name)
}
