package spread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"sync"

	yaml "go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// minParallelDecode is the input size from which decodeStream decodes in
// parallel. Below it, starting the workers costs more than it saves.
const minParallelDecode = 64 << 10

// decodeStream decodes the documents of a stream, skipping empty ones, and
// returns them with their 1-based positions in the stream. A large stream
// is decoded in parallel across GOMAXPROCS; the result is the same as
// decodeSequential's, errors included.
func decodeStream(in []byte) (docs []*yaml.Node, pos []int, err error) {
	if line, col, msg, bad := topology.InvalidUTF8(in); bad {
		return nil, nil, &DocumentError{Document: documentAt(in, line), Line: line, Column: col, Msg: msg}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(in) < minParallelDecode {
		return decodeSequential(in)
	}
	return decodeParallel(in, workers)
}

// documentAt returns the 1-based document of the stream that line is in,
// counting the "---" lines before it; a "---" before any content starts
// the first document.
func documentAt(in []byte, line int) int {
	doc, content := 1, false
	for i, l := range bytes.SplitN(in, []byte("\n"), line+1) {
		if i+1 >= line {
			break
		}
		switch t := bytes.TrimSpace(l); {
		case bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r'):
			if content {
				doc++
			}
			content = true
		case len(t) > 0 && t[0] != '#' && t[0] != '%':
			content = true
		}
	}
	return doc
}

// decodeSequential decodes the stream with one yaml.v3 Decoder. It is the
// reference that decodeParallel matches. A panic in yaml.v3 (it has had
// some on malformed input) is an error in the document being decoded.
func decodeSequential(in []byte) (docs []*yaml.Node, pos []int, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(in))
	for i := 1; ; i++ {
		d := &yaml.Node{}
		err := decodeOne(dec, d)
		if errors.Is(err, io.EOF) {
			return docs, pos, nil
		}
		if err != nil {
			return nil, nil, syntaxError(i, err)
		}
		if len(d.Content) != 1 || isNull(d.Content[0]) {
			continue // empty, only comments, or null
		}
		docs = append(docs, d)
		pos = append(pos, i)
	}
}

// yamlLine matches the line yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError is the DocumentError of the doc-th document, which yaml.v3
// could not decode: the line of yaml.v3's message moves to the error's
// Line, so that a caller that knows the file can name file and line.
func syntaxError(doc int, err error) *DocumentError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			return &DocumentError{Document: doc, Line: line, Msg: "yaml: " + msg[len(m[0]):]}
		}
	}
	return &DocumentError{Document: doc, Msg: msg}
}

// decodeOne decodes the next document into d, turning a panic of yaml.v3
// into an error.
func decodeOne(dec *yaml.Decoder, d *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot decode the document: %v", r)
		}
	}()
	return dec.Decode(d)
}

// decodeParallel decodes the stream in up to workers chunks at once, each
// with a Decoder of its own, and joins the chunks in order: document
// positions continue from the previous chunk and node lines are shifted by
// the lines before the chunk, so the result is decodeSequential's. If a
// chunk does not decode, the whole stream is decoded again sequentially, so
// that an error names the same document and line as it always did.
func decodeParallel(in []byte, workers int) (docs []*yaml.Node, pos []int, err error) {
	starts := splitStream(in, workers)
	if len(starts) < 2 {
		return decodeSequential(in)
	}
	return decodeChunks(in, starts)
}

