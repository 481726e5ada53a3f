package dns

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// goldenDirs returns the network/dns folders of the golden bundles.
func goldenDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../../testdata/golden/*/network/dns")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden network/dns folders (%v)", err)
	}
	return dirs
}

func readRecords(t *testing.T, file string) *Records {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r Records
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &r
}

// wrapZone makes a zone snippet a whole zone for named-checkzone: the zone
// is the root, so every absolute name of the snippet is inside it, with an
// SOA and one NS whose address is in the zone (named-checkzone wants
// glue). Only the test adds these; the bundle's snippet goes into the
// operator's own zone.
func wrapZone(snippet []byte) []byte {
	head := "$TTL 60\n" +
		". 60 IN SOA ns.zone-check.test. hostmaster.zone-check.test. 1 3600 600 86400 60\n" +
		". 60 IN NS ns.zone-check.test.\n" +
		"ns.zone-check.test. 60 IN A 192.0.2.53\n"
	return append([]byte(head), snippet...)
}

// checkZone runs named-checkzone on the wrapped snippet and returns its
// output and error.
func checkZone(t *testing.T, bin string, snippet []byte) (string, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "root.zone")
	if err := os.WriteFile(f, wrapZone(snippet), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-k", "fail", "-n", "fail", "-i", "local", ".", f).CombinedOutput()
	return string(out), err
}

// TestGoldenZonesPassNamedCheckzone runs Debian's named-checkzone
// (bind9utils) on the zone snippet of every golden bundle, the example's
// included.
func TestGoldenZonesPassNamedCheckzone(t *testing.T) {
	bin := testenv.Tool(t, "named-checkzone", "the Debian package bind9utils")
	for _, dir := range goldenDirs(t) {
		snippet, err := os.ReadFile(filepath.Join(dir, "records.zone"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(snippet, []byte(" IN A ")) {
			t.Errorf("%s: no A record in the snippet", dir)
		}
		if out, err := checkZone(t, bin, snippet); err != nil || !strings.Contains(out, "OK") {
			t.Errorf("%s: named-checkzone: %v\n%s", dir, err, out)
		}
	}
}

// TestNamedCheckzoneRefusesABrokenSnippet shows the zone check can fail: a
// record with a bad address is refused.
func TestNamedCheckzoneRefusesABrokenSnippet(t *testing.T) {
	bin := testenv.Tool(t, "named-checkzone", "the Debian package bind9utils")
	if out, err := checkZone(t, bin, []byte("api.example.eu. 60 IN A 10.0.0.300\n")); err == nil {
		t.Fatalf("named-checkzone accepted 10.0.0.300:\n%s", out)
	}
}

// TestGoldenZoneIsWrittenFromTheRecords holds each golden records.zone to
// Zone of the golden records.yaml next to it, and the records to the
// rules.
func TestGoldenZoneIsWrittenFromTheRecords(t *testing.T) {
	t.Parallel()
	for _, dir := range goldenDirs(t) {
		r := readRecords(t, filepath.Join(dir, "records.yaml"))
		if errs := r.Validate(); len(errs) > 0 {
			t.Errorf("%s: %s", dir, strings.Join(errs, "; "))
		}
		want, err := os.ReadFile(filepath.Join(dir, "records.zone"))
		if err != nil {
			t.Fatal(err)
		}
		if got := Zone(r); !bytes.Equal(got, want) {
			t.Errorf("%s: records.zone is not Zone(records.yaml):\n%s", dir, got)
		}
	}
}

func validRecords() *Records {
	return &Records{APIVersion: APIVersion, Kind: Kind, Records: []Record{{
		Name: "api.example.eu", Purpose: PurposeAPI, TTL: 60,
		Targets:     []Target{{Address: "203.0.113.10", Node: "a-cp-0", Region: "a"}, {Address: "2001:db8::1", Node: "b-cp-0", Region: "b"}},
		HealthCheck: HealthCheck{Protocol: ProtocolHTTPS, Port: 6443, Path: "/readyz"},
	}}}
}

func TestValidateNamesEachBadField(t *testing.T) {
	t.Parallel()
	if errs := validRecords().Validate(); len(errs) > 0 {
		t.Fatalf("valid records refused: %v", errs)
	}
	for _, tc := range []struct {
		name   string
		change func(*Records)
		want   string
	}{
		{"ttl above 60", func(r *Records) { r.Records[0].TTL = 300 }, "records[0].ttl: must be 1 to 60 seconds, got 300"},
		{"ttl zero", func(r *Records) { r.Records[0].TTL = 0 }, "records[0].ttl: must be 1 to 60 seconds, got 0"},
		{"name with a newline", func(r *Records) { r.Records[0].Name = "api.example.eu\n$INCLUDE /etc/passwd" }, "records[0].name: "},
		{"bad address", func(r *Records) { r.Records[0].Targets[1].Address = "10.0.0.300" }, `records[0].targets[1].address: "10.0.0.300" is not an IP address`},
		{"duplicate address", func(r *Records) { r.Records[0].Targets[1].Address = "203.0.113.10" }, "records[0].targets[1].address: duplicate address 203.0.113.10 (also targets[0])"},
		{"mapped address", func(r *Records) { r.Records[0].Targets[1].Address = "::ffff:10.0.0.1" }, "write 10.0.0.1"},
		{"no targets", func(r *Records) { r.Records[0].Targets = nil }, "records[0].targets: at least one address is required"},
		{"path with a space", func(r *Records) { r.Records[0].HealthCheck.Path = "/ready z" }, "records[0].healthCheck.path: must start"},
		{"relative path", func(r *Records) { r.Records[0].HealthCheck.Path = "readyz" }, "records[0].healthCheck.path: must start"},
		{"port", func(r *Records) { r.Records[0].HealthCheck.Port = 70000 }, "records[0].healthCheck.port: must be 1 to 65535, got 70000"},
		{"protocol", func(r *Records) { r.Records[0].HealthCheck.Protocol = "TCP" }, `records[0].healthCheck.protocol: must be HTTPS or HTTP, got "TCP"`},
		{"purpose", func(r *Records) { r.Records[0].Purpose = "mail" }, `records[0].purpose: must be api or ingress, got "mail"`},
		{"kind", func(r *Records) { r.Kind = "Zone" }, `kind: must be DNSRecords, got "Zone"`},
		{"duplicate name", func(r *Records) { r.Records = append(r.Records, r.Records[0]) }, "records[1].name: duplicate name api.example.eu (also records[0])"},
		{"node", func(r *Records) { r.Records[0].Targets[0].Node = "A;B" }, `records[0].targets[0].node: "A;B" is not a node name`},
	} {
		r := validRecords()
		tc.change(r)
		errs := strings.Join(r.Validate(), "\n")
		if !strings.Contains(errs, tc.want) {
			t.Errorf("%s: got %q, want it to contain %q", tc.name, errs, tc.want)
		}
	}
}

// TestZoneEscapesHostileText writes records that Validate would refuse
// (Zone must not rely on it) and checks that nothing starts a line of its
// own: every line is a comment, a blank or a record of the name.
func TestZoneEscapesHostileText(t *testing.T) {
	t.Parallel()
	z := string(Zone(hostileRecords()))
	for _, line := range strings.Split(strings.TrimSuffix(z, "\n"), "\n") {
		if line != "" && !strings.HasPrefix(line, ";") && !strings.HasPrefix(line, hostileName+". 60 IN ") {
			t.Errorf("line %q escapes its record", line)
		}
	}
	if !strings.Contains(z, `n\010$ORIGIN evil.`) {
		t.Errorf("the node name's newline is not written as \\010:\n%s", z)
	}
}

// hostileName is the escaped name of hostileRecords' record.
const hostileName = `api\;x.ex\032ample\010\$INCLUDE\032/etc/passwd.eu`

// hostileRecords are records Validate refuses, with text that would start
// lines and directives of its own if written unescaped.
func hostileRecords() *Records {
	r := validRecords()
	r.Records[0].Name = "api;x.ex ample\n$INCLUDE /etc/passwd.eu"
	r.Records[0].Targets[0].Node = "n\n$ORIGIN evil."
	r.Records[0].HealthCheck.Path = "/r\r\n@ IN NS evil."
	return r
}

// TestHostileZoneLoadsAsTwoRecords has named-checkzone read the escaped
// snippet: it loads, and holds the two records of one (strange) name and
// nothing else.
func TestHostileZoneLoadsAsTwoRecords(t *testing.T) {
	bin := testenv.Tool(t, "named-checkzone", "the Debian package bind9utils")
	f := filepath.Join(t.TempDir(), "root.zone")
	if err := os.WriteFile(f, wrapZone(Zone(hostileRecords())), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-q", "-D", "-o", "-", ".", f).CombinedOutput()
	if err != nil {
		t.Fatalf("named-checkzone: %v\n%s", err, out)
	}
	var records []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.Contains(line, "zone-check.test.") && !strings.HasPrefix(line, ".") {
			records = append(records, strings.Join(strings.Fields(line), " "))
		}
	}
	want := []string{hostileName + ". 60 IN A 203.0.113.10", hostileName + ". 60 IN AAAA 2001:db8::1"}
	if strings.Join(records, "\n") != strings.Join(want, "\n") {
		t.Errorf("named-checkzone loaded\n%s\nwant\n%s", strings.Join(records, "\n"), strings.Join(want, "\n"))
	}
}

func TestZoneWritesAAAAForIPv6(t *testing.T) {
	t.Parallel()
	z := string(Zone(validRecords()))
	for _, want := range []string{
		"api.example.eu. 60 IN A 203.0.113.10 ; a-cp-0 (a) https://203.0.113.10:6443/readyz\n",
		"api.example.eu. 60 IN AAAA 2001:db8::1 ; b-cp-0 (b) https://[2001:db8::1]:6443/readyz\n",
	} {
		if !strings.Contains(z, want) {
			t.Errorf("zone lacks %q:\n%s", want, z)
		}
	}
}
