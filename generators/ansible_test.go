package generators

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// TestAnsibleInventory parses the rendered inventory with the real
// ansible-inventory (Debian's ansible-core) and checks the groups and host
// variables it reports, group_vars included.
func TestAnsibleInventory(t *testing.T) {
	bin := testenv.Tool(t, "ansible-inventory", "the Debian package ansible-core")
	dir := t.TempDir()
	b := renderFile(t, "../testdata/topology.yaml", Options{})
	for _, f := range b.Files {
		if !strings.HasPrefix(f.Path, "kubespray/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-i", filepath.Join(dir, "kubespray", "hosts.yaml"), "--list")
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_INVENTORY_UNPARSED_FAILED=true")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("ansible-inventory: %v\n%s", err, stderr)
	}
	var inv map[string]json.RawMessage
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatalf("ansible-inventory output: %v\n%s", err, out)
	}
	group := func(name string) (hosts, children []string) {
		var g struct {
			Hosts    []string `json:"hosts"`
			Children []string `json:"children"`
		}
		if raw, ok := inv[name]; ok {
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatalf("group %s: %v", name, err)
			}
		}
		slices.Sort(g.Hosts)
		slices.Sort(g.Children)
		return g.Hosts, g.Children
	}
	for _, tc := range []struct {
		group string
		hosts []string
	}{
		{"kube_control_plane", []string{"osl1-cp-0", "sto1-cp-0", "sto2-cp-0"}},
		{"etcd", []string{"osl1-cp-0", "sto1-cp-0", "sto2-cp-0"}},
		{"kube_node", []string{"sto1-s-0", "sto1-s-1", "sto1-w-0", "sto1-w-1", "sto2-s-0", "sto2-s-1", "sto2-w-0", "sto2-w-1"}},
	} {
		if got, _ := group(tc.group); !slices.Equal(got, tc.hosts) {
			t.Errorf("group %s: hosts %v, want %v", tc.group, got, tc.hosts)
		}
	}
	// Kubespray runs kubeadm init on the first host of kube_control_plane,
	// in the inventory's order: a data region's, never the arbiter's.
	var cp struct {
		Hosts []string `json:"hosts"`
	}
	if err := json.Unmarshal(inv["kube_control_plane"], &cp); err != nil {
		t.Fatalf("kube_control_plane: %v", err)
	}
	if !slices.Equal(cp.Hosts, []string{"sto1-cp-0", "sto2-cp-0", "osl1-cp-0"}) {
		t.Errorf("kube_control_plane in Ansible's order: %v; want the data regions' control planes first, the arbiter's last", cp.Hosts)
	}
	if _, children := group("k8s_cluster"); !slices.Equal(children, []string{"calico_rr", "kube_control_plane", "kube_node"}) {
		t.Errorf("k8s_cluster children: %v", children)
	}

	var meta struct {
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	if err := json.Unmarshal(inv["_meta"], &meta); err != nil {
		t.Fatalf("_meta: %v", err)
	}
	arb := meta.Hostvars["osl1-cp-0"]
	wantArb := map[string]any{
		"ansible_host":             "203.0.113.30",
		"ip":                       "10.30.0.10",
		"access_ip":                "10.30.0.10",
		"etcd_member_name":         "osl1-cp-0",
		"node_labels":              map[string]any{"stretch.dev/arbiter": "true", "topology.kubernetes.io/region": "demo-eu", "topology.kubernetes.io/zone": "osl1"},
		"node_taints":              []any{"stretch.dev/arbiter=true:NoSchedule"},
		"etcd_heartbeat_interval":  "250",
		"etcd_election_timeout":    "5000",
		"calico_wireguard_enabled": true,
		"calico_mtu":               float64(1440),
		"kube_version":             "1.35.4",
		"kube_proxy_mode":          "nftables",
	}
	for k, want := range wantArb {
		got, _ := json.Marshal(arb[k])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("osl1-cp-0 %s = %s, want %s", k, got, w)
		}
	}
	st := meta.Hostvars["sto2-s-1"]
	if got, _ := json.Marshal(st["node_taints"]); string(got) != `["stretch.dev/storage=true:NoSchedule"]` {
		t.Errorf("sto2-s-1 node_taints = %s", got)
	}
	if labels, ok := st["node_labels"].(map[string]any); !ok || labels["topology.kubernetes.io/zone"] != "sto2" {
		t.Errorf("sto2-s-1 node_labels = %v: node_labels must stay a dict", st["node_labels"])
	}
	if _, ok := meta.Hostvars["sto1-w-0"]["node_taints"]; ok {
		t.Errorf("worker sto1-w-0 must not be tainted")
	}
}
