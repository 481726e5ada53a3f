package topology

import (
	"fmt"
	"os"
	"path/filepath"
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
	check := func(field, rel string, wantDir bool, what string) {
		if rel == "" {
			return // Validate reports a missing value
		}
		p := filepath.Join(baseDir, rel)
		st, err := os.Stat(p)
		switch {
		case err != nil && os.IsNotExist(err):
			errs = append(errs, f.Errorf(field, "%s %s does not exist (paths are relative to the topology file's folder)", what, p))
		case err != nil:
			errs = append(errs, f.Errorf(field, "%s %s: %v", what, p, err))
		case wantDir && !st.IsDir():
			errs = append(errs, f.Errorf(field, "%s %s is a file, not a folder", what, p))
		case !wantDir && what == "values file" && st.IsDir():
			errs = append(errs, f.Errorf(field, "%s %s is a folder, not a file", what, p))
		}
	}
	for i, s := range f.Topology.Spec.Workloads.Sources {
		sf := fmt.Sprintf("spec.workloads.sources[%d]", i)
		check(sf+".path", s.Path, true, "workloads folder")
		check(sf+".kustomize", s.Kustomize, true, "kustomize folder")
		if s.Helm != nil {
			check(sf+".helm.chart", s.Helm.Chart, false, "helm chart")
			for j, v := range s.Helm.ValuesFiles {
				check(fmt.Sprintf("%s.helm.valuesFiles[%d]", sf, j), v, false, "values file")
			}
		}
	}
	return errs.asError()
}
