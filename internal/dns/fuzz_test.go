package dns

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzZone writes records with any name, node, region, address and path
// (Validate would refuse most of them; Zone must not rely on it) and
// checks that every line of the snippet is blank, a comment, or a record
// line of the one escaped name, and that no byte outside printable ASCII
// reaches the file.
func FuzzZone(f *testing.F) {
	f.Add("api.example.eu", "cp-0", "sto1", "203.0.113.10", "/readyz")
	f.Add("a;b\n$INCLUDE /etc/passwd", "n\r\n@ IN NS x.", "r\x00", "::1", "/x y\n")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, node, region, addr, path string) {
		r := &Records{APIVersion: APIVersion, Kind: Kind, Records: []Record{{
			Name: name, Purpose: PurposeAPI, TTL: 60,
			Targets:     []Target{{Address: addr, Node: node, Region: region}},
			HealthCheck: HealthCheck{Protocol: ProtocolHTTPS, Port: 6443, Path: path, Host: name},
		}}}
		z := Zone(r)
		for _, c := range z {
			if c != '\n' && (c < ' ' || c >= 0x7f) {
				t.Fatalf("byte %#x in the snippet:\n%q", c, z)
			}
		}
		var b bytes.Buffer
		writeName(&b, name)
		prefix := b.String() + " 60 IN "
		lines := strings.Split(strings.TrimSuffix(string(z), "\n"), "\n")
		records := 0
		for _, line := range lines {
			switch {
			case line == "", strings.HasPrefix(line, ";"):
			case strings.HasPrefix(line, prefix):
				records++
				// The address is one token: no unescaped character that
				// starts a comment, a group or a second field.
				rdata := strings.SplitN(strings.TrimPrefix(line, prefix), " ", 3)
				if len(rdata) < 2 || strings.ContainsAny(unescaped(rdata[1]), ";()\"") {
					t.Fatalf("record line %q: the address is not one escaped token", line)
				}
			default:
				t.Fatalf("line %q is neither a comment nor a record of %q", line, prefix)
			}
		}
		if records != 1 {
			t.Fatalf("%d record lines, want 1:\n%s", records, z)
		}
	})
}

// unescaped drops every escaped character (\X and \DDD) from a token.
func unescaped(tok string) string {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '\\' {
			b.WriteByte(tok[i])
			continue
		}
		if i+3 < len(tok) && tok[i+1] >= '0' && tok[i+1] <= '9' {
			i += 3
		} else {
			i++
		}
	}
	return b.String()
}
