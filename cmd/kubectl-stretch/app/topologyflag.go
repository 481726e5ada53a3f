package app

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// TopologyEnv names the topology file when -f is not given; Helm 4
// plugins and CI pipelines find it easier to set than an argument.
const TopologyEnv = "STRETCH_TOPOLOGY"

// topologyFlag is -f/--filename TOPOLOGY, embedded in the Options of every
// command that reads a topology so that they all find it the same way: the
// flag first, then STRETCH_TOPOLOGY.
type topologyFlag struct {
	// File is the topology file.
	File string
}

// AddFlags binds -f/--filename.
func (t *topologyFlag) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&t.File, "filename", "f", "", "topology file (stretch.dev/v1alpha1 Topology; default $"+TopologyEnv+")")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
}

// Complete falls back to STRETCH_TOPOLOGY when -f is not given.
func (t *topologyFlag) Complete() {
	if t.File == "" {
		t.File = os.Getenv(TopologyEnv)
	}
}

// Validate requires a topology file. The error has no exit code: the
// command adds it, possibly joined with errors of its own flags.
func (t *topologyFlag) Validate() error {
	if t.File == "" {
		return fmt.Errorf("-f TOPOLOGY (or %s) is required", TopologyEnv)
	}
	return nil
}

// Load loads the topology file; see loadTopology.
func (t *topologyFlag) Load(errOut io.Writer) (*topology.File, error) {
	return loadTopology(errOut, t.File, false)
}

// LoadWithSources loads the topology file and checks that its workload
// sources exist, for the commands that read them (validate, render, diff).
func (t *topologyFlag) LoadWithSources(errOut io.Writer) (*topology.File, error) {
	return loadTopology(errOut, t.File, true)
}

// loadTopology loads a topology, and with sources checks its workload
// sources' files (topology.File.CheckSources). When it is invalid, it
// prints every error on its own line and returns a silent failure.
func loadTopology(errOut io.Writer, path string, sources bool) (*topology.File, error) {
	load := topology.Load
	if sources {
		load = topology.LoadWithSources
	}
	f, err := load(path)
	var list topology.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintf(errOut, "%s\n", e.Error())
		}
		fmt.Fprintf(errOut, "%s: %d error(s); nothing was written\n", path, len(list))
		return nil, silentFailure(ExitFailed)
	}
	if err != nil {
		return nil, failed(ExitFailed, err)
	}
	return f, nil
}
