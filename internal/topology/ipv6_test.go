package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadExampleWith loads the bundled example with each old string replaced.
func loadExampleWith(t *testing.T, replace ...string) (*File, error) {
	t.Helper()
	data, err := os.ReadFile("../../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("the example has no %q", replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	p := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p)
}

func TestIPv6Refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replace []string
		want    string // "" when valid
	}{
		{"node IP", []string{"ip: 10.10.0.10", "ip: 'fd00::10'"},
			"spec.regions[0].nodes[0].ip: fd00::10 is an IPv6 address; kubectl-stretch renders an IPv4-only cluster"},
		{"IPv4-mapped node IP", []string{"ip: 10.10.0.10", "ip: '::ffff:10.10.0.10'"},
			"spec.regions[0].nodes[0].ip: ::ffff:10.10.0.10 is an IPv4-mapped IPv6 address; write 10.10.0.10"},
		{"service subnet", []string{"serviceSubnet: 10.233.0.0/18", "serviceSubnet: 'fd00:233::/112'"},
			"spec.kubernetes.serviceSubnet: fd00:233::/112 is an IPv6 subnet"},
		// Ansible's SSH address and the API endpoint may be IPv6.
		{"IPv6 public IP", []string{"publicIP: 203.0.113.10", "publicIP: '2001:db8::10'"}, ""},
		{"IPv6 API endpoint", []string{"apiEndpoint: api.demo.example.eu", "apiEndpoint: '2001:db8::1'"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadExampleWith(t, tc.replace...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error lacks %q:\n%v", tc.want, err)
			}
			if len(errs) != 1 {
				t.Errorf("%d errors, want 1:\n%v", len(errs), err)
			}
		})
	}
}
