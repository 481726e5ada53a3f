package generators

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/bundle"
	goldenfile "github.com/stretch-dev/kubectl-stretch/internal/golden"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

var update = flag.Bool("update", false, "rewrite the golden bundles under testdata/golden")

// goldenCases are the bundled example and every valid topology of the
// corpus, each with its golden bundle under testdata/golden/<name>.
func goldenCases(t *testing.T) []struct{ name, topology string } {
	cases := []struct{ name, topology string }{{"example", "../testdata/topology.yaml"}}
	valid, err := filepath.Glob("../testdata/topologies/valid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(valid)
	for _, v := range valid {
		cases = append(cases, struct{ name, topology string }{strings.TrimSuffix(filepath.Base(v), ".yaml"), v})
	}
	if len(cases) < 4 {
		t.Fatalf("want the example and at least three valid topologies, found %d", len(cases))
	}
	return cases
}

func renderFile(t *testing.T, path string, opts Options) *bundle.Bundle {
	t.Helper()
	f, err := topology.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	out, err := Render(context.Background(), f.Topology, opts)
	if err != nil {
		t.Fatalf("render %s: %v", path, err)
	}
	return out.Bundle
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b := renderFile(t, tc.topology, Options{})
			dir := filepath.Join("..", "testdata", "golden", tc.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for _, f := range b.Files {
					p := filepath.Join(dir, filepath.FromSlash(f.Path))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := readTree(t, dir)
			got := map[string][]byte{}
			for _, f := range b.Files {
				got[f.Path] = f.Data
			}
			for _, p := range sortedKeys(want) {
				g, ok := got[p]
				if !ok {
					t.Errorf("%s: golden file not rendered", p)
					continue
				}
				if !bytes.Equal(g, want[p]) {
					t.Errorf("%s differs from the golden file (run go test ./generators -update and review the diff):\n%s", p, goldenfile.Diff(p, want[p], g))
				}
			}
			for _, p := range sortedKeys(got) {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: rendered but not in the golden bundle", p)
				}
			}
		})
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./generators -update)", dir, err)
	}
	return out
}

// TestDeterministic renders the example repeatedly: the bytes never change.
func TestDeterministic(t *testing.T) {
	first := renderFile(t, "../testdata/topology.yaml", Options{})
	for i := 0; i < 5; i++ {
		again := renderFile(t, "../testdata/topology.yaml", Options{})
		if len(again.Files) != len(first.Files) {
			t.Fatalf("run %d: %d files, first run %d", i, len(again.Files), len(first.Files))
		}
		for j := range first.Files {
			if first.Files[j].Path != again.Files[j].Path || !bytes.Equal(first.Files[j].Data, again.Files[j].Data) {
				t.Fatalf("run %d: %s differs from the first run", i, first.Files[j].Path)
			}
		}
	}
}

func TestBundleLayout(t *testing.T) {
	b := renderFile(t, "../testdata/topology.yaml", Options{})
	var paths []string
	for _, f := range b.Files {
		paths = append(paths, f.Path+" ["+f.Layer+"]")
	}
	want := []string{
		"access/clusterrole-stretch-verify.yaml [access]",
		"access/clusterrolebinding-stretch-verify.yaml [access]",
		"access/kustomization.yaml [access]",
		"flux/access.yaml [flux]",
		"flux/kustomization.yaml [flux]",
		"flux/network.yaml [flux]",
		"flux/storage-operator.yaml [flux]",
		"flux/storage.yaml [flux]",
		"kubespray/group_vars/all/etcd.yml [kubespray]",
		"kubespray/group_vars/k8s_cluster/k8s-cluster.yml [kubespray]",
		"kubespray/group_vars/k8s_cluster/k8s-net-calico.yml [kubespray]",
		"kubespray/hosts.yaml [kubespray]",
		"network/calico/felixconfiguration.yaml [calico]",
		"network/calico/kustomization.yaml [calico]",
		"network/dns/records.yaml [dns]",
		"network/dns/records.zone [dns]",
		"network/firewall/osl1.nft [firewall]",
		"network/firewall/osl1.tf.json [firewall]",
		"network/firewall/osl1.yaml [firewall]",
		"network/firewall/sto1.nft [firewall]",
		"network/firewall/sto1.tf.json [firewall]",
		"network/firewall/sto1.yaml [firewall]",
		"network/firewall/sto2.nft [firewall]",
		"network/firewall/sto2.tf.json [firewall]",
		"network/firewall/sto2.yaml [firewall]",
		"storage/rook/cluster/cephcluster.yaml [rook]",
		"storage/rook/cluster/kustomization.yaml [rook]",
		"storage/rook/cluster/pool-builtin-mgr.yaml [rook]",
		"storage/rook/cluster/pool-replicapool.yaml [rook]",
		"storage/rook/cluster/storageclass-ceph-block.yaml [rook]",
		"storage/rook/operator/helmrelease.yaml [rook]",
		"storage/rook/operator/helmrelease-ceph-csi-drivers.yaml [rook]",
		"storage/rook/operator/helmrepository.yaml [rook]",
		"storage/rook/operator/helmrepository-ceph-csi-operator.yaml [rook]",
		"storage/rook/operator/kustomization.yaml [rook]",
		"storage/rook/operator/namespace.yaml [rook]",
		"flux/workloads.yaml [flux]",
		"workloads/apps/daemonset_shop_log-shipper.yaml [workloads]",
		"workloads/apps/deployment_shop_storefront.yaml [workloads]",
		"workloads/apps/kustomization.yaml [workloads]",
		"workloads/apps/namespace_shop.yaml [workloads]",
		"workloads/apps/poddisruptionbudget_shop_orders-db-stretch.yaml [workloads]",
		"workloads/apps/poddisruptionbudget_shop_storefront-stretch.yaml [workloads]",
		"workloads/apps/statefulset_shop_orders-db.yaml [workloads]",
		"workloads/kustomization.yaml [workloads]",
	}
	sort.Strings(want)
	sort.Strings(paths)
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("bundle files:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
}
