package spread

import (
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Read decodes a multi-document YAML stream into objects for Patch, in one
// pass over the stream, so that every node keeps its line in the stream
// and Patch's errors point at the line of the bad field. Like kustomize's
// kio.ByteReader it drops empty documents and reads a List or ResourceList
// that is the only document as its items. Unlike it, it does so whatever
// empty documents surround that one, and keeps a ResourceList without
// items as an object (kio reads it as a function's input and drops it).
// YAML that does not parse is a *DocumentError naming the document.
func Read(data []byte) ([]*kyaml.RNode, error) {
	docs, _, err := decodeStream(data)
	if err != nil {
		return nil, err
	}
	if len(docs) == 1 {
		if items, ok := listItems(docs[0].Content[0]); ok {
			objs := make([]*kyaml.RNode, len(items))
			for i, it := range items {
				objs[i] = kyaml.NewRNode(it)
			}
			return objs, nil
		}
	}
	objs := make([]*kyaml.RNode, len(docs))
	for i, d := range docs {
		objs[i] = kyaml.NewRNode(d)
	}
	return objs, nil
}

// listItems returns the items of a List or ResourceList object.
func listItems(n *kyaml.Node) ([]*kyaml.Node, bool) {
	if n.Kind != kyaml.MappingNode {
		return nil, false
	}
	if k := lookup(n, "kind"); k == nil || k.Kind != kyaml.ScalarNode || (k.Value != "List" && k.Value != "ResourceList") {
		return nil, false
	}
	items := lookup(n, "items")
	if items == nil || items.Kind != kyaml.SequenceNode {
		return nil, false
	}
	return items.Content, true
}

// File is YAML read from a named file, or built (a kustomize build, a Helm
// chart's output) with no name.
type File struct {
	// Name is the file's path, for errors that name the file and line;
	// empty for built output.
	Name string
	// Data is a multi-document YAML stream.
	Data []byte
}

// ReadFiles reads files as one set of objects for Patch, each with Read:
// objs in file order, and origin[i] the name of the file of objs[i], for
// InFiles. A file that does not parse is an error naming it.
func ReadFiles(files []File) (objs []*kyaml.RNode, origin []string, err error) {
	for _, f := range files {
		nodes, err := Read(f.Data)
		if err != nil {
			return nil, nil, inFile(err, f.Name)
		}
		for range nodes {
			origin = append(origin, f.Name)
		}
		objs = append(objs, nodes...)
	}
	return objs, origin, nil
}
