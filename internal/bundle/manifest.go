package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestPath is where the manifest lives, relative to the output
// directory.
const ManifestPath = StateDir + "/manifest"

// ManifestHeader is the first line of every manifest.
const ManifestHeader = "# kubectl-stretch manifest v1: files owned by kubectl stretch render; do not edit"

// ManifestEntry records one owned file.
type ManifestEntry struct {
	// Path is the file's slash-separated path relative to the output
	// directory.
	Path string
	// Layer is the layer that rendered the file.
	Layer string
	// SHA256 is the lower-case hex SHA-256 of the content render wrote.
	SHA256 string
}

// Manifest lists the files that render owns in an output directory.
//
// Its text form is ManifestHeader on the first line, then one line per
// entry, sorted by path:
//
//	<sha256 hex>  <layer>  <path>
//
// with two spaces between the fields and a newline after every line.
type Manifest struct {
	// Entries holds one entry per owned file, sorted by Path.
	Entries []ManifestEntry
}

// Encode returns the text form of m.
func (m *Manifest) Encode() []byte {
	entries := slices.Clone(m.Entries)
	slices.SortFunc(entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	buf.WriteString(ManifestHeader)
	buf.WriteByte('\n')
	for _, e := range entries {
		fmt.Fprintf(&buf, "%s  %s  %s\n", e.SHA256, e.Layer, e.Path)
	}
	return buf.Bytes()
}

// ReadManifest reads and parses the manifest of the output directory dir.
// When dir has no manifest, the error wraps fs.ErrNotExist.
func ReadManifest(dir string) (*Manifest, error) {
	name := filepath.Join(dir, filepath.FromSlash(ManifestPath))
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return ParseManifest(name, data)
}

// ParseManifest parses the text form of a manifest. name is used in error
// messages, which have the form "name:line: problem"; every malformed line
// is reported.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	text := string(data)
	if text == "" {
		return nil, fmt.Errorf("invalid manifest: %s:1: empty file, want the header %q", name, ManifestHeader)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	type lineError struct {
		n   int
		msg string
	}
	var problems []lineError
	bad := func(n int, format string, args ...any) {
		problems = append(problems, lineError{n, fmt.Sprintf(format, args...)})
	}
	if got := strings.TrimSuffix(lines[0], "\r"); got != ManifestHeader {
		bad(1, "got %q, want the header %q", got, ManifestHeader)
	}
	m := &Manifest{}
	lineOf := make(map[string]int)
	for i, line := range lines[1:] {
		n := i + 2
		e, problem := parseEntry(strings.TrimSuffix(line, "\r"))
		if problem != "" {
			bad(n, "%s", problem)
			continue
		}
		if first, dup := lineOf[e.Path]; dup {
			bad(n, "path %q: duplicate of line %d", e.Path, first)
			continue
		}
		lineOf[e.Path] = n
		m.Entries = append(m.Entries, e)
	}
	for _, e := range m.Entries {
		for _, dir := range parentDirs(e.Path) {
			if parent, ok := lineOf[dir]; ok {
				bad(lineOf[e.Path], "path %q: its parent %q is also a file (line %d)", e.Path, dir, parent)
				break
			}
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b lineError) int { return a.n - b.n })
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = fmt.Errorf("%s:%d: %s", name, p.n, p.msg)
		}
		return nil, fmt.Errorf("invalid manifest: %w", errors.Join(errs...))
	}
	slices.SortFunc(m.Entries, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
	return m, nil
}

// parseEntry parses one "<sha256>  <layer>  <path>" line of a manifest or
// a journal. It returns the problem when the line is malformed.
func parseEntry(line string) (ManifestEntry, string) {
	fields := strings.SplitN(line, "  ", 3)
	if len(fields) != 3 {
		return ManifestEntry{}, fmt.Sprintf("got %q, want \"<sha256>  <layer>  <path>\"", line)
	}
	e := ManifestEntry{SHA256: fields[0], Layer: fields[1], Path: fields[2]}
	if !isSHA256(e.SHA256) {
		return ManifestEntry{}, fmt.Sprintf("invalid sha256 %q: want 64 lower-case hex digits", e.SHA256)
	}
	if err := validateLayer(e.Layer); err != nil {
		return ManifestEntry{}, err.Error()
	}
	if err := validatePath(e.Path); err != nil {
		return ManifestEntry{}, err.Error()
	}
	return e, ""
}

// isSHA256 reports whether s is a lower-case hex SHA-256.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
