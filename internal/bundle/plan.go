package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Conflict is a path that Write refuses to write because something that
// render does not own is in the way.
type Conflict struct {
	// Path is the slash-separated path relative to the output directory.
	Path string
	// Reason says what is in the way, such as "is a directory".
	Reason string
}

// ConflictError is returned (wrapped) by Write when at least one rendered
// file cannot be written without overwriting something render does not
// own. It lists every such path; the output directory is left unchanged.
type ConflictError struct {
	// Conflicts holds one entry per refused path, sorted by path.
	Conflicts []Conflict
}

// Error lists every conflict.
func (e *ConflictError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "refusing to overwrite %d path(s) that kubectl stretch render does not own: ", len(e.Conflicts))
	for i, c := range e.Conflicts {
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "%s %s", c.Path, c.Reason)
	}
	sb.WriteString(" (move or delete them, or render elsewhere)")
	return sb.String()
}

// Reasons used in Conflict.Reason.
const (
	reasonUnowned = "exists with other content and is not in the manifest"
	reasonDir     = "is a directory"
	reasonSymlink = "is a symbolic link"
	reasonSpecial = "is not a regular file"
)

// actionKind says what Write does with one bundle file.
type actionKind int

const (
	actionAdd       actionKind = iota // the path is free: create the file
	actionChange                      // owned file with other content: replace it
	actionUnchanged                   // owned file with the same content: leave it
	actionAdopt                       // unowned file with the same content: own it
	actionConflict                    // something render does not own is in the way
)

// fileAction is the plan for one bundle file.
type fileAction struct {
	file File
	kind actionKind
	// current is the content on disk when the path holds a regular file.
	current []byte
	// exists reports whether current was read from disk.
	exists bool
	// mode is the permission bits of the file on disk when it exists; a
	// changed file keeps them.
	mode fs.FileMode
}

// staleFile is an owned file that is no longer rendered.
type staleFile struct {
	path  string
	layer string
}

// plan is everything Write would do, computed without touching the disk.
type plan struct {
	dir       string
	files     []fileAction // one per bundle file, sorted by path
	conflicts []Conflict   // sorted by path
	remove    []staleFile  // stale owned files to delete, sorted by path
	kept      []staleFile  // stale owned files the user changed, sorted by path
	gone      []string     // owned files no longer rendered and already gone, sorted
	// neededDirs holds every directory that will contain a bundle file or
	// the manifest; pruning never removes them.
	neededDirs      map[string]bool
	manifest        []byte
	manifestExists  bool
	manifestChanged bool
	// old is the manifest the plan starts from: the one on disk, or what
	// recoverOwnership made of it and an interrupted Write's journal.
	old *Manifest
	// journalExists reports that an interrupted Write left its journal.
	journalExists bool
	// prunable holds the directories that Write prunes when they are
	// empty: those of the owned files it removes or that are gone, and
	// after an interruption those the interrupted Write may have made.
	prunable map[string]bool
	// temps lists the temporary files of interrupted atomic writes found
	// in the directories render uses, sorted.
	temps []string
}

// planner computes a plan. It caches Lstat results so that each directory
// is looked at once.
type planner struct {
	dir   string
	stats map[string]fs.FileInfo // nil value: the path does not exist
	// prunable holds the directories of owned files that Write removes or
	// that are already gone: Write prunes them once they are empty.
	prunable map[string]bool
}

