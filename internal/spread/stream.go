package spread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	yaml "go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/emit"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// PatchStream patches a multi-document YAML stream as Patch does and
// encodes the objects with the added PodDisruptionBudgets at the end.
// Comments and key order are kept; indentation becomes two spaces with
// lists not indented under their key, as kubectl writes them. Empty
// documents are dropped. A comment indented between two levels may move
// once, as yaml.v3 does not always put such a comment back where it read
// it.
//
// The stream is read twice, so that its memory stays a small multiple of
// its size: the first pass decodes one document at a time, checks it and
// keeps the few facts that the patch of other objects reads (workloads'
// labels, selectors and classes, autoscalers' targets and minimums,
// budgets' selectors, claims), dropping its nodes; the second decodes each
// document again, patches it with those facts, encodes it and drops it.
// Large streams are read in chunks at once, as decodeStream does. The
// result is that of decoding the whole stream, patching it with Patch and
// encoding it, byte for byte.
//
// Bad input gives an error naming the document and what is wrong with it,
// and no output.
func PatchStream(in []byte, p Policy) (out []byte, res *Result, err error) {
	o, res, err := patchStream(in, p, true)
	if err != nil {
		return nil, nil, err
	}
	return o.Bytes(), res, nil
}

// Output is the output of PatchStreamOutput: the encoded stream in the
// pieces it was written to, so that it can be written without being
// copied into one slice first.
type Output struct {
	parts [][]byte
	n     int
}

// Len is the length of the output in bytes.
func (o *Output) Len() int { return o.n }

// Bytes returns the output in one slice.
func (o *Output) Bytes() []byte {
	out := make([]byte, 0, o.n)
	for _, p := range o.parts {
		out = append(out, p...)
	}
	return out
}

// WriteTo writes the output to w.
func (o *Output) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, p := range o.parts {
		k, err := w.Write(p)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// PatchStreamOutput is PatchStream, with the output in pieces and without
// Result.Added (the budgets are encoded in the output, one at a time): its
// peak memory is lower by the size of the output and of the budgets'
// nodes.
func PatchStreamOutput(in []byte, p Policy) (out *Output, res *Result, err error) {
	return patchStream(in, p, false)
}

// patchStream is PatchStreamOutput, with Result.Added when keepAdded.
func patchStream(in []byte, p Policy, keepAdded bool) (out *Output, res *Result, err error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if line, col, msg, bad := topology.InvalidUTF8(in); bad {
		return nil, nil, &DocumentError{Document: documentAt(in, line), Line: line, Column: col, Msg: msg}
	}
	pt, chunks, err := readChunks(in, streamChunks(in), p)
	if err != nil {
		return nil, nil, err
	}
	targets := pt.linkHPAs()
	if afterPass != nil {
		afterPass(1)
	}
	// The budgets to add and the risks of claims, volumes and Secrets need
	// only the first pass; their findings follow those of the second.
	pt.finish()
	rest := pt.findings
	docs := 0
	for i := range chunks {
		docs += chunks[i].nonEmpty
	}
	out, pt.findings, err = patchChunks(chunks, pt, targets, rest)
	if err != nil {
		return nil, nil, err
	}
	var added bytes.Buffer
	var kept []*kyaml.RNode
	for i, a := range pt.added {
		n := a.node()
		if err := encodeDoc(&added, n, docs+i > 0); err != nil {
			return nil, nil, fmt.Errorf("encode added %s: %w", a.name, err)
		}
		if keepAdded {
			kept = append(kept, kyaml.NewRNode(n))
		}
	}
	if added.Len() > 0 {
		out.parts = append(out.parts, added.Bytes())
		out.n += added.Len()
	}
	pt.added = nil
	res = pt.result()
	res.Added = kept
	return out, res, nil
}

// afterPass, when a test sets it, is called after each pass of
// PatchStream, with nothing else running, to measure what is live.
var afterPass func(pass int)

// streamChunk is a piece of a stream that is decoded on its own: the
// whole stream, or one of the chunks of splitStream.
type streamChunk struct {
	in   []byte // from the line break before its marker on, after the first
	line int    // the lines of the stream before in

	// Set by the first pass.
	count    int // documents, empty ones included
	nonEmpty int // documents that are not empty
}

// streamChunks cuts in into the chunks that are read at once: one per
// GOMAXPROCS for a large stream that splitStream can split, else one.
func streamChunks(in []byte) []streamChunk {
	workers := runtime.GOMAXPROCS(0)
	var starts []int
	if workers >= 2 && len(in) >= minParallelDecode {
		starts = splitStream(in, workers)
	}
	if len(starts) < 2 {
		return []streamChunk{{in: in}}
	}
	chunks := make([]streamChunk, len(starts))
	lines, counted := 0, 0 // lines counts the '\n' in in[:counted]
	for i, s := range starts {
		lo, hi := s, len(in)
		if i > 0 {
			lo = s - 1 // the line break before the marker, as decodeChunks
		}
		if i+1 < len(starts) {
			hi = starts[i+1]
		}
		lines += bytes.Count(in[counted:lo], []byte("\n"))
		counted = lo
		chunks[i] = streamChunk{in: in[lo:hi], line: lines}
	}
	return chunks
}

// eachDoc decodes the documents of a chunk one at a time, as
// decodedChunk.decode does, and calls f with the 1-based position in the
// chunk of each that is not empty. It returns the number of documents, or
// the position and error of the first that does not decode.
func eachDoc(c *streamChunk, f func(i int, d *yaml.Node) error) (count int, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(c.in))
	for i := 1; ; i++ {
		d := &yaml.Node{}
		err := decodeOne(dec, d)
		if errors.Is(err, io.EOF) {
			return i - 1, nil
		}
		if err != nil {
			return i, &decodeError{doc: i, err: err}
		}
		if c.line > 0 {
			shiftLines(d, c.line)
		}
		if len(d.Content) != 1 || isNull(d.Content[0]) {
			continue
		}
		if err := f(i, d); err != nil {
			return i, err
		}
	}
}

