package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
)

// Result reports what Write did. Every list holds slash-separated paths
// relative to the output directory, sorted; the lists are disjoint.
type Result struct {
	// Added lists the files that did not exist and were created.
	Added []string
	// Changed lists the owned files whose content was replaced.
	Changed []string
	// Unchanged lists the owned files that already had the rendered
	// content; they were not rewritten.
	Unchanged []string
	// Adopted lists the files that were not owned but already had the
	// rendered content; they were not rewritten and are now owned.
	Adopted []string
	// Removed lists the stale owned files that were deleted.
	Removed []string
	// Kept lists the stale owned files that were modified since render
	// wrote them; they were left in place and are no longer owned.
	Kept []string
	// ManifestChanged reports whether the manifest was (re)written.
	ManifestChanged bool
	// Layers summarises the lists per layer, sorted by layer.
	Layers []LayerSummary

	// layers maps every path of the lists to its layer, for Commit.
	layers map[string]string
	// gone lists the owned files that were no longer rendered and already
	// removed (by hand, or by an interrupted Write): Commit stages their
	// removal too.
	gone []string
}

// LayerSummary counts the files of one layer in each list of a Result.
type LayerSummary struct {
	// Layer is the layer's name.
	Layer string
	// Added, Changed, Unchanged, Adopted, Removed and Kept count the
	// layer's paths in the Result list of the same name.
	Added, Changed, Unchanged, Adopted, Removed, Kept int
}

// HasChanges reports whether Write changed anything in the output
// directory: a file added, changed or removed, or a new manifest.
func (r *Result) HasChanges() bool {
	return len(r.Added)+len(r.Changed)+len(r.Removed) > 0 || r.ManifestChanged
}

// fsOps holds the file operations that tests replace to inject failures.
type fsOps struct {
	write  func(f *os.File, data []byte) error
	rename func(oldpath, newpath string) error
	// step is called before each change Write makes to the disk (op names
	// it: "mkdir", "create", "write", "sync", "rename", "remove"; name is
	// the path on disk). An error stops the Write as if the change had
	// failed. Tests use it to fail, or to kill the process, at a chosen
	// point.
	step func(op, name string) error
}

// osOps returns the real file operations.
func osOps() fsOps {
	return fsOps{
		write: func(f *os.File, data []byte) error {
			_, err := f.Write(data)
			return err
		},
		rename: os.Rename,
		step:   func(op, name string) error { return nil },
	}
}

// tempPrefix starts the names of the temporary files of atomic writes,
// followed by 12 hexadecimal digits. Render removes such files it finds in
// the directories it writes to.
const tempPrefix = ".stretch-tmp-"

// tempPattern matches the temporary files of atomic writes.
const tempPattern = tempPrefix + "*"

// isTempName reports whether name is the name of a temporary file.
func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix)
}

// Write makes dir hold the bundle b, following the ownership rules of the
// package: it refuses (with a *ConflictError, before changing anything)
// when a file it does not own is in the way, records what it is about to
// do in a journal, writes each changed file atomically, removes stale
// owned files it can safely remove, writes the manifest and removes the
// journal. A Write interrupted at any point (a crash, a kill, a full disk)
// is recovered by the next Write. dir is created if it does not exist. b
// is validated as New does, so a Bundle built by hand is safe to pass.
//
// Write does not lock dir: callers that may run concurrently with another
// render hold LockDir's exclusive lock around it.
func Write(dir string, b *Bundle) (*Result, error) {
	return write(dir, b, osOps())
}

// write is Write with injectable file operations.
func write(dir string, b *Bundle, ops fsOps) (*Result, error) {
	if b == nil {
		return nil, fmt.Errorf("write bundle to %s: no bundle", dir)
	}
	nb, err := New(b.Files)
	if err != nil {
		return nil, fmt.Errorf("write bundle to %s: %w", dir, err)
	}
	p, err := makePlan(dir, nb)
	if err != nil {
		return nil, fmt.Errorf("write bundle to %s: %w", dir, err)
	}
	if len(p.temps) > 0 {
		// Leftovers of an interrupted write: remove them, then plan again,
		// since they may hold up the removal of a directory.
		if err := p.removeTemps(ops); err != nil {
			return nil, fmt.Errorf("write bundle to %s: %w", dir, err)
		}
		if p, err = makePlan(dir, nb); err != nil {
			return nil, fmt.Errorf("write bundle to %s: %w", dir, err)
		}
	}
	if len(p.conflicts) > 0 {
		return nil, fmt.Errorf("write bundle to %s: %w", dir, &ConflictError{Conflicts: p.conflicts})
	}
	if err := p.apply(ops); err != nil {
		return nil, fmt.Errorf("write bundle to %s: %w (the next render recovers)", dir, err)
	}
	return p.result(), nil
}