// makePlan compares dir with b and decides what Write would do. It reads
// but never writes. Conflicts are part of the plan, not an error; an error
// means dir or its manifest could not be read.
func makePlan(dir string, b *Bundle) (*plan, error) {
	p := &plan{dir: dir, neededDirs: map[string]bool{StateDir: true}}
	pl := &planner{dir: dir, stats: make(map[string]fs.FileInfo), prunable: make(map[string]bool)}

	root, err := os.Stat(dir)
	switch {
	case isNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("stat output directory: %w", err)
	case !root.IsDir():
		return nil, fmt.Errorf("output directory %s is not a directory", dir)
	}

	old, oldRaw, err := pl.readManifest(p)
	if err != nil {
		return nil, err
	}
	j, err := pl.readJournal(p)
	if err != nil {
		return nil, err
	}
	if j != nil {
		p.journalExists = true
		// The interrupted Write may have made these directories and
		// left them empty.
		for _, e := range slices.Concat(j.old, j.new) {
			for _, d := range parentDirs(e.Path) {
				pl.prunable[d] = true
			}
		}
		if old, err = recoverOwnership(old, j, pl.hashOf); err != nil {
			return nil, err
		}
	}
	p.old = old
	if err := checkPathLengths(dir, b); err != nil {
		return nil, err
	}
	if p.temps, err = pl.findTemps(b, old, j); err != nil {
		return nil, err
	}

	inBundle := make(map[string]bool, len(b.Files))
	for _, f := range b.Files {
		inBundle[f.Path] = true
		for _, d := range parentDirs(f.Path) {
			p.neededDirs[d] = true
		}
	}

	// Stale files first: a removable stale file or directory may be in the
	// way of a bundle file, and that is not a conflict.
	removeSet := make(map[string]bool)
	for _, e := range old.Entries {
		if inBundle[e.Path] {
			continue
		}
		info, blocker, err := pl.locate(e.Path)
		switch {
		case err != nil:
			return nil, err
		case blocker != "" || info == nil:
			// Already gone (removed by hand, or by an interrupted Write):
			// drop it from the manifest, and prune the directories it
			// leaves empty.
			p.gone = append(p.gone, e.Path)
		case !info.Mode().IsRegular():
			p.kept = append(p.kept, staleFile{e.Path, e.Layer})
		default:
			data, err := pl.read(e.Path)
			if err != nil {
				return nil, err
			}
			if hashBytes(data) == e.SHA256 {
				p.remove = append(p.remove, staleFile{e.Path, e.Layer})
				removeSet[e.Path] = true
			} else {
				p.kept = append(p.kept, staleFile{e.Path, e.Layer})
			}
		}
	}

	// A directory that is empty, or becomes empty, because render's files
	// in it are removed or already gone is render's to prune.
	for _, f := range p.remove {
		for _, d := range parentDirs(f.path) {
			pl.prunable[d] = true
		}
	}
	for _, g := range p.gone {
		for _, d := range parentDirs(g) {
			pl.prunable[d] = true
		}
	}
	owned := make(map[string]bool, len(old.Entries))
	for _, e := range old.Entries {
		owned[e.Path] = true
	}
	for _, f := range b.Files {
		a, err := pl.planFile(f, owned[f.Path], removeSet)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, a.action)
		if a.conflict != "" {
			p.conflicts = append(p.conflicts, Conflict{Path: f.Path, Reason: a.conflict})
		}
	}

	slices.SortStableFunc(p.conflicts, func(a, b Conflict) int { return strings.Compare(a.Path, b.Path) })
	p.prunable = pl.prunable
	p.manifest = b.Manifest().Encode()
	p.manifestChanged = !p.manifestExists || p.journalExists || !bytes.Equal(oldRaw, p.manifest)
	return p, nil
}

// checkPathLengths refuses a bundle file whose path on disk would be
// longer than the system allows, before anything is written.
func checkPathLengths(dir string, b *Bundle) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	var errs []error
	for _, f := range b.Files {
		n := len(abs) + 1 + len(f.Path)
		// The temporary file next to it must fit too.
		tmp := len(abs) + 1 + len(path.Dir(f.Path)) + 1 + len(tempPrefix) + 12
		if max(n, tmp) > maxPathLen {
			errs = append(errs, fmt.Errorf("path %q: %d bytes long in %s; file systems allow at most %d", f.Path, n, abs, maxPathLen))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("names too long: %w", errors.Join(errs...))
	}
	return nil
}