// decodeError is a document of a chunk that yaml.v3 could not decode.
type decodeError struct {
	doc int
	err error
}

func (e *decodeError) Error() string { return e.err.Error() }

// readChunks is the first pass of PatchStream: it reads and checks every
// object, keeping its facts and dropping its nodes, and returns a patcher
// that holds them. A chunk that does not decode makes it read the stream
// again in one piece, so that a syntax error names the document and line
// that a decode of the whole stream names.
func readChunks(in []byte, chunks []streamChunk, p Policy) (*patcher, []streamChunk, error) {
	pts := make([]*patcher, len(chunks))
	errs := make([][]error, len(chunks))
	failed := make([]error, len(chunks))
	eachChunk(len(chunks), func(k int) {
		c := &chunks[k]
		pt := newPatcher(p)
		pts[k] = pt
		c.count, failed[k] = eachDoc(c, func(i int, d *yaml.Node) error {
			c.nonEmpty++
			nw, nh := len(pt.workloads), len(pt.hpas)
			if err := pt.read(i, d.Content[0]); err != nil {
				errs[k] = append(errs[k], err)
				return nil
			}
			pt.last.node = nil
			for _, w := range pt.workloads[nw:] {
				w.strip()
			}
			for _, h := range pt.hpas[nh:] {
				h.strip()
			}
			return nil
		})
	})
	for k := range chunks {
		if failed[k] == nil {
			continue
		}
		if len(chunks) > 1 {
			return readChunks(in, []streamChunk{{in: in}}, p)
		}
		var de *decodeError
		if errors.As(failed[k], &de) {
			return nil, nil, syntaxError(de.doc, de.err)
		}
		return nil, nil, failed[k]
	}
	// Join the chunks: positions continue from the chunk before.
	pt := newPatcher(p)
	pt.lookup = pt.claims
	var all []error
	base := 0
	for k, c := range pts {
		for _, err := range errs[k] {
			var de *DocumentError
			if errors.As(err, &de) {
				de.Document += base
			}
			all = append(all, err)
		}
		if len(all) == 0 {
			for _, w := range c.workloads {
				w.obj.doc += base
			}
			pt.workloads = append(pt.workloads, c.workloads...)
			for _, h := range c.hpas {
				h.obj.doc += base
			}
			pt.hpas = append(pt.hpas, c.hpas...)
			for _, b := range c.pdbs {
				b.obj.doc += base
			}
			pt.pdbs = append(pt.pdbs, c.pdbs...)
			for _, v := range c.volumes {
				v.doc += base
			}
			pt.volumes = append(pt.volumes, c.volumes...)
			for _, s := range c.secrets {
				s.doc += base
			}
			pt.secrets = append(pt.secrets, c.secrets...)
			pt.refs = append(pt.refs, c.refs...)
		}
		base += chunks[k].count
	}
	if len(all) > 0 {
		return nil, nil, errors.Join(all...)
	}
	// Claims last: a claim's doc is shifted once, and a later one of the
	// same name wins, as in a decode of the whole stream.
	base = 0
	for k, c := range pts {
		for _, cl := range sortedClaims(c.claims) {
			cl.obj.doc += base
			pt.claims[cl.obj.nsName()] = cl
		}
		base += chunks[k].count
	}
	return pt, chunks, nil
}

