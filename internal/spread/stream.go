package spread

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"

	yaml "go.yaml.in/yaml/v3"

	"github.com/stretch-dev/kubectl-stretch/internal/emit"
)

// PatchStream patches a multi-document YAML stream: it decodes every
// document once, patches the objects in place as Patch does, and encodes
// them with the added PodDisruptionBudgets at the end. Comments and key
// order are kept; indentation becomes two spaces with lists not indented
// under their key, as kubectl writes them. Empty documents are dropped. A
// comment indented between two levels may move once, as yaml.v3 does not
// always put such a comment back where it read it.
//
// Bad input gives an error naming the document and what is wrong with it,
// and no output.
func PatchStream(in []byte, p Policy) (out []byte, res *Result, err error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	docs, pos, err := decodeStream(in)
	if err != nil {
		return nil, nil, err
	}
	roots := make([]*yaml.Node, len(docs))
	for i, d := range docs {
		roots[i] = d.Content[0]
	}
	res, err = run(roots, pos, p)
	if err != nil {
		return nil, nil, err
	}
	out, err = encodeStream(docs, res, len(in))
	if err != nil {
		return nil, nil, err
	}
	return out, res, nil
}

// encodeStream encodes the documents and the added objects, each on its
// own (yaml.v3's stream encoder keeps every event of a stream in one
// growing queue) and through package emit, which writes the common shapes
// of manifests directly and the rest through yaml.v3. Documents are
// independent, so contiguous runs of them are encoded in parallel into
// buffers of their own and joined in order: the bytes are the same as a
// sequential encode, whatever GOMAXPROCS is.
func encodeStream(docs []*yaml.Node, res *Result, size int) ([]byte, error) {
	nodes := make([]*yaml.Node, 0, len(docs)+len(res.Added))
	nodes = append(nodes, docs...)
	for _, a := range res.Added {
		nodes = append(nodes, a.YNode())
	}
	for i := range docs {
		docs[i] = nil // nodes holds them now; each is dropped once encoded
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(nodes)/64))
	parts := make([]bytes.Buffer, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(nodes)/workers, (w+1)*len(nodes)/workers
		wg.Go(func() {
			buf := &parts[w]
			buf.Grow((size + size/2) / workers)
			for i := lo; i < hi; i++ {
				if err := encodeDoc(buf, nodes[i], i > 0); err != nil {
					errs[w] = fmt.Errorf("encode %s: %w", describe(i, len(docs), res), err)
					return
				}
				nodes[i] = nil // let the collector take it while the rest is encoded
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	total := 0
	for i := range parts {
		total += parts[i].Len()
	}
	out := make([]byte, 0, total)
	for i := range parts {
		out = append(out, parts[i].Bytes()...)
	}
	return out, nil
}

// describe names the i-th node of an encode: a document of the input or an
// added object.
func describe(i, docs int, res *Result) string {
	if i < docs {
		return fmt.Sprintf("document %d", i+1)
	}
	return "added " + res.Added[i-docs].GetName()
}

// encodeDoc writes one document, after a separator when sep is set.
func encodeDoc(buf *bytes.Buffer, n *yaml.Node, sep bool) error {
	if sep {
		buf.WriteString("---\n")
	}
	return emit.Encode(buf, n)
}