// readJournal reads the journal an interrupted Write left, or returns nil
// when there is none.
func (pl *planner) readJournal(p *plan) (*journal, error) {
	info, blocker, err := pl.locate(JournalPath)
	switch {
	case err != nil:
		return nil, err
	case blocker != "" || info == nil:
		return nil, nil
	case !info.Mode().IsRegular():
		p.conflicts = append(p.conflicts, Conflict{Path: JournalPath, Reason: reasonSpecial})
		return nil, nil
	}
	data, err := pl.read(JournalPath)
	if err != nil {
		return nil, err
	}
	return parseJournal(pl.abs(JournalPath), data)
}

// hashOf returns the SHA-256 of the regular file rel, or "" when rel is
// not a regular file.
func (pl *planner) hashOf(rel string) (string, error) {
	info, blocker, err := pl.locate(rel)
	if err != nil || blocker != "" || info == nil || !info.Mode().IsRegular() {
		return "", err
	}
	data, err := pl.read(rel)
	if err != nil {
		return "", err
	}
	return hashBytes(data), nil
}

// findTemps lists the temporary files that interrupted atomic writes left
// in the directories render writes to: the state directory and the
// directories of the files of b, of the manifest and of the journal.
func (pl *planner) findTemps(b *Bundle, old *Manifest, j *journal) ([]string, error) {
	dirs := map[string]bool{".": true, StateDir: true}
	addDirs := func(p string) {
		for _, d := range parentDirs(p) {
			dirs[d] = true
		}
	}
	for _, f := range b.Files {
		addDirs(f.Path)
	}
	for _, e := range old.Entries {
		addDirs(e.Path)
	}
	if j != nil {
		for _, e := range slices.Concat(j.old, j.new) {
			addDirs(e.Path)
		}
	}
	var temps []string
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if d != "." {
			info, blocker, err := pl.locate(d)
			if err != nil {
				return nil, err
			}
			if blocker != "" || info == nil || !info.IsDir() {
				continue
			}
		}
		entries, err := os.ReadDir(pl.abs(d))
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read directory: %w", err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && isTempName(e.Name()) {
				temps = append(temps, path.Join(d, e.Name()))
			}
		}
	}
	slices.Sort(temps)
	return temps, nil
}

// readManifest reads the old manifest and records in p whether it exists.
// A missing manifest is an empty one. The raw bytes are returned so that
// the caller can tell whether the manifest changes.
func (pl *planner) readManifest(p *plan) (*Manifest, []byte, error) {
	info, blocker, err := pl.locate(ManifestPath)
	switch {
	case err != nil:
		return nil, nil, err
	case blocker != "":
		p.conflicts = append(p.conflicts, Conflict{Path: blocker, Reason: "is not a directory, but kubectl stretch keeps its manifest there"})
		return &Manifest{}, nil, nil
	case info == nil:
		return &Manifest{}, nil, nil
	case !info.Mode().IsRegular():
		p.conflicts = append(p.conflicts, Conflict{Path: ManifestPath, Reason: reasonSpecial})
		return &Manifest{}, nil, nil
	}
	data, err := pl.read(ManifestPath)
	if err != nil {
		return nil, nil, err
	}
	m, err := ParseManifest(pl.abs(ManifestPath), data)
	if err != nil {
		return nil, nil, err
	}
	p.manifestExists = true
	return m, data, nil
}

// plannedFile is the outcome of planFile.
type plannedFile struct {
	action   fileAction
	conflict string // reason, when action.kind is actionConflict
}

