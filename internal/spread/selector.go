package spread

import (
	"slices"

	yaml "go.yaml.in/yaml/v3"
)

// requirement is one expression of a label or node selector.
type requirement struct {
	key, op string
	values  []string
}

// readRequirements reads a list of {key, operator, values} at key in m.
func readRequirements(r *reader, m *yaml.Node, path, key string) []requirement {
	p := child(path, key)
	items := r.items(r.list(m, path, key), p)
	out := make([]requirement, 0, len(items))
	for i, it := range items {
		ip := index(p, i)
		out = append(out, requirement{
			key:    r.str(it, ip, "key"),
			op:     r.str(it, ip, "operator"),
			values: r.strs(it, ip, "values"),
		})
	}
	return out
}

// selector is a parsed metav1.LabelSelector.
type selector struct {
	labels map[string]string
	exprs  []requirement
}

// readSelector reads the label selector at key in m; nil when it is
// missing or null (which selects nothing).
func readSelector(r *reader, m *yaml.Node, path, key string) *selector {
	s := r.mapping(m, path, key)
	if s == nil {
		return nil
	}
	p := child(path, key)
	_, labels := r.labels(s, p, "matchLabels")
	return &selector{labels: labels, exprs: readRequirements(r, s, p, "matchExpressions")}
}

// empty reports whether the selector has no requirements, which selects
// every pod (for a PodDisruptionBudget) and none for the patcher's purposes.
func (s *selector) empty() bool {
	return s == nil || len(s.labels) == 0 && len(s.exprs) == 0
}

// matches reports whether the selector selects a pod with the given labels.
// A nil selector selects nothing; an empty one selects everything.
func (s *selector) matches(labels map[string]string) bool {
	if s == nil {
		return false
	}
	for k, v := range s.labels {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	for _, e := range s.exprs {
		v, ok := labels[e.key]
		switch e.op {
		case "In":
			if !ok || !slices.Contains(e.values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(e.values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// pair returns one of the selector's matchLabels as an index key (the
// smallest key, so that the choice is deterministic), or false when it has
// none.
func (s *selector) pair() (string, bool) {
	if s == nil || len(s.labels) == 0 {
		return "", false
	}
	first, found := "", false
	for k := range s.labels {
		if !found || k < first {
			first, found = k, true
		}
	}
	return first + "=" + s.labels[first], true
}