// decodeChunks decodes the chunks of in that start at starts, the first
// being 0, at once and joins them, or decodes in sequentially if one of
// them fails.
//
// A chunk after the first is decoded from the line break before its marker
// on, so that the marker is on the chunk's second line: yaml.v3 places a
// comment that it scans from the first line of a stream otherwise than one
// it scans from a later line, and the marker is never on the stream's
// first line.
func decodeChunks(in []byte, starts []int) (docs []*yaml.Node, pos []int, err error) {
	chunks := make([]decodedChunk, len(starts))
	var wg sync.WaitGroup
	lines, counted := 0, 0 // lines counts the '\n' in in[:counted]
	for i, s := range starts {
		lo, hi := s, len(in)
		if i > 0 {
			lo = s - 1 // the line break before the marker
		}
		if i+1 < len(starts) {
			hi = starts[i+1]
		}
		lines += bytes.Count(in[counted:lo], []byte("\n"))
		counted = lo
		c, chunk, offset := &chunks[i], in[lo:hi], lines
		if i == len(starts)-1 {
			c.decode(chunk, offset) // the last chunk on this goroutine
			break
		}
		wg.Go(func() { c.decode(chunk, offset) })
	}
	wg.Wait()
	n := 0
	for i := range chunks {
		if chunks[i].err != nil {
			return decodeSequential(in)
		}
		n += len(chunks[i].docs)
	}
	docs, pos = make([]*yaml.Node, 0, n), make([]int, 0, n)
	base := 0
	for i := range chunks {
		c := &chunks[i]
		docs = append(docs, c.docs...)
		for _, p := range c.pos {
			pos = append(pos, base+p)
		}
		base += c.count
	}
	return docs, pos, nil
}

// decodedChunk is one chunk of a parallel decode.
type decodedChunk struct {
	docs  []*yaml.Node // the documents that are not empty
	pos   []int        // their 1-based positions in the chunk
	count int          // the number of documents, empty ones included
	err   error        // the first error; the other fields are then unset
}

// decode decodes chunk as decodeSequential does and adds line, the number
// of lines of the stream before the chunk, to its nodes' lines. A panic in
// yaml.v3 fails the chunk, so that the sequential decode that follows
// reports it in the right document.
func (c *decodedChunk) decode(chunk []byte, line int) {
	dec := yaml.NewDecoder(bytes.NewReader(chunk))
	for i := 1; ; i++ {
		d := &yaml.Node{}
		err := decodeOne(dec, d)
		if errors.Is(err, io.EOF) {
			c.count = i - 1
			return
		}
		if err != nil {
			*c = decodedChunk{err: err}
			return
		}
		// Empty documents are shifted too: an alias in a later document
		// may point into one.
		if line > 0 {
			shiftLines(d, line)
		}
		if len(d.Content) != 1 || isNull(d.Content[0]) {
			continue
		}
		c.docs = append(c.docs, d)
		c.pos = append(c.pos, i)
	}
}

// shiftLines adds delta to the line of n and of every node under it. An
// alias's target is reached through the Content of its own document, so
// every node is shifted once.
func shiftLines(n *yaml.Node, delta int) {
	n.Line += delta
	for _, c := range n.Content {
		shiftLines(c, delta)
	}
}

// splitStream returns the offsets at which the chunks of a parallel decode
// of in start, the first being 0: at most n chunks of roughly equal size.
// It returns nil if in must be decoded in one piece.
//
// A chunk starts at a document start marker: "---" at the start of a line
// followed by a space, a tab, a line break or the end of the input. YAML
// forbids such a line inside a scalar, and yaml.v3 ends the document before
// it there whatever it was in (or fails, and then the chunk before the
// marker fails too), so a Decoder of its own reads the same documents from
// the marker on as a Decoder of the whole stream. Only where the comments
// go can differ: see chunkStart.
//
// The stream is decoded in one piece when a chunk could start otherwise
// than a sequential decode sees it or its lines could not be counted by
// counting '\n': when it has directives (a line starting with '%'), is
// UTF-16 (which yaml.v3 detects by a byte order mark), or has line breaks
// other than LF and CRLF (a lone CR, NEL, LS or PS).
func splitStream(in []byte, n int) []int {
	if n < 2 || !splittable(in) {
		return nil
	}
	starts := []int{0}
	for i := 1; i < n; i++ {
		s := nextChunkStart(in, max(i*len(in)/n, starts[len(starts)-1]+1))
		if s < 0 {
			break
		}
		starts = append(starts, s)
	}
	return starts
}