// removeTemps deletes the temporary files the plan found.
func (p *plan) removeTemps(ops fsOps) error {
	dirs := make(map[string]bool)
	for _, t := range p.temps {
		name := p.abs(t)
		if err := ops.step("remove", name); err != nil {
			return fmt.Errorf("remove leftover temporary file %s: %w", t, err)
		}
		if err := os.Remove(name); err != nil && !isNotExist(err) {
			return fmt.Errorf("remove leftover temporary file: %w", err)
		}
		dirs[filepath.Dir(name)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// hasWork reports whether applying the plan changes anything on disk.
func (p *plan) hasWork() bool {
	if p.manifestChanged || len(p.remove) > 0 {
		return true
	}
	for _, a := range p.files {
		if a.kind == actionAdd || a.kind == actionChange {
			return true
		}
	}
	return false
}

// apply carries out a plan without conflicts, so that a crash at any point
// leaves a directory the next Write recovers:
//
//  1. the journal (the old and the new manifest) is written and synced,
//     with its directory, before anything else changes;
//  2. stale files go, so that a bundle file may take the place of a stale
//     file or directory;
//  3. each file is written to a temporary file, synced and renamed, and
//     the directories are synced;
//  4. the manifest is written the same way and its directory synced;
//  5. the journal is removed and its directory synced.
//
// Until step 5 completes, the journal names every file this Write may
// have created, so none is ever left unowned.
func (p *plan) apply(ops fsOps) error {
	if !p.hasWork() {
		return nil
	}
	state := p.abs(StateDir)
	if err := mkdirAll(state, ops); err != nil {
		return fmt.Errorf("create %s: %w", StateDir, err)
	}
	next, err := ParseManifest(ManifestPath, p.manifest)
	if err != nil {
		return fmt.Errorf("the new manifest: %w", err)
	}
	j := &journal{old: p.old.Entries, new: next.Entries}
	if err := writeAtomic(p.abs(JournalPath), j.encode(), 0, ops); err != nil {
		return fmt.Errorf("write %s: %w", JournalPath, err)
	}
	if err := syncDir(state); err != nil {
		return err
	}
	// synced holds the directories whose entries changed: they are synced
	// before the manifest is written, so that no removal or rename is lost
	// once the journal is gone.
	synced := make(map[string]bool)
	if err := p.removeStale(ops, synced); err != nil {
		return err
	}
	dirs := slices.Collect(maps.Keys(synced))
	for _, a := range p.files {
		if a.kind != actionAdd && a.kind != actionChange {
			continue
		}
		name := p.abs(a.file.Path)
		if err := mkdirAll(filepath.Dir(name), ops); err != nil {
			return fmt.Errorf("create directory for %s: %w", a.file.Path, err)
		}
		if err := writeAtomic(name, a.file.Data, a.mode, ops); err != nil {
			return fmt.Errorf("write %s: %w", a.file.Path, err)
		}
		for d := filepath.Dir(name); !synced[d] && len(d) >= len(p.dir); d = filepath.Dir(d) {
			synced[d] = true
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	mode, err := existingMode(p.abs(ManifestPath))
	if err != nil {
		return fmt.Errorf("write %s: %w", ManifestPath, err)
	}
	if err := writeAtomic(p.abs(ManifestPath), p.manifest, mode, ops); err != nil {
		return fmt.Errorf("write %s: %w", ManifestPath, err)
	}
	if err := syncDir(state); err != nil {
		return err
	}
	if err := ops.step("remove", p.abs(JournalPath)); err != nil {
		return fmt.Errorf("remove %s: %w", JournalPath, err)
	}
	if err := os.Remove(p.abs(JournalPath)); err != nil {
		return fmt.Errorf("remove %s: %w", JournalPath, err)
	}
	return syncDir(state)
}

// mkdirAll creates dir and its missing parents with the mode 0777 that the
// umask reduces, as mkdir(1) does.
func mkdirAll(dir string, ops fsOps) error {
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return nil
	}
	if err := ops.step("mkdir", dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o777)
}

// existingMode returns the permission bits of the regular file name, or 0
// when it does not exist.
func existingMode(name string) (fs.FileMode, error) {
	info, err := os.Lstat(name)
	switch {
	case isNotExist(err):
		return 0, nil
	case err != nil:
		return 0, err
	case !info.Mode().IsRegular():
		return 0, nil
	}
	return info.Mode().Perm(), nil
}

// removeStale deletes the stale owned files of the plan, then the
// directories that became empty because of it, deepest first, and adds the
// directories whose entries it changed to touched. It never
// removes the output directory itself, a directory that still holds
// anything, or a directory that a bundle file or the manifest needs.
func (p *plan) removeStale(ops fsOps, touched map[string]bool) error {
	candidates := make(map[string]bool)
	for _, s := range p.remove {
		if err := ops.step("remove", p.abs(s.path)); err != nil {
			return fmt.Errorf("remove stale file %s: %w", s.path, err)
		}
		if err := os.Remove(p.abs(s.path)); err != nil && !isNotExist(err) {
			return fmt.Errorf("remove stale file: %w", err)
		}
		touched[filepath.Dir(p.abs(s.path))] = true
		for _, d := range parentDirs(s.path) {
			candidates[d] = true
		}
	}
	for d := range p.prunable {
		candidates[d] = true
	}
	dirs := make([]string, 0, len(candidates))
	for d := range candidates {
		if !p.neededDirs[d] {
			dirs = append(dirs, d)
		}
	}
	// Deepest first, so that a parent is looked at after its children.
	slices.SortFunc(dirs, func(a, b string) int {
		if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
			return db - da
		}
		return strings.Compare(a, b)
	})
	for _, d := range dirs {
		entries, err := os.ReadDir(p.abs(d))
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("prune empty directories: %w", err)
		}
		if len(entries) > 0 {
			continue
		}
		if err := ops.step("remove", p.abs(d)); err != nil {
			return fmt.Errorf("prune empty directories: %w", err)
		}
		if err := os.Remove(p.abs(d)); err != nil {
			return fmt.Errorf("prune empty directories: %w", err)
		}
		delete(touched, p.abs(d))
		touched[filepath.Dir(p.abs(d))] = true
	}
	return nil
}

// result turns an applied plan into a Result.
func (p *plan) result() *Result {
	r := &Result{ManifestChanged: p.manifestChanged, layers: map[string]string{}, gone: p.gone}
	layers := tally{}
	count := layers.of
	for _, a := range p.files {
		r.layers[a.file.Path] = a.file.Layer
		s := count(a.file.Layer)
		switch a.kind {
		case actionAdd:
			r.Added = append(r.Added, a.file.Path)
			s.Added++
		case actionChange:
			r.Changed = append(r.Changed, a.file.Path)
			s.Changed++
		case actionUnchanged:
			r.Unchanged = append(r.Unchanged, a.file.Path)
			s.Unchanged++
		case actionAdopt:
			r.Adopted = append(r.Adopted, a.file.Path)
			s.Adopted++
		}
	}
	for _, f := range p.remove {
		r.layers[f.path] = f.layer
		r.Removed = append(r.Removed, f.path)
		count(f.layer).Removed++
	}
	for _, f := range p.kept {
		r.Kept = append(r.Kept, f.path)
		count(f.layer).Kept++
	}
	r.Layers = layers.sorted()
	return r
}

// tally counts a Result's files per layer.
type tally map[string]*LayerSummary

// of returns the counts of layer.
func (t tally) of(layer string) *LayerSummary {
	s, ok := t[layer]
	if !ok {
		s = &LayerSummary{Layer: layer}
		t[layer] = s
	}
	return s
}

// sorted returns the counts sorted by layer, for Result.Layers.
func (t tally) sorted() []LayerSummary {
	var out []LayerSummary
	for _, layer := range slices.Sorted(maps.Keys(t)) {
		out = append(out, *t[layer])
	}
	return out
}

// abs turns a bundle path into a path on disk.
func (p *plan) abs(rel string) string {
	return filepath.Join(p.dir, filepath.FromSlash(rel))
}

// writeAtomic replaces name with data: it writes a temporary file in the
// same directory, syncs it and renames it over name. The file gets mode
// when it is not 0 (the mode of the file it replaces), else 0666 reduced
// by the umask. On failure the temporary file is removed and name is left
// as it was.
func writeAtomic(name string, data []byte, mode fs.FileMode, ops fsOps) (err error) {
	if err := ops.step("create", name); err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	f, err := createTemp(filepath.Dir(name))
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			err = errors.Join(err, f.Close())
		}
		if rerr := os.Remove(tmp); rerr != nil && !isNotExist(rerr) {
			err = errors.Join(err, fmt.Errorf("remove temporary file: %w", rerr))
		}
	}()
	if err := ops.step("write", name); err != nil {
		return fmt.Errorf("write temporary file: %w", err)
	}
	if err := ops.write(f, data); err != nil {
		return fmt.Errorf("write temporary file: %w", err)
	}
	if mode != 0 {
		if err := f.Chmod(mode); err != nil {
			return fmt.Errorf("chmod temporary file: %w", err)
		}
	}
	if err := ops.step("sync", name); err != nil {
		return fmt.Errorf("sync temporary file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync temporary file: %w", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if err := ops.step("rename", name); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	if err := ops.rename(tmp, name); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	return nil
}

// createTemp creates a new temporary file in dir with the mode 0666 that
// the umask reduces, as a plain create would (os.CreateTemp uses 0600).
func createTemp(dir string) (*os.File, error) {
	for range 100 {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, tempPrefix+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create temporary file in %s: too many name collisions", dir)
}

// syncDir flushes a directory, so that renames in it survive a crash.
// Platforms and file systems that cannot sync a directory are skipped.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	serr := d.Sync()
	if errors.Is(serr, syscall.EINVAL) || errors.Is(serr, syscall.ENOTSUP) {
		serr = nil
	}
	if cerr := d.Close(); serr == nil && cerr != nil {
		serr = cerr
	}
	if serr != nil {
		return fmt.Errorf("sync directory: %w", serr)
	}
	return nil
}

// WriteFile writes one file atomically (a temporary file in the same
// folder, synced, then renamed over name), for the commands that write a
// single file outside a bundle, such as init.
func WriteFile(name string, data []byte) error {
	mode, err := existingMode(name)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := writeAtomic(name, data, mode, osOps()); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// WriteExample writes a starting point for a new project: the example
// topology to path and, unless the folder exists, its example workloads
// into workloadsDir/workloadsFile next to it, so that validate and render
// work at once. A folder that exists holds the user's own workloads and is
// never touched. It returns the files written, in order; when it fails,
// what it had written is removed.
func WriteExample(path string, topology []byte, workloadsDir, workloadsFile string, workloads []byte) ([]string, error) {
	apps := filepath.Join(filepath.Dir(path), workloadsDir)
	_, err := os.Stat(apps)
	scaffold := errors.Is(err, os.ErrNotExist)
	if err != nil && !scaffold {
		return nil, fmt.Errorf("example workloads: %w", err)
	}
	// created is the outermost folder this call creates, removed again if
	// it fails.
	created := ""
	for d := apps; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		created = d
	}
	undo := func(err error) ([]string, error) {
		if created != "" {
			os.RemoveAll(created)
		}
		return nil, err
	}
	var written []string
	if scaffold {
		if err := os.MkdirAll(apps, 0o777); err != nil {
			return undo(fmt.Errorf("example workloads: %w", err))
		}
		file := filepath.Join(apps, workloadsFile)
		if err := WriteFile(file, workloads); err != nil {
			return undo(err)
		}
		written = append(written, file)
	}
	if err := WriteFile(path, topology); err != nil {
		return undo(err)
	}
	return append([]string{path}, written...), nil
}
