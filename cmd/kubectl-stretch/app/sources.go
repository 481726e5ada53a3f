package app

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/stretch-dev/kubectl-stretch/internal/source"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// checkSourceFiles runs source.Check on every workload source of a loaded
// topology, before anything of them is read or fetched, and prints each
// refusal at the source's field, as loadTopology prints the topology's
// errors. validate, render and diff call it after LoadWithSources.
func checkSourceFiles(errOut io.Writer, f *topology.File, allowRemote bool) error {
	baseDir := filepath.Dir(f.Path)
	opts := source.Options{TopologyFile: f.Path, AllowRemoteBases: allowRemote}
	var errs topology.Errors
	for i, s := range f.Topology.Spec.Workloads.Sources {
		field := fmt.Sprintf("spec.workloads.sources[%d]", i)
		switch {
		case s.Path != "":
			field += ".path"
		case s.Kustomize != "":
			field += ".kustomize"
		case s.Helm != nil:
			field += ".helm.chart"
		}
		if err := source.Check(baseDir, s, opts); err != nil {
			errs = append(errs, f.Errorf(field, "%v", err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		fmt.Fprintf(errOut, "%s\n", e.Error())
	}
	fmt.Fprintf(errOut, "%s: %d error(s); nothing was written\n", f.Path, len(errs))
	return silentFailure(ExitFailed)
}
