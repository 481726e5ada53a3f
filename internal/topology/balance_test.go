package topology

import (
	"fmt"
	"strings"
	"testing"
)

func TestCephImageVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		image string
		want  [3]int
		ok    bool
	}{
		{"quay.io/ceph/ceph:v20.2.4", [3]int{20, 2, 4}, true},
		{"quay.io/ceph/ceph:v19.2.3-20250717", [3]int{19, 2, 3}, true},
		{"registry:5000/ceph/ceph:v20.2.2@sha256:abc", [3]int{20, 2, 2}, true},
		{"ceph:20.2.2", [3]int{20, 2, 2}, true},
		{"registry:5000/ceph/ceph", [3]int{}, false},
		{"quay.io/ceph/ceph:latest", [3]int{}, false},
		{"quay.io/ceph/ceph@sha256:abc", [3]int{}, false},
		{"quay.io/ceph/ceph:v20.2", [3]int{}, false},
		{"quay.io/ceph/ceph:v020.2.2", [3]int{}, false},
	} {
		got, ok := CephImageVersion(c.image)
		if got != c.want || ok != c.ok {
			t.Errorf("CephImageVersion(%q) = %v, %v; want %v, %v", c.image, got, ok, c.want, c.ok)
		}
	}
}

// TestCrushBalance follows Rook's rule: equal device counts always pass;
// from Ceph v20.2.2 a difference of at most 10 % of the larger passes.
func TestCrushBalance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		image  string
		a, b   int
		refuse bool
	}{
		{"quay.io/ceph/ceph:v20.2.4", 3, 3, false},
		{"quay.io/ceph/ceph:v19.2.3", 3, 3, false},
		{"quay.io/ceph/ceph:v20.2.2", 10, 9, false},  // 10 %
		{"quay.io/ceph/ceph:v20.2.2", 9, 10, false},  // either side
		{"quay.io/ceph/ceph:v21.0.0", 11, 10, false}, // 9 %
		{"quay.io/ceph/ceph:v20.2.2", 10, 8, true},   // 20 %
		{"quay.io/ceph/ceph:v20.2.4", 2, 3, true},
		{"quay.io/ceph/ceph:v20.2.1", 10, 9, true}, // before the relaxed check
		{"quay.io/ceph/ceph:v19.2.3", 10, 9, true},
		{"quay.io/ceph/ceph:latest", 10, 9, true}, // no version: the exact rule
	} {
		t.Run(fmt.Sprintf("%s-%d-%d", c.image, c.a, c.b), func(t *testing.T) {
			t.Parallel()
			f, err := Decode("balance.yaml", balanceTopology(c.image, c.a, c.b))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			Default(f.Topology)
			err = f.Validate()
			if !c.refuse {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted unbalanced data regions")
			}
			if errs, ok := err.(Errors); !ok || len(errs) != 1 || !strings.Contains(err.Error(), "CRUSH weights") {
				t.Fatalf("Validate: %v; want the CRUSH weight rule", err)
			}
		})
	}
}

// balanceTopology is a topology whose data regions have a and b devices
// on two storage nodes each.
func balanceTopology(image string, a, b int) []byte {
	devices := func(n int) (string, string) {
		var first, second []string
		for i := range n {
			d := fmt.Sprintf("/dev/disk/by-id/d%d", i)
			if i%2 == 0 {
				first = append(first, d)
			} else {
				second = append(second, d)
			}
		}
		if len(second) == 0 {
			second = nil
		}
		return strings.Join(first, ", "), strings.Join(second, ", ")
	}
	a0, a1 := devices(a)
	b0, b1 := devices(b)
	return fmt.Appendf(nil, `apiVersion: stretch.dev/v1alpha1
kind: Topology
metadata: {name: test-eu}
spec:
  kubernetes: {version: "1.35.4", apiEndpoint: api.test.example.eu}
  network: {interRegionRTTms: 4}
  adminCIDRs: [198.51.100.0/28]
  regions:
  - name: sto1
    role: data
    nodes:
    - {name: sto1-cp-0, ip: 10.10.0.10, roles: [control-plane, etcd, worker]}
    - {name: sto1-s-0, ip: 10.10.0.30, roles: [storage], devices: [%s]}
    - {name: sto1-s-1, ip: 10.10.0.31, roles: [storage], devices: [%s]}
  - name: sto2
    role: data
    nodes:
    - {name: sto2-cp-0, ip: 10.20.0.10, roles: [control-plane, etcd, worker]}
    - {name: sto2-s-0, ip: 10.20.0.30, roles: [storage], devices: [%s]}
    - {name: sto2-s-1, ip: 10.20.0.31, roles: [storage], devices: [%s]}
  - name: osl1
    role: arbiter
    nodes:
    - {name: osl1-cp-0, ip: 10.30.0.10, roles: [control-plane, etcd]}
  storage:
    ceph: {image: %q}
    blockPools:
    - {name: replicapool, storageClass: ceph-block, default: true}
  workloads:
    sources:
    - {name: apps, path: ../../apps}
`, a0, a1, b0, b1, image)
}