// patchChunks is the second pass of PatchStream: it decodes every document
// again, reads it, patches it with the facts of the first pass in pt and
// the autoscalers of each workload in targets, and encodes it. The chunks
// are patched at once, each into blocks of its own, and the blocks are
// joined in order.
// It returns the output and the findings of the workloads, then of the
// autoscalers, in input order, as Patch finds them, then rest.
func patchChunks(chunks []streamChunk, pt *patcher, targets map[*workload][]*hpa, rest []Finding) (*Output, []Finding, error) {
	workloads := make(map[int]*workload, len(pt.workloads))
	for _, w := range pt.workloads {
		workloads[w.obj.doc] = w
	}
	hpas := make(map[int]*hpa, len(pt.hpas))
	for _, h := range pt.hpas {
		hpas[h.obj.doc] = h
	}
	type part struct {
		out        blocks
		wf, hf     findingList
		err        error
		base, docs int // documents before the chunk: all, and not empty
	}
	parts := make([]part, len(chunks))
	for k := 1; k < len(chunks); k++ {
		parts[k].base = parts[k-1].base + chunks[k-1].count
		parts[k].docs = parts[k-1].docs + chunks[k-1].nonEmpty
	}
	eachChunk(len(chunks), func(k int) {
		c, pa := &chunks[k], &parts[k]
		cp := newPatcher(pt.p)
		cp.lookup = pt.claims
		cp.texts = map[string]string{}
		var buf bytes.Buffer // one document's encoding
		pa.out.size = blockSize(len(c.in))
		n := pa.docs
		_, pa.err = eachDoc(c, func(i int, d *yaml.Node) error {
			doc := pa.base + i
			w, h := workloads[doc], hpas[doc]
			if w == nil && h == nil {
				// Nothing to patch: only the aliases that reading it
				// expanded in the first pass.
				if err := expandAliases(d.Content[0]); err != nil {
					return fmt.Errorf("read document %d again: %w", doc, err)
				}
			} else if err := cp.patchAgain(doc, d.Content[0], w, h, targets, &pa.wf, &pa.hf); err != nil {
				return err
			}
			n++
			buf.Reset()
			if err := encodeDoc(&buf, d, n > 1); err != nil {
				return fmt.Errorf("encode document %d: %w", n, err)
			}
			pa.out.write(buf.Bytes())
			return nil
		})
	})
	if afterPass != nil {
		afterPass(2)
	}
	out := &Output{}
	found := len(rest)
	for k := range parts {
		if err := parts[k].err; err != nil {
			return nil, nil, err
		}
		out.parts = append(out.parts, parts[k].out.list...)
		out.n += parts[k].out.n
		found += parts[k].wf.n + parts[k].hf.n
	}
	var findings []Finding // nil when there are none, as Patch's
	if found > 0 {
		findings = make([]Finding, 0, found)
	}
	for k := range parts {
		findings = parts[k].wf.appendTo(findings)
	}
	for k := range parts {
		findings = parts[k].hf.appendTo(findings)
	}
	return out, append(findings, rest...), nil
}

