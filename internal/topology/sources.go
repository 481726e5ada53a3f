package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CheckSources checks that every workload source's files exist: a path or
// kustomize source's folder, a Helm source's chart (a folder or an
// archive) and values files. Paths are relative to baseDir, the topology
// file's folder. It returns nil or Errors placed at the fields, so that a
// missing folder is reported by validate as a field of the topology
// rather than later by render. Validate checks the rest of the sources;
// this is apart from it because it reads the file system.
func (f *File) CheckSources(baseDir string) error {
	if f == nil || f.Topology == nil {
		return nil
	}
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, f.Errorf(field, format, args...))
	}
	// stat reports a missing path and returns its FileInfo, or nil.
	stat := func(field, rel, what string) (string, os.FileInfo) {
		if rel == "" {
			return "", nil // Validate reports a missing value
		}
		if msg := LocalPathProblem(what, rel); msg != "" {
			fail(field, "%s %s: %s", what, rel, msg)
			return "", nil
		}
		p := filepath.Join(baseDir, rel)
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fail(field, "%s %s does not exist (paths are relative to the topology file's folder)", what, p)
			return "", nil
		case err != nil:
			fail(field, "%s %s: %v", what, p, err)
			return "", nil
		}
		return p, st
	}
	folder := func(field, rel, what string, holds func(dir string) bool, missing string) {
		p, st := stat(field, rel, what)
		switch {
		case st == nil:
		case !st.IsDir():
			fail(field, "%s %s is a file, not a folder", what, p)
		case !holds(p):
			fail(field, "%s %s %s", what, p, missing)
		}
	}
	for i, s := range f.Topology.Spec.Workloads.Sources {
		sf := fmt.Sprintf("spec.workloads.sources[%d]", i)
		folder(sf+".path", s.Path, "workloads folder", holdsYAML, "holds no .yaml or .yml file")
		if s.Path != "" && LocalPathProblem("workloads folder", s.Path) == "" && f.Path != "" &&
			HoldsFile(filepath.Join(baseDir, s.Path), f.Path) {
			fail(sf+".path", "workloads folder %s holds the topology file %s, which is not a workload: give the workloads a folder of their own",
				filepath.Join(baseDir, s.Path), f.Path)
		}
		folder(sf+".kustomize", s.Kustomize, "kustomize folder", holdsAny(KustomizationFiles...),
			"holds no kustomization.yaml")
		if s.Helm == nil {
			continue
		}
		if p, st := stat(sf+".helm.chart", s.Helm.Chart, "helm chart"); st != nil && st.IsDir() && !holdsAny("Chart.yaml")(p) {
			fail(sf+".helm.chart", "helm chart %s holds no Chart.yaml", p)
		}
		for j, v := range s.Helm.ValuesFiles {
			field := fmt.Sprintf("%s.helm.valuesFiles[%d]", sf, j)
			if p, st := stat(field, v, "values file"); st != nil && st.IsDir() {
				fail(field, "values file %s is a folder, not a file", p)
			}
		}
	}
	return errs.asError()
}

// LocalPathProblem says why a source's path (what names it: "helm chart",
// "workloads folder", ...) cannot be read, or returns "": a URL, since
// sources are rendered from local files only, or an absolute path, since
// the bundle must render the same from any checkout of the repository.
func LocalPathProblem(what, p string) string {
	switch {
	case p == "":
		return ""
	case strings.Contains(p, "://"):
		if what == "helm chart" {
			return "charts must be local folders or .tgz archives; vendor the chart (helm pull --untar) and give its folder"
		}
		return "must be a local path, not a URL"
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`):
		return "an absolute path is refused: give it relative to the topology file's folder, so that the bundle renders the same from any checkout"
	}
	return ""
}

// HoldsFile reports whether the folder dir holds the file (as the same
// file, whatever its path says).
func HoldsFile(dir, file string) bool {
	fs, err := os.Stat(file)
	if err != nil {
		return false
	}
	ds, err := os.Stat(filepath.Join(dir, filepath.Base(file)))
	return err == nil && os.SameFile(fs, ds)
}

// KustomizationFiles are the names kustomize reads a kustomization from.
var KustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// IsManifestFile reports whether a file of a workloads folder (or a
// folder given to lint) is read as manifests: a .yaml or .yml file other
// than a kustomization file (in any case).
func IsManifestFile(name string) bool {
	base := filepath.Base(name)
	ext := strings.ToLower(filepath.Ext(base))
	return (ext == ".yaml" || ext == ".yml") &&
		!slices.ContainsFunc(KustomizationFiles, func(k string) bool { return strings.EqualFold(k, base) })
}

// holdsYAML reports whether dir holds a manifest file, as a workloads
// folder must.
func holdsYAML(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && IsManifestFile(e.Name()) {
			return true
		}
	}
	return false
}

// holdsAny returns a check that a folder holds one of the named files.
func holdsAny(names ...string) func(dir string) bool {
	return func(dir string) bool {
		for _, n := range names {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil && !st.IsDir() {
				return true
			}
		}
		return false
	}
}

// LoadWithSources is Load followed by CheckSources against the topology
// file's folder, with the errors of both reported together.
func LoadWithSources(path string) (*File, error) {
	f, err := Load(path)
	if f == nil {
		return nil, err
	}
	var errs Errors
	if err != nil && !errors.As(err, &errs) {
		return f, err
	}
	var more Errors
	if serr := f.CheckSources(filepath.Dir(path)); serr != nil && !errors.As(serr, &more) {
		return f, serr
	}
	return f, append(errs, more...).asError()
}
