package chartrepo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The charts' names and versions. The ceph-csi charts are the version the
// bundle pins (the ceph-csi-operator version that Rook v1.20.6's rook-ceph
// chart depends on).
const (
	RookCephChart     = "rook-ceph"
	CSIDriversChart   = "ceph-csi-drivers"
	CSIOperatorChart  = "ceph-csi-operator"
	CSIStandInVersion = "1.0.4"
	// StandInRookVersion is the Rook release whose rook-ceph chart
	// depends on the stand-ins' version (the bundle's default).
	StandInRookVersion = "v1.20.6"
	// RookModule is the Go module whose deploy/charts hold rook-ceph.
	RookModule = "github.com/rook/rook"
	// StandInAnnotation marks a stand-in chart's Chart.yaml.
	StandInAnnotation = "stretch.dev/stand-in"

	// BuiltDir and BuiltStampFile are, in bin/testbin, the chart
	// repository that make testbin builds and the stamp that says from
	// what: "rook VERSION chartrepo SUM".
	BuiltDir       = "charts"
	BuiltStampFile = "charts.version"

	rookChartsDir      = "deploy/charts"
	rookCephDir        = "rook-ceph"
	standInDriversDir  = "standin/ceph-csi-drivers"
	standInOperatorDir = "standin/ceph-csi-operator"
	scratchGoMod       = "module chartrepo.scratch\n\ngo 1.26.0\n"
)

//go:embed standin
var standIns embed.FS

// StandInCharts are the stand-ins the project builds for charts whose
// sources the Go module proxy does not serve (github.com/ceph/ceph-csi-operator
// is refused): ceph-csi-drivers and ceph-csi-operator, version 1.0.4.
func StandInCharts() []Chart {
	return []Chart{
		{FS: standIns, Dir: standInDriversDir},
		{FS: standIns, Dir: standInOperatorDir},
	}
}

// RookCeph is Rook's rook-ceph chart from the sources in rookDir (Rook's
// module folder), stamped with version as Rook's release stamps it, with
// its library dependency (file://../library) from the same sources and the
// ceph-csi-operator stand-in in charts/ in place of the dependency Rook's
// published chart carries there (from https://ceph.github.io/ceph-csi-operator,
// unreachable here). The rook-ceph chart keeps its condition
// csi.installCsiOperator: with the default true the stand-in is installed.
func RookCeph(rookDir, version string) (Chart, error) {
	root, err := os.OpenRoot(filepath.Join(rookDir, filepath.FromSlash(rookChartsDir)))
	if err != nil {
		return Chart{}, fmt.Errorf("rook-ceph chart: %w", err)
	}
	// The Root stays open for the Chart's life: its FS reads through it.
	return Chart{
		FS:         root.FS(),
		Dir:        rookCephDir,
		Version:    version,
		AppVersion: version,
		Vendor:     []Chart{{FS: standIns, Dir: standInOperatorDir}},
	}, nil
}

// Charts is every chart the bundle installs, for the simulated cluster's
// chart repository: rook-ceph from rookDir at rookVersion and the stand-ins.
func Charts(rookDir, rookVersion string) ([]Chart, error) {
	rook, err := RookCeph(rookDir, rookVersion)
	if err != nil {
		return nil, err
	}
	return append([]Chart{rook}, StandInCharts()...), nil
}

// DownloadModule fetches module@version through the Go module proxy (`go
// mod download -json`, the go command's own checksum checks included) and
// returns its folder in the module cache.
func DownloadModule(ctx context.Context, module, version string) (string, error) {
	if module == "" || version == "" || strings.ContainsAny(module+version, "@ \t\n") || strings.HasPrefix(module, "-") {
		return "", fmt.Errorf("download %s@%s: not a module path and version", module, version)
	}
	scratch, err := os.MkdirTemp("", "chartrepo-mod-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	if err := os.WriteFile(filepath.Join(scratch, "go.mod"), []byte(scratchGoMod), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = scratch
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct {
		Dir   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("download %s@%s: %s", module, version, info.Error)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			return "", fmt.Errorf("download %s@%s: %w: %s", module, version, err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("download %s@%s: %w", module, version, err)
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("download %s@%s: reading go's answer: %w", module, version, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("download %s@%s: go gave no folder", module, version)
	}
	if _, err := os.Stat(info.Dir); err != nil {
		return "", fmt.Errorf("download %s@%s: %w", module, version, err)
	}
	return info.Dir, nil
}
