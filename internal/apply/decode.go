package apply

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Decode splits a multi-document YAML (or JSON) stream into objects, in
// stream order. Empty documents and comments-only documents are skipped, and
// the items of a `kind: List` document are returned as separate objects.
// Every object must have an apiVersion and a kind; an error names the
// 1-based document number.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		decoded, err := decodeDocument(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		objs = append(objs, decoded...)
	}
}

// decodeDocument decodes one YAML document into zero (empty document), one
// or, for a List, several objects.
func decodeDocument(raw []byte) ([]*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	js = bytes.TrimSpace(js)
	if len(js) == 0 || bytes.Equal(js, []byte("null")) {
		return nil, nil
	}
	var content map[string]any
	if err := json.Unmarshal(js, &content); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	obj := &unstructured.Unstructured{Object: content}
	if err := checkTyped(obj); err != nil {
		return nil, err
	}
	if !obj.IsList() {
		return []*unstructured.Unstructured{obj}, nil
	}
	list, err := obj.ToList()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.GetKind(), err)
	}
	objs := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		item := &list.Items[i]
		if err := checkTyped(item); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		objs = append(objs, item)
	}
	return objs, nil
}

func checkTyped(obj *unstructured.Unstructured) error {
	switch {
	case obj.GetAPIVersion() == "":
		return errors.New("object has no apiVersion")
	case obj.GetKind() == "":
		return errors.New("object has no kind")
	}
	return nil
}
