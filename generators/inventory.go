package generators

import (
	"bytes"
	"fmt"
	"slices"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/emit"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
)

// orderControlPlane writes the inventory with the kube_control_plane hosts
// in the order Kubespray needs: Kubespray runs kubeadm init on the group's
// first host (the order of the YAML inventory), and that host must be in a
// data region, not the arbiter's. The data regions' control planes come
// first, by name, then the arbiter's; every other mapping stays sorted.
func orderControlPlane(objs []object, m *topology.Model) error {
	arbiter := map[string]bool{}
	for _, n := range m.Nodes {
		arbiter[n.Name] = n.Arbiter
	}
	for i := range objs {
		if _, ok := objs[i].Typed.(*kubespray.Inventory); !ok {
			continue
		}
		y, err := sigsyaml.JSONToYAML(objs[i].Raw)
		if err != nil {
			return fmt.Errorf("%s: %w", objs[i].Path, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(y, &doc); err != nil {
			return fmt.Errorf("%s: %w", objs[i].Path, err)
		}
		if hosts := lookup(&doc, "all", "children", kubespray.GroupControlPlane, "hosts"); hosts != nil {
			sortPairs(hosts, func(a, b string) int {
				if arbiter[a] != arbiter[b] {
					if arbiter[a] {
						return 1
					}
					return -1
				}
				return cmpString(a, b)
			})
		}
		var buf bytes.Buffer
		if err := emit.Encode(&buf, &doc); err != nil {
			return fmt.Errorf("%s: %w", objs[i].Path, err)
		}
		objs[i].YAML = buf.Bytes()
	}
	return nil
}

// lookup returns the mapping node at the path of keys, or nil.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// sortPairs orders a mapping node's key-value pairs by key.
func sortPairs(m *yaml.Node, cmp func(a, b string) int) {
	type pair struct{ k, v *yaml.Node }
	var pairs []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		pairs = append(pairs, pair{m.Content[i], m.Content[i+1]})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp(a.k.Value, b.k.Value) })
	m.Content = m.Content[:0]
	for _, p := range pairs {
		m.Content = append(m.Content, p.k, p.v)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