// splittable reports whether in may be decoded in chunks: whether it has
// no directives, is not UTF-16 and has no line breaks but LF and CRLF.
func splittable(in []byte) bool {
	return len(in) > 0 && in[0] != '%' && !bytes.Contains(in, []byte("\n%")) &&
		!bytes.HasPrefix(in, []byte{0xFF, 0xFE}) && !bytes.HasPrefix(in, []byte{0xFE, 0xFF}) &&
		!bytes.Contains(in, []byte("\u0085")) && !bytes.Contains(in, []byte("\u2028")) &&
		!bytes.Contains(in, []byte("\u2029")) && !hasLoneCR(in)
}

// nextChunkStart returns the offset of the first document start marker at
// or after from (at least 1) that may start a chunk, or -1 if there is
// none.
func nextChunkStart(in []byte, from int) int {
	for from < len(in) {
		i := bytes.Index(in[from-1:], []byte("\n---"))
		if i < 0 {
			return -1
		}
		s := from + i // the marker's offset
		if isMarker(in, s) && chunkStart(in, s) {
			return s
		}
		from = s + 1
	}
	return -1
}

// isMarker reports whether the "---" at offset s, at the start of a line,
// is a document start marker: followed by a space, a tab, a line break or
// the end of the input.
func isMarker(in []byte, s int) bool {
	if s+3 == len(in) {
		return true
	}
	switch in[s+3] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// chunkStart reports whether the document start marker at offset s may
// start a chunk: whether a Decoder that starts at it puts every comment
// where a Decoder of the whole stream does. A Decoder of the whole stream
// gives the document before the marker, as its foot comment, a comment
// above the marker, and a comment right below a marker alone on its line
// that is followed by an empty line or the end of the stream (with CRLF
// line breaks, followed by anything); and it keeps a comment after a
// document end marker ("...") for the next document, across markers. A
// Decoder that starts at the marker puts those elsewhere or drops them.
// chunkStart is stricter than that: the marker may start a chunk only when
//
//   - the last line above it that is neither blank nor a document end
//     marker exists, has no '#' and is not a document start marker;
//   - its own line has no '#';
//   - if its line has nothing after "---", the line below is no comment,
//     or starts a run of comment lines without CR that is followed by a
//     line that is not blank.
func chunkStart(in []byte, s int) bool {
	// Above: the last line that is neither blank nor a document end marker.
	end := s
	for {
		for end > 0 && isSpace(in[end-1]) {
			end--
		}
		if end == 0 {
			return false
		}
		start := bytes.LastIndexByte(in[:end], '\n') + 1
		if end-start == 3 && string(in[start:end]) == "..." {
			end = start
			continue
		}
		if bytes.IndexByte(in[start:end], '#') >= 0 ||
			end-start >= 3 && string(in[start:start+3]) == "---" && isMarker(in, start) {
			return false
		}
		break
	}
	// The marker's line.
	line, next := lineAt(in, s)
	if bytes.IndexByte(line, '#') >= 0 {
		return false
	}
	if len(bytes.TrimLeft(line[3:], " \t\r")) > 0 {
		return true // a document on the marker's line
	}
	// Below: a run of comments, then the first line that is not one.
	for comments := 0; ; comments++ {
		if next == len(in) {
			return comments == 0
		}
		line, next = lineAt(in, next)
		text := bytes.TrimLeft(line, " \t")
		if len(text) == 0 || text[0] != '#' {
			return comments == 0 || len(bytes.TrimRight(text, "\r")) > 0
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			return false
		}
	}
}

// lineAt returns the line that starts at offset i without its '\n', and
// the offset of the next line (len(in) at the end of the input).
func lineAt(in []byte, i int) (line []byte, next int) {
	j := bytes.IndexByte(in[i:], '\n')
	if j < 0 {
		return in[i:], len(in)
	}
	return in[i : i+j], i + j + 1
}

// isSpace reports whether b is a space, a tab or a line break.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n'
}

// hasLoneCR reports whether in has a CR that is not followed by LF.
func hasLoneCR(in []byte) bool {
	for {
		i := bytes.IndexByte(in, '\r')
		if i < 0 {
			return false
		}
		if i+1 == len(in) || in[i+1] != '\n' {
			return true
		}
		in = in[i+2:]
	}
}
