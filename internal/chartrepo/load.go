package chartrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// Chart is one chart to package: a folder of a file system that holds the
// chart and every chart it names with a file:// repository.
type Chart struct {
	// FS holds the chart sources. Nothing outside it is read; for a folder
	// on disk pass an os.Root's FS, which also refuses links that leave it.
	FS fs.FS
	// Dir is the chart's folder in FS: a slash-separated path relative to
	// FS's root ("." for the root itself), without "..".
	Dir string
	// Version and AppVersion, when set, replace Chart.yaml's version and
	// appVersion, as a project's release process stamps them (Rook's
	// sources say 0.0.1; its published charts carry the release tag).
	Version    string
	AppVersion string
	// Vendor supplies the dependencies that Chart.yaml fetches from a
	// remote repository: each is placed in charts/ in place of the
	// dependency of its name, as `helm dependency build` would place the
	// downloaded chart. Dependencies with a file:// repository are loaded
	// from FS.
	Vendor []Chart
}

// maxFiles and maxBytes bound the files one chart and all its
// dependencies hold together, each dependency counted every time it is
// loaded: what a hostile source folder can make Build read stays bounded
// even when its charts depend on each other many times over.
const (
	maxFiles = 4096
	maxBytes = 64 << 20
)

// maxDepth bounds file:// dependencies of dependencies (a cycle would not end).
const maxDepth = 8

// budget is what is left of maxFiles and maxBytes while one chart loads.
type budget struct {
	files int
	bytes int64
}

// load reads c with the Helm SDK, with its file:// and vendored
// dependencies in charts/, its version stamped.
func load(c Chart) (*chart.Chart, error) {
	return loadDepth(c, 0, &budget{files: maxFiles, bytes: maxBytes})
}

func loadDepth(c Chart, depth int, left *budget) (*chart.Chart, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("chart %s: dependencies nest deeper than %d levels", c.Dir, maxDepth)
	}
	if c.FS == nil {
		return nil, fmt.Errorf("chart %s: no file system to read it from", c.Dir)
	}
	dir, err := cleanDir(c.Dir)
	if err != nil {
		return nil, err
	}
	files, err := readChartFiles(c.FS, dir, left)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if c.Version != "" {
		ch.Metadata.Version = c.Version
	}
	if c.AppVersion != "" {
		ch.Metadata.AppVersion = c.AppVersion
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	vendored := map[string]*chart.Chart{}
	var vendorNames []string
	for _, v := range c.Vendor {
		vc, err := loadDepth(v, depth+1, left)
		if err != nil {
			return nil, fmt.Errorf("chart %s: vendored dependency: %w", dir, err)
		}
		if _, dup := vendored[vc.Name()]; dup {
			return nil, fmt.Errorf("chart %s: dependency %s is vendored twice", dir, vc.Name())
		}
		vendored[vc.Name()] = vc
		vendorNames = append(vendorNames, vc.Name())
	}
	present := map[string]bool{}
	for _, d := range ch.Dependencies() {
		present[d.Name()] = true
	}
	used := map[string]bool{}
	for _, dep := range ch.Metadata.Dependencies {
		if present[dep.Name] {
			continue // already in the source's charts/
		}
		var sub *chart.Chart
		if v, ok := vendored[dep.Name]; ok {
			used[dep.Name] = true
			sub = v
		} else if rel, ok := strings.CutPrefix(dep.Repository, "file://"); ok {
			depDir, err := ResolveFileDependency(dir, rel)
			if err != nil {
				return nil, fmt.Errorf("chart %s: dependency %s: %w", dir, dep.Name, err)
			}
			if sub, err = loadDepth(Chart{FS: c.FS, Dir: depDir}, depth+1, left); err != nil {
				return nil, fmt.Errorf("chart %s: dependency %s: %w", dir, dep.Name, err)
			}
		} else {
			return nil, fmt.Errorf("chart %s: dependency %s %s comes from %s, which is not reachable here: vendor it (Chart.Vendor) or Helm refuses the chart at install", dir, dep.Name, dep.Version, dep.Repository)
		}
		if sub.Name() != dep.Name {
			return nil, fmt.Errorf("chart %s: dependency %s resolved to a chart named %s", dir, dep.Name, sub.Name())
		}
		if err := satisfies(sub, dep.Version); err != nil {
			return nil, fmt.Errorf("chart %s: dependency %s: %w", dir, dep.Name, err)
		}
		ch.AddDependency(sub)
		present[dep.Name] = true
	}
	for _, name := range vendorNames {
		if !used[name] {
			return nil, fmt.Errorf("chart %s: vendored chart %s is not a missing dependency of its Chart.yaml", dir, name)
		}
	}
	return ch, nil
}

