package chartrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/provenance"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// IndexFile is the name of a chart repository's index.
const IndexFile = "index.yaml"

// Epoch is the time written into every archive entry, every index entry's
// created and the index's generated: a build depends on its sources only.
var Epoch = time.Unix(0, 0).UTC()

// Entry is one packaged chart of a built repository.
type Entry struct {
	Name    string
	Version string
	// File is the archive's name in the repository folder.
	File string
	// Digest is the archive's SHA-256, as the index records it.
	Digest string
}

// Build packages charts into a repository in dir: <name>-<version>.tgz per
// chart and index.yaml, whose entries name the archives by relative URLs,
// so that the folder can be served at any address. dir is replaced as a
// whole: it is written beside itself and renamed into place, so that a
// failed build leaves the previous repository (or nothing) behind. It
// returns the entries sorted by name and version.
func Build(dir string, charts []Chart) ([]Entry, error) {
	if dir == "" {
		return nil, errors.New("chart repository: no folder given")
	}
	if len(charts) == 0 {
		return nil, errors.New("chart repository: no charts to package")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp.")
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	entries, err := buildInto(tmp, charts)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	old := tmp + ".old"
	if err := os.Rename(abs, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Rename(old, abs)
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return nil, fmt.Errorf("chart repository %s: removing the previous build: %w", dir, err)
	}
	return entries, nil
}

func buildInto(dir string, charts []Chart) ([]Entry, error) {
	scratch, err := os.MkdirTemp(dir, ".save.")
	if err != nil {
		return nil, err
	}
	index := repo.NewIndexFile()
	index.Generated = Epoch
	var entries []Entry
	for _, c := range charts {
		ch, err := load(c)
		if err != nil {
			return nil, err
		}
		name, version := ch.Name(), ch.Metadata.Version
		if index.Has(name, version) {
			return nil, fmt.Errorf("chart %s %s is given twice", name, version)
		}
		// chartutil.Save is Helm's own packaging (what `helm package` runs);
		// only its archive times vary between runs, and normalize fixes them.
		saved, err := chartutil.Save(ch, scratch)
		if err != nil {
			return nil, fmt.Errorf("chart %s %s: packaging: %w", name, version, err)
		}
		raw, err := os.ReadFile(saved)
		if err != nil {
			return nil, err
		}
		data, err := normalize(raw)
		if err != nil {
			return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
		}
		file := filepath.Base(saved)
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			return nil, err
		}
		digest, err := provenance.Digest(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if err := index.MustAdd(ch.Metadata, file, "", digest); err != nil {
			return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
		}
		entries = append(entries, Entry{Name: name, Version: version, File: file, Digest: digest})
	}
	if err := os.RemoveAll(scratch); err != nil {
		return nil, err
	}
	for _, versions := range index.Entries {
		for _, v := range versions {
			v.Created = Epoch
		}
	}
	index.SortEntries()
	out, err := yaml.Marshal(index)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFile), out, 0o644); err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b Entry) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		if a.Version < b.Version {
			return -1
		}
		if a.Version > b.Version {
			return 1
		}
		return 0
	})
	return entries, nil
}

// normalize rewrites a chart archive written by chartutil.Save with every
// entry's time set to Epoch, keeping the entries, their order and contents,
// and the gzip header Helm writes (its marker and comment).
func normalize(raw []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading the packaged chart: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Header.Extra = zr.Header.Extra
	zw.Header.Comment = zr.Header.Comment
	zw.Header.Name = zr.Header.Name
	tr := tar.NewReader(zr)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the packaged chart: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("packaged chart holds %s, not a regular file", h.Name)
		}
		out := &tar.Header{Name: h.Name, Mode: h.Mode, Size: h.Size, ModTime: Epoch, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(out); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
