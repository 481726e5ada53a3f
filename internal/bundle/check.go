package bundle

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// FileDiff is a rendered file whose content in the output directory
// differs from the rendered content.
type FileDiff struct {
	// Path is the slash-separated path relative to the output directory.
	Path string
	// Diff is a unified diff from the file on disk (a/<path>) to the
	// rendered file (b/<path>), or a one-line note for binary content.
	Diff string
}

// Drift is the difference between an output directory and what Write would
// make of it. Files that render does not own and does not want to write are
// never drift. Every list is sorted by path.
type Drift struct {
	// Missing lists the rendered files that do not exist.
	Missing []string
	// Changed holds the rendered files whose content differs, owned or
	// not; those that are not owned are listed in Conflicts as well.
	Changed []FileDiff
	// Stale lists the owned files that are no longer rendered; Write
	// removes them.
	Stale []string
	// Kept lists the owned files that are no longer rendered but were
	// modified by hand; Write keeps them and stops owning them.
	Kept []string
	// Conflicts lists the paths that Write would refuse to write.
	Conflicts []Conflict
	// ManifestMissing reports that the directory has no manifest.
	ManifestMissing bool
	// ManifestChanged reports that the manifest exists but Write would
	// write a different one.
	ManifestChanged bool
	// Interrupted reports that a Write was interrupted (its journal,
	// JournalPath, is still there): the directory may mix two bundles
	// until the next Write recovers it.
	Interrupted bool
	// Leftovers lists the temporary files that interrupted writes left;
	// Write removes them.
	Leftovers []string
}

// Empty reports whether the directory is exactly what Write would produce.
func (d *Drift) Empty() bool {
	return len(d.Missing)+len(d.Changed)+len(d.Stale)+len(d.Kept)+len(d.Conflicts)+len(d.Leftovers) == 0 &&
		!d.ManifestMissing && !d.ManifestChanged && !d.Interrupted
}

// Write prints a human report of d to w: one line per path, sorted by
// path, then the manifest's state, then the diffs of the changed files.
// It prints nothing when d is empty.
func (d *Drift) Write(w io.Writer) error {
	type line struct {
		path  string
		order int
		text  string
	}
	var lines []line
	add := func(order int, p, format string, args ...any) {
		lines = append(lines, line{p, order, fmt.Sprintf(format, args...)})
	}
	for _, p := range d.Missing {
		add(0, p, "missing   %s", p)
	}
	for _, c := range d.Changed {
		add(1, c.Path, "changed   %s", c.Path)
	}
	for _, p := range d.Stale {
		add(2, p, "stale     %s (no longer rendered; render removes it)", p)
	}
	for _, p := range d.Kept {
		add(3, p, "kept      %s (no longer rendered but modified by hand; render keeps it and stops owning it)", p)
	}
	for _, c := range d.Conflicts {
		add(4, c.Path, "conflict  %s %s", c.Path, c.Reason)
	}
	for _, p := range d.Leftovers {
		add(5, p, "leftover  %s (temporary file of an interrupted render; render removes it)", p)
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		return cmp.Or(strings.Compare(a.path, b.path), a.order-b.order)
	})
	var sb strings.Builder
	if d.Interrupted {
		fmt.Fprintf(&sb, "interrupted  a render was interrupted (%s exists): the folder may mix two bundles; render recovers it\n", JournalPath)
	}
	for _, l := range lines {
		sb.WriteString(l.text)
		sb.WriteByte('\n')
	}
	switch {
	case d.ManifestMissing:
		fmt.Fprintf(&sb, "manifest  %s is missing\n", ManifestPath)
	case d.ManifestChanged:
		fmt.Fprintf(&sb, "manifest  %s is out of date\n", ManifestPath)
	}
	diffs := slices.Clone(d.Changed)
	slices.SortStableFunc(diffs, func(a, b FileDiff) int { return strings.Compare(a.Path, b.Path) })
	for _, c := range diffs {
		sb.WriteByte('\n')
		sb.WriteString(c.Diff)
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return fmt.Errorf("write drift report: %w", err)
	}
	return nil
}

// Check compares dir with what Write(dir, b) would produce, without
// writing anything; b is validated as New does. A malformed manifest or
// journal or an unreadable directory is an error; everything else,
// conflicts, an interrupted render and its leftovers included, is reported
// as Drift. After an interrupted render, ownership is what the next Write
// would recover. Callers that may run concurrently with a render hold
// LockDir's shared lock around it.
func Check(dir string, b *Bundle) (*Drift, error) {
	if b == nil {
		return nil, fmt.Errorf("check bundle in %s: no bundle", dir)
	}
	nb, err := New(b.Files)
	if err != nil {
		return nil, fmt.Errorf("check bundle in %s: %w", dir, err)
	}
	p, err := makePlan(dir, nb)
	if err != nil {
		return nil, fmt.Errorf("check bundle in %s: %w", dir, err)
	}
	d := &Drift{
		Conflicts:       p.conflicts,
		ManifestMissing: !p.manifestExists,
		ManifestChanged: p.manifestExists && p.manifestChanged,
		Interrupted:     p.journalExists,
		Leftovers:       p.temps,
	}
	for _, a := range p.files {
		switch {
		case a.kind == actionAdd:
			d.Missing = append(d.Missing, a.file.Path)
		case (a.kind == actionChange || a.kind == actionConflict) && a.exists:
			diff, err := unifiedDiff(a.file.Path, a.current, a.file.Data)
			if err != nil {
				return nil, fmt.Errorf("check bundle in %s: %w", dir, err)
			}
			d.Changed = append(d.Changed, FileDiff{Path: a.file.Path, Diff: diff})
		}
	}
	for _, s := range p.remove {
		d.Stale = append(d.Stale, s.path)
	}
	for _, s := range p.kept {
		d.Kept = append(d.Kept, s.path)
	}
	return d, nil
}

// unifiedDiff returns a unified diff from old (a/<p>) to new (b/<p>) with
// diffContext lines of context. A last line without a newline is marked as
// diff(1) does. Binary content gets a one-line note instead.
func unifiedDiff(p string, old, new []byte) (string, error) {
	if isBinary(old) || isBinary(new) {
		return fmt.Sprintf("Binary files a/%s and b/%s differ\n", p, p), nil
	}
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        splitLines(old),
		B:        splitLines(new),
		FromFile: "a/" + p,
		ToFile:   "b/" + p,
		Context:  diffContext,
	})
	if err != nil {
		return "", fmt.Errorf("diff %s: %w", p, err)
	}
	return diff, nil
}

// splitLines splits text into lines that keep their "\n".
func splitLines(text []byte) []string {
	if len(text) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(text), "\n")
	last := len(lines) - 1
	if lines[last] == "" {
		return lines[:last]
	}
	lines[last] += "\n\\ No newline at end of file\n"
	return lines
}

// isBinary reports whether data is not text.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data)
}
