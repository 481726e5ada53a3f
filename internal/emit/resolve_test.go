package emit

import (
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// TestResolveMatchesDecoder holds resolve to the tags yaml.v3's decoder
// gives plain scalars.
func TestResolveMatchesDecoder(t *testing.T) {
	for _, v := range []string{"", "~", "null", "NULL", "true", "False", "yes", "on", "0", "-0", "+1", "007", "08", "0x1F",
		"0X1f", "0o17", "0O17", "0b101", "0b-1", "0b+1", "-0b101", "-0o17", "0o-7", "1_000", "_1", "1_", "1.5", ".5", "5.",
		"1e3", "1E+3", "1e", ".inf", "-.Inf", ".nan", ".x", "-", "+", "-x", "1.0.0", "100m", "128Mi", "2001-12-14",
		"2001-12-14T21:59:43.10Z", "2001-12-14 21:59:43.10", "2001-13-45", "9223372036854775808",
		"18446744073709551616", "-9223372036854775809", "0x", "0b", "1,000", "Infinity", "-inf", "<<", "x"} {
		checkResolve(t, v)
	}
}

// checkResolve compares resolve(v) with the tag yaml.v3 decodes the plain
// scalar v with, when v can be written plain.
func checkResolve(t *testing.T, v string) {
	t.Helper()
	if !simpleText(v) || !plainAllowed(v, false) || v == "<<" {
		return // "<<" is a merge key to the decoder, a string to the encoder
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("k: "+v+"\n"), &n); err != nil {
		return
	}
	val := n.Content[0].Content[1]
	if val.Kind != yaml.ScalarNode || val.Style != 0 || val.Value != v {
		return
	}
	if got := resolve(v); got != val.Tag {
		t.Errorf("resolve(%q) = %s, yaml.v3 decodes %s", v, got, val.Tag)
	}
}

// FuzzResolve requires resolve to type every plain scalar as yaml.v3's
// decoder does.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "x", "1", "0b-1", "2001-12-14", "1e3", ".5", "-.inf", "0x_1"} {
		f.Add(s)
	}
	f.Fuzz(checkResolve)
}