// patchAgain reads the object of document doc again and patches it as
// Patch does: w and h are what the first pass read of it, a workload or an
// autoscaler, and targets the autoscalers of each workload. It appends the
// findings of a workload to wf and those of an autoscaler to hf.
func (pt *patcher) patchAgain(doc int, n *yaml.Node, w *workload, h *hpa, targets map[*workload][]*hpa, wf, hf *findingList) error {
	pt.workloads, pt.hpas, pt.pdbs, pt.volumes, pt.secrets = pt.workloads[:0], pt.hpas[:0], nil, nil, nil
	clear(pt.claims)
	if err := pt.read(doc, n); err != nil {
		return fmt.Errorf("read document %d again: %w", doc, err)
	}
	for _, again := range pt.workloads {
		pt.patchWorkload(again, targets[w])
		wf.add(pt.findings)
		pt.findings = pt.findings[:0]
		if w != nil && w.budgetSlot != nil {
			// The budget that the first pass added: its selector, after
			// the patch, as addPDBs takes it.
			if sel, _ := again.podSelector(); sel != nil {
				*w.budgetSlot = *sel
			}
		}
	}
	for _, again := range pt.hpas {
		if h != nil {
			again.target = h.target
		}
		pt.patchHPA(again)
		hf.add(pt.findings)
		pt.findings = pt.findings[:0]
	}
	return nil
}

// findingList is a list of findings in pages of findingPage, which are
// not copied as they fill, unlike a growing slice.
type findingList struct {
	pages [][]Finding
	n     int
}

// findingPage is the number of findings in a page of a findingList.
const findingPage = 256

func (l *findingList) add(fs []Finding) {
	for _, f := range fs {
		if len(l.pages) == 0 || len(l.pages[len(l.pages)-1]) == findingPage {
			l.pages = append(l.pages, make([]Finding, 0, findingPage))
		}
		last := &l.pages[len(l.pages)-1]
		*last = append(*last, f)
	}
	l.n += len(fs)
}

// appendTo appends the findings to out and drops each page once copied.
func (l *findingList) appendTo(out []Finding) []Finding {
	for i, p := range l.pages {
		out = append(out, p...)
		l.pages[i] = nil
	}
	return out
}

// blocks is output written to blocks of size bytes, which are not copied
// as they fill, unlike a growing buffer.
type blocks struct {
	size int
	list [][]byte
	n    int // bytes written
}

// blockSize is the size of the blocks of a chunk of n bytes: an eighth of
// it, from 4 KiB to 64 KiB, so that the room left in the last block is a
// small part of the output.
func blockSize(n int) int {
	return min(64<<10, max(4<<10, n/8))
}

func (b *blocks) write(p []byte) {
	b.n += len(p)
	for len(p) > 0 {
		if len(b.list) == 0 || len(b.list[len(b.list)-1]) == b.size {
			b.list = append(b.list, make([]byte, 0, b.size))
		}
		last := &b.list[len(b.list)-1]
		k := min(len(p), b.size-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
}

// encodeDoc writes one document, after a separator when sep is set.
func encodeDoc(buf *bytes.Buffer, n *yaml.Node, sep bool) error {
	if sep {
		buf.WriteString("---\n")
	}
	return emit.Encode(buf, n)
}

// eachChunk runs work for every chunk index at once, the last one on the
// calling goroutine, and returns when all have returned.
func eachChunk(n int, work func(k int)) {
	var wg sync.WaitGroup
	for k := range n - 1 {
		wg.Go(func() { work(k) })
	}
	if n > 0 {
		work(n - 1)
	}
	wg.Wait()
}
