package spread

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "go.yaml.in/yaml/v3"
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

// decodeStream decodes the documents of a stream, skipping empty ones, and
// returns them with their 1-based positions in the stream.
func decodeStream(in []byte) (docs []*yaml.Node, pos []int, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(in))
	for i := 1; ; i++ {
		d := &yaml.Node{}
		err := dec.Decode(d)
		if errors.Is(err, io.EOF) {
			return docs, pos, nil
		}
		if err != nil {
			return nil, nil, &DocumentError{Document: i, Msg: err.Error()}
		}
		if len(d.Content) != 1 || isNull(d.Content[0]) {
			continue // empty, only comments, or null
		}
		docs = append(docs, d)
		pos = append(pos, i)
	}
}

// encodeStream encodes the documents and the added objects. Each document
// gets its own encoder: yaml.v3's encoder keeps every event of a stream in
// one growing queue, which made encoding a stream of thousands of
// documents allocate several times the output's size.
func encodeStream(docs []*yaml.Node, res *Result, size int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(size + size/2 + 1024*len(res.Added))
	for i, d := range docs {
		if err := encodeDoc(&buf, d, i > 0); err != nil {
			return nil, fmt.Errorf("encode document %d: %w", i+1, err)
		}
		docs[i] = nil // let the collector take it while the rest is encoded
	}
	for _, a := range res.Added {
		if err := encodeDoc(&buf, a.YNode(), buf.Len() > 0); err != nil {
			return nil, fmt.Errorf("encode added %s: %w", a.GetName(), err)
		}
	}
	return buf.Bytes(), nil
}

// encodeDoc writes one document, after a separator when sep is set.
func encodeDoc(buf *bytes.Buffer, n *yaml.Node, sep bool) error {
	if sep {
		buf.WriteString("---\n")
	}
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}
