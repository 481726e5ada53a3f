package generators

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// fluxStage is one Flux Kustomization of the bundle, as the flux blueprint
// reads it: a folder applied after the stage before it is ready.
type fluxStage struct {
	Name string `json:"name"`
	// Object names the stage's Kustomization, and File is its bundle file.
	Object string `json:"object"`
	File   string `json:"file"`
	// Dir is the bundle folder the stage applies.
	Dir string `json:"-"`
	// Path is Dir as Flux sees it, inside the Git repository.
	Path      string  `json:"path"`
	DependsOn *string `json:"dependsOn"`
	// DependsOnObject names the Kustomization of DependsOn.
	DependsOnObject *string `json:"dependsOnObject"`
	// HealthCheckExprs tell Flux when the stage's custom resources are
	// ready; nil when kstatus can tell.
	HealthCheckExprs []flux.CustomHealthCheck `json:"healthCheckExprs"`
}

// storageHealthChecks make the storage stage ready only when Ceph is: the
// workloads stage, which depends on it, starts when volumes can be made.
var storageHealthChecks = []flux.CustomHealthCheck{
	{APIVersion: rook.APIVersion, Kind: "CephCluster", Current: rook.ClusterHealthCurrent, Failed: rook.PhaseFailed},
	{APIVersion: rook.APIVersion, Kind: "CephBlockPool", Current: rook.PoolHealthCurrent, Failed: rook.PhaseFailed},
}

// fluxGenerator renders a Flux Kustomization per stage.
type fluxGenerator struct{}

func (fluxGenerator) Layer() string { return layout.Flux }

func (fluxGenerator) blueprinted() {}

func (fluxGenerator) Generate(_ context.Context, in *layerInput) ([]object, error) {
	active := activeStages(in.Objects, in.Model.GitOps.Path)
	arg, err := json.Marshal(active)
	if err != nil {
		return nil, fmt.Errorf("stages: %w", err)
	}
	files, err := in.Engine.evalLayer(layout.Flux, in.ModelJSON, map[string][]byte{"stages": arg})
	if err != nil {
		return nil, err
	}
	return decodeFiles(layout.Flux, files)
}

// activeStages returns the stages of the layer table whose folder holds at
// least one object, in apply order, each depending on the one before.
func activeStages(objs []object, repoPath string) []fluxStage {
	var out []fluxStage
	for _, ls := range layout.Stages() {
		if !hasObjectUnder(objs, ls.Dir) {
			continue
		}
		st := fluxStage{Name: ls.Name, Object: ls.Object(), File: ls.File(), Dir: ls.Dir,
			Path: "./" + path.Clean(path.Join(repoPath, ls.Dir))}
		if ls.Name == layout.StageStorage {
			st.HealthCheckExprs = storageHealthChecks
		}
		if len(out) > 0 {
			prev := out[len(out)-1]
			st.DependsOn, st.DependsOnObject = &prev.Name, &prev.Object
		}
		out = append(out, st)
	}
	return out
}

func hasObjectUnder(objs []object, dir string) bool {
	for _, o := range objs {
		if strings.HasPrefix(o.Path, dir+"/") {
			return true
		}
	}
	return false
}