// planFile decides what to do with one bundle file.
func (pl *planner) planFile(f File, owned bool, removeSet map[string]bool) (plannedFile, error) {
	conflict := func(reason string) plannedFile {
		return plannedFile{action: fileAction{file: f, kind: actionConflict}, conflict: reason}
	}
	info, blocker, err := pl.locate(f.Path)
	if err != nil {
		return plannedFile{}, err
	}
	if blocker != "" {
		if removeSet[blocker] {
			return plannedFile{action: fileAction{file: f, kind: actionAdd}}, nil
		}
		binfo := pl.stats[blocker]
		what := "a file"
		if binfo.Mode()&fs.ModeSymlink != 0 {
			what = "a symbolic link"
		}
		return conflict(fmt.Sprintf("cannot be created: its parent %s is %s", blocker, what)), nil
	}
	switch {
	case info == nil:
		return plannedFile{action: fileAction{file: f, kind: actionAdd}}, nil
	case info.IsDir():
		ok, err := pl.removableTree(f.Path, removeSet)
		if err != nil {
			return plannedFile{}, err
		}
		if ok {
			return plannedFile{action: fileAction{file: f, kind: actionAdd}}, nil
		}
		return conflict(reasonDir), nil
	case info.Mode()&fs.ModeSymlink != 0:
		return conflict(reasonSymlink), nil
	case !info.Mode().IsRegular():
		return conflict(reasonSpecial), nil
	}
	data, err := pl.read(f.Path)
	if err != nil {
		return plannedFile{}, err
	}
	a := fileAction{file: f, current: data, exists: true, mode: info.Mode().Perm()}
	same := bytes.Equal(data, f.Data)
	switch {
	case same && owned:
		a.kind = actionUnchanged
	case same:
		a.kind = actionAdopt
	case owned:
		a.kind = actionChange
	default:
		a.kind = actionConflict
		return plannedFile{action: a, conflict: reasonUnowned}, nil
	}
	return plannedFile{action: a}, nil
}

// removableTree reports whether the directory rel holds only stale owned
// files that Write removes, and directories that render made and pruning
// removes, so that it disappears when they are removed and the
// directories left empty are pruned.
func (pl *planner) removableTree(rel string, removeSet map[string]bool) (bool, error) {
	entries, err := os.ReadDir(pl.abs(rel))
	if err != nil {
		return false, fmt.Errorf("read directory: %w", err)
	}
	if len(entries) == 0 {
		return pl.prunable[rel], nil
	}
	for _, e := range entries {
		child := rel + "/" + e.Name()
		switch {
		case e.IsDir():
			ok, err := pl.removableTree(child, removeSet)
			if err != nil || !ok {
				return false, err
			}
		case e.Type().IsRegular() && removeSet[child]:
		default:
			return false, nil
		}
	}
	return true, nil
}

// locate looks at rel and its parent directories. It returns the file
// info of rel (nil when it does not exist), or the first parent that
// exists but is not a directory (then rel cannot exist).
func (pl *planner) locate(rel string) (info fs.FileInfo, blocker string, err error) {
	elems := strings.Split(rel, "/")
	for i := 1; i < len(elems); i++ {
		parent := strings.Join(elems[:i], "/")
		pinfo, err := pl.lstat(parent)
		if err != nil {
			return nil, "", err
		}
		if pinfo == nil {
			return nil, "", nil
		}
		if !pinfo.IsDir() {
			return nil, parent, nil
		}
	}
	info, err = pl.lstat(rel)
	return info, "", err
}

// lstat returns the cached Lstat of rel, or nil when it does not exist.
func (pl *planner) lstat(rel string) (fs.FileInfo, error) {
	if info, ok := pl.stats[rel]; ok {
		return info, nil
	}
	info, err := os.Lstat(pl.abs(rel))
	if isNotExist(err) {
		info, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect output directory: %w", err)
	}
	pl.stats[rel] = info
	return info, nil
}

// read returns the content of the regular file rel.
func (pl *planner) read(rel string) ([]byte, error) {
	data, err := os.ReadFile(pl.abs(rel))
	if err != nil {
		return nil, fmt.Errorf("read existing file: %w", err)
	}
	return data, nil
}

// abs turns a bundle path into a path on disk.
func (pl *planner) abs(rel string) string {
	return filepath.Join(pl.dir, filepath.FromSlash(rel))
}

// isNotExist reports whether err means that a path does not exist,
// including the case where one of its parents is a file.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