// satisfies checks that the chart a dependency resolved to, vendored or
// from a file:// folder, is of a version the dependency asks for (an exact
// version or a range), as helm dependency build checks it, so that a chart
// of another release is not packaged with a stand-in made for a different
// one.
func satisfies(c *chart.Chart, want string) error {
	if want == "" {
		return nil
	}
	constraint, err := semver.NewConstraint(want)
	if err != nil {
		return fmt.Errorf("version %q: %w", want, err)
	}
	have, err := semver.NewVersion(c.Metadata.Version)
	if err != nil {
		return fmt.Errorf("chart %s: version %q: %w", c.Name(), c.Metadata.Version, err)
	}
	if !constraint.Check(have) {
		if c.Metadata.Annotations[StandInAnnotation] != "" {
			return fmt.Errorf("wants version %s; the project's stand-in for it is %s, made for Rook %s (use that Rook version with the simulation's charts)", want, c.Metadata.Version, StandInRookVersion)
		}
		return fmt.Errorf("wants version %s; the chart it resolved to is %s", want, c.Metadata.Version)
	}
	return nil
}

// cleanDir checks a chart folder's path: relative, slash-separated, inside
// the file system's root.
func cleanDir(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	if strings.Contains(dir, `\`) {
		return "", fmt.Errorf("chart folder %q: use / to separate folders", dir)
	}
	if path.IsAbs(dir) {
		return "", fmt.Errorf("chart folder %q is absolute; it must be relative to the sources' root", dir)
	}
	clean := path.Clean(dir)
	if !fs.ValidPath(clean) {
		return "", fmt.Errorf("chart folder %q leaves the sources' root", dir)
	}
	return clean, nil
}

// ResolveFileDependency returns the folder, relative to the sources' root,
// of a dependency that the chart in dir names with repository file://rel.
// It refuses an absolute rel and one that leaves the root.
func ResolveFileDependency(dir, rel string) (string, error) {
	if rel == "" {
		return "", errors.New("file:// names no folder")
	}
	if strings.Contains(rel, `\`) || strings.ContainsRune(rel, 0) {
		return "", fmt.Errorf("file://%s: use / to separate folders", rel)
	}
	if path.IsAbs(rel) {
		return "", fmt.Errorf("file://%s is absolute; only folders beside the chart, inside the sources' root, are read", rel)
	}
	joined := path.Join(dir, rel)
	if !fs.ValidPath(joined) {
		return "", fmt.Errorf("file://%s leaves the sources' root", rel)
	}
	if joined == dir {
		return "", fmt.Errorf("file://%s names the chart itself", rel)
	}
	return joined, nil
}

// readChartFiles reads the chart in dir the way Helm's loader.LoadDir does
// (its .helmignore and Helm's default rules apply, a leading UTF-8 byte
// order mark is dropped), except that a symbolic link or irregular file is
// refused instead of followed, and that what it reads is taken from left.
func readChartFiles(fsys fs.FS, dir string, left *budget) ([]*loader.BufferedFile, error) {
	info, err := fs.Stat(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("chart %s is not a folder", dir)
	}
	rules := ignore.Empty()
	if data, err := fs.ReadFile(fsys, path.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("chart %s: %s: %w", dir, ignore.HelmIgnore, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("chart %s: %s: %w", dir, ignore.HelmIgnore, err)
	}
	rules.AddDefaults()
	var files []*loader.BufferedFile
	err = fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == dir {
			return nil
		}
		rel := strings.TrimPrefix(name, dir+"/")
		if dir == "." {
			rel = name
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link: chart sources may not link anywhere", name)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(rel, fi) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(rel, fi) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", name)
		}
		if fi.Size() > loader.MaxDecompressedFileSize {
			return fmt.Errorf("%s is larger than Helm's limit of %d bytes", name, loader.MaxDecompressedFileSize)
		}
		if left.files == 0 {
			return fmt.Errorf("the chart and its dependencies hold more than %d files", maxFiles)
		}
		if fi.Size() > left.bytes {
			return fmt.Errorf("the chart and its dependencies hold more than %d bytes", maxBytes)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if int64(len(data)) > left.bytes {
			return fmt.Errorf("the chart and its dependencies hold more than %d bytes", maxBytes)
		}
		left.files--
		left.bytes -= int64(len(data))
		files = append(files, &loader.BufferedFile{Name: rel, Data: bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	return files, nil
}
