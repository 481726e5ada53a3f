package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JournalPath is where Write records the render it is about to carry out,
// relative to the output directory. It exists only while a Write changes
// the directory: a journal found on disk means that a render was
// interrupted.
const JournalPath = StateDir + "/journal"

// JournalHeader is the first line of every journal.
const JournalHeader = "# kubectl-stretch journal v1: a render was in progress; the next render recovers from it"

// journal is the write-ahead record of one Write: the manifest before it
// (old) and the manifest it is about to write (new).
//
// Its text form is JournalHeader on the first line, then one line per
// entry, the old ones first, each sorted by path:
//
//	old  <sha256 hex>  <layer>  <path>
//	new  <sha256 hex>  <layer>  <path>
type journal struct {
	old, new []ManifestEntry
}

// encode returns the text form of j.
func (j *journal) encode() []byte {
	var buf bytes.Buffer
	buf.WriteString(JournalHeader)
	buf.WriteByte('\n')
	for _, part := range []struct {
		tag     string
		entries []ManifestEntry
	}{{"old", j.old}, {"new", j.new}} {
		entries := slices.Clone(part.entries)
		slices.SortFunc(entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
		for _, e := range entries {
			fmt.Fprintf(&buf, "%s  %s  %s  %s\n", part.tag, e.SHA256, e.Layer, e.Path)
		}
	}
	return buf.Bytes()
}

// parseJournal parses the text form of a journal. name is used in error
// messages, which have the form "name:line: problem". A journal is written
// atomically, so a malformed one was edited by hand: it is refused like a
// malformed manifest.
func parseJournal(name string, data []byte) (*journal, error) {
	text := string(data)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var errs []error
	if lines[0] != JournalHeader {
		errs = append(errs, fmt.Errorf("%s:1: got %q, want the header %q", name, lines[0], JournalHeader))
	}
	j := &journal{}
	seen := map[string]map[string]bool{"old": {}, "new": {}}
	for i, line := range lines[1:] {
		n := i + 2
		tag, rest, ok := strings.Cut(line, "  ")
		if !ok || (tag != "old" && tag != "new") {
			errs = append(errs, fmt.Errorf("%s:%d: got %q, want \"old|new  <sha256>  <layer>  <path>\"", name, n, line))
			continue
		}
		e, problem := parseEntry(rest)
		if problem != "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s", name, n, problem))
			continue
		}
		if seen[tag][e.Path] {
			errs = append(errs, fmt.Errorf("%s:%d: path %q: duplicate", name, n, e.Path))
			continue
		}
		seen[tag][e.Path] = true
		if tag == "old" {
			j.old = append(j.old, e)
		} else {
			j.new = append(j.new, e)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid journal: %w (a journal is only written by render; remove it and the manifest to start over)", errors.Join(errs...))
	}
	return j, nil
}

// recoverOwnership returns the manifest that describes what render owns
// after the interrupted Write recorded in j, given the manifest on disk
// (the journal's old or new one, depending on where the Write stopped)
// and hashOf, which returns the SHA-256 of a regular file on disk, or ""
// when the path holds none.
//
// Each path named by the manifest or the journal is owned with the entry
// whose hash its content has, the new entry first; a path whose content
// matches none of them stays owned with its entry in the manifest on disk
// or in the journal's old manifest (render wrote it before the Write, and
// the user changed or removed it since: the plan keeps or forgets it as
// usual); a path only the interrupted Write meant to create, holding
// something else, is not owned.
func recoverOwnership(disk *Manifest, j *journal, hashOf func(string) (string, error)) (*Manifest, error) {
	candidates := make(map[string][]ManifestEntry)
	var paths []string
	add := func(entries []ManifestEntry) {
		for _, e := range entries {
			if _, ok := candidates[e.Path]; !ok {
				paths = append(paths, e.Path)
			}
			candidates[e.Path] = append(candidates[e.Path], e)
		}
	}
	add(j.new)
	add(disk.Entries)
	add(j.old)
	fallback := make(map[string]ManifestEntry)
	for _, list := range [][]ManifestEntry{j.old, disk.Entries} {
		for _, e := range list {
			fallback[e.Path] = e // the manifest on disk wins
		}
	}
	slices.Sort(paths)
	m := &Manifest{}
	for _, p := range paths {
		sum, err := hashOf(p)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(candidates[p], func(e ManifestEntry) bool { return sum != "" && e.SHA256 == sum })
		switch e, ok := fallback[p]; {
		case i >= 0:
			m.Entries = append(m.Entries, candidates[p][i])
		case ok:
			m.Entries = append(m.Entries, e)
		}
	}
	// Ownership must stay a valid manifest: when a file and a directory
	// swapped places, keep only the entry that is a file on disk.
	owned := make(map[string]bool, len(m.Entries))
	for _, e := range m.Entries {
		owned[e.Path] = true
	}
	var keep []ManifestEntry
	for _, e := range m.Entries {
		clash := false
		for _, d := range parentDirs(e.Path) {
			clash = clash || owned[d]
		}
		isParent := false
		for _, o := range m.Entries {
			isParent = isParent || strings.HasPrefix(o.Path, e.Path+"/")
		}
		if clash || isParent {
			sum, err := hashOf(e.Path)
			if err != nil {
				return nil, err
			}
			if sum == "" {
				continue
			}
		}
		keep = append(keep, e)
	}
	m.Entries = keep
	return m, nil
}
