package generators

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/api/rook"
)

// Stage is one Flux Kustomization of the bundle: a folder applied after
// the stage before it is ready.
type Stage struct {
	Name string `json:"name"`
	// Dir is the bundle folder the stage applies.
	Dir string `json:"-"`
	// Path is Dir as Flux sees it, inside the Git repository.
	Path      string  `json:"path"`
	DependsOn *string `json:"dependsOn"`
	// HealthCheckExprs tell Flux when the stage's custom resources are
	// ready; nil when kstatus can tell.
	HealthCheckExprs []flux.CustomHealthCheck `json:"healthCheckExprs"`
}

// stages lists every possible stage in apply order. Only stages whose
// folder holds objects are rendered.
//
// access (the read-only ClusterRole of verify) comes first: nothing needs
// it, but it is ready at once, and keeping every stage in one chain keeps
// the dependsOn rule simple (each stage depends on the one before).
var stages = []Stage{
	{Name: "access", Dir: "access"},
	{Name: "network", Dir: "network/calico"},
	{Name: "storage-operator", Dir: "storage/rook/operator"},
	{Name: "storage", Dir: "storage/rook/cluster", HealthCheckExprs: storageHealthChecks},
	{Name: "workloads", Dir: "workloads"},
}

// storageHealthChecks make the storage stage ready only when Ceph is: the
// workloads stage, which depends on it, starts when volumes can be made.
var storageHealthChecks = []flux.CustomHealthCheck{
	{APIVersion: rook.APIVersion, Kind: "CephCluster", Current: rook.ClusterHealthCurrent, Failed: rook.PhaseFailed},
	{APIVersion: rook.APIVersion, Kind: "CephBlockPool", Current: rook.PoolHealthCurrent, Failed: rook.PhaseFailed},
}

// fluxGenerator renders a Flux Kustomization per stage.
type fluxGenerator struct{}

func (fluxGenerator) Layer() string { return LayerFlux }

func (fluxGenerator) blueprinted() {}

func (fluxGenerator) Generate(_ context.Context, in *Input) ([]Object, error) {
	active := activeStages(in.Objects, in.Model.GitOps.Path)
	arg, err := json.Marshal(active)
	if err != nil {
		return nil, fmt.Errorf("stages: %w", err)
	}
	files, err := in.Engine.Eval(LayerFlux, in.ModelJSON, map[string][]byte{"stages": arg})
	if err != nil {
		return nil, err
	}
	return decodeFiles(LayerFlux, files)
}

// activeStages returns the stages whose folder holds at least one object,
// each depending on the one before.
func activeStages(objs []Object, repoPath string) []Stage {
	var out []Stage
	for _, st := range stages {
		if !hasObjectUnder(objs, st.Dir) {
			continue
		}
		st.Path = "./" + path.Clean(path.Join(repoPath, st.Dir))
		if len(out) > 0 {
			prev := out[len(out)-1].Name
			st.DependsOn = &prev
		}
		out = append(out, st)
	}
	return out
}

func hasObjectUnder(objs []Object, dir string) bool {
	for _, o := range objs {
		if strings.HasPrefix(o.Path, dir+"/") {
			return true
		}
	}
	return false
}
