package spread

import (
	"errors"

	yaml "go.yaml.in/yaml/v3"
)

// aliasBudget bounds the number of nodes that expanding the aliases of one
// document may create, so that a "billion laughs" document or an alias
// cycle fails instead of exhausting memory.
const aliasBudget = 100_000

var errAliasBudget = errors.New("YAML aliases expand to more than 100000 nodes or refer to themselves")

// expandAliases replaces every alias below n with a copy of its anchored
// node and resolves merge keys (<<), so that the patcher sees the object a
// Kubernetes decoder sees, and a patch never writes through an alias into
// another part of the document. Anchors are dropped from a document that
// had aliases. A document without aliases or merge keys is left as it is,
// but for the nulls that prepare spells out.
func expandAliases(n *yaml.Node) error {
	if !prepare(n, false) {
		return nil
	}
	budget := aliasBudget
	if err := expand(n, &budget); err != nil {
		return err
	}
	dropAnchors(n)
	return nil
}

// prepare walks the tree below n once. It reports whether it has aliases or
// merge keys, and spells out the empty nulls inside flow collections
// ("{a, b: }") as null: the encoder would write them as a quoted empty
// string, which changes their meaning.
func prepare(n *yaml.Node, flow bool) (aliases bool) {
	switch {
	case n.Kind == yaml.AliasNode || isMergeKey(n):
		aliases = true
	case flow && n.Kind == yaml.ScalarNode && n.Value == "" && n.Style == 0 && n.ShortTag() == tagNull:
		n.Value = "null"
	}
	flow = flow || n.Style&yaml.FlowStyle != 0
	for _, c := range n.Content {
		if prepare(c, flow) {
			aliases = true
		}
	}
	return aliases
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.ShortTag() == tagMerge
}

// expand replaces the aliases among n's descendants in place.
func expand(n *yaml.Node, budget *int) error {
	for i, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			cp, err := resolvedCopy(c.Alias, budget)
			if err != nil {
				return err
			}
			cp.HeadComment, cp.LineComment, cp.FootComment = c.HeadComment, c.LineComment, c.FootComment
			n.Content[i] = cp
			continue
		}
		if err := expand(c, budget); err != nil {
			return err
		}
	}
	if n.Kind == yaml.MappingNode {
		return resolveMerges(n)
	}
	return nil
}

// resolvedCopy copies n with its aliases expanded and its merge keys
// resolved, without comments.
func resolvedCopy(n *yaml.Node, budget *int) (*yaml.Node, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	*budget--
	if n == nil || *budget < 0 {
		return nil, errAliasBudget
	}
	c := &yaml.Node{Kind: n.Kind, Style: n.Style, Tag: n.Tag, Value: n.Value, Line: n.Line, Column: n.Column}
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			cc, err := resolvedCopy(ch, budget)
			if err != nil {
				return nil, err
			}
			c.Content[i] = cc
		}
	}
	if c.Kind == yaml.MappingNode {
		if err := resolveMerges(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// resolveMerges replaces the merge keys of mapping m, whose values have no
// aliases left, by the keys they merge: keys written in m win over merged
// ones, and an earlier merged mapping wins over a later one.
func resolveMerges(m *yaml.Node) error {
	c := m.Content
	merges := false
	explicit := make(map[string]bool, len(c)/2)
	for i := 0; i+1 < len(c); i += 2 {
		if isMergeKey(c[i]) {
			merges = true
		} else if c[i].Kind == yaml.ScalarNode {
			explicit[c[i].Value] = true
		}
	}
	if !merges {
		return nil
	}
	out := make([]*yaml.Node, 0, len(c))
	for i := 0; i+1 < len(c); i += 2 {
		if !isMergeKey(c[i]) {
			out = append(out, c[i], c[i+1])
			continue
		}
		var sources []*yaml.Node
		switch v := c[i+1]; v.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{v}
		case yaml.SequenceNode:
			sources = v.Content
		default:
			return errors.New("a merge key (<<) must merge a mapping or a list of mappings")
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				return errors.New("a merge key (<<) must merge a mapping or a list of mappings")
			}
			sc := src.Content
			for j := 0; j+1 < len(sc); j += 2 {
				k := sc[j]
				if k.Kind == yaml.ScalarNode {
					if explicit[k.Value] {
						continue
					}
					explicit[k.Value] = true
				}
				out = append(out, k, sc[j+1])
			}
		}
	}
	m.Content = out
	return nil
}

func dropAnchors(n *yaml.Node) {
	n.Anchor = ""
	for _, c := range n.Content {
		dropAnchors(c)
	}
}
