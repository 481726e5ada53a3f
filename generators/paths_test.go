package generators

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	kusttypes "sigs.k8s.io/kustomize/api/types"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// exampleWith copies the example topology and its apps folder into a temporary
// folder, with files added and the workload sources replaced (see
// testenv.ExampleCopy), and returns the topology file's path.
func exampleWith(t *testing.T, sources string, files map[string]string) string {
	t.Helper()
	return testenv.ExampleCopy(t, "..", sources, files)
}

// renderTopology loads a topology file and renders it.
func renderTopology(t *testing.T, file string) (*Output, error) {
	t.Helper()
	f, err := topology.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return Render(context.Background(), f.Topology, Options{BaseDir: filepath.Dir(file), TopologyFile: file})
}

// TestRenderRefusesBadIdentities renders objects whose kind, namespace or
// name would put their file outside workloads/<source>/ (or in a
// subfolder Flux never applies): each is refused with the file, line and
// column of the field.
func TestRenderRefusesBadIdentities(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"name escapes to kubespray", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../../../kubespray/group_vars/all/zz\n  namespace: shop\ndata:\n  ansible_ssh_common_args: -o ProxyCommand=touch /tmp/pwned\n",
			`zz.yaml:4:9: ConfigMap shop/../../../../kubespray/group_vars/all/zz: metadata.name: "../../../../kubespray/group_vars/all/zz" is not a valid name: may not contain '/'`},
		{"name with a slash", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a/b, namespace: shop}\n",
			`zz.yaml:3:18: ConfigMap shop/a/b: metadata.name: "a/b" is not a valid name: may not contain '/'`},
		{"name with dot-dot", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a..b, namespace: shop}\n",
			`zz.yaml:3:18: ConfigMap shop/a..b: metadata.name: "a..b" is not a valid name: may not contain '..'`},
		{"role name with a leading dot", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: .hidden, namespace: shop}\n",
			`zz.yaml:3:18: Role shop/.hidden: metadata.name: ".hidden" is not a valid name: must not start with '.'`},
		{"role name with percent", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a%2f, namespace: shop}\n",
			`zz.yaml:3:18: Role shop/a%2f: metadata.name: "a%2f" is not a valid name: may not contain '%'`},
		{"name with NUL", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"a\\0b\", namespace: shop}\n",
			`zz.yaml:3:18: ConfigMap "shop/a\x00b": metadata.name: "a\x00b" is not a valid name: must hold only printable ASCII`},
		{"kind with a slash", "apiVersion: v1\nkind: Config/Map\nmetadata: {name: x, namespace: shop}\n",
			`zz.yaml:2:7: Config/Map shop/x: kind: "Config/Map" is not a valid kind: a CamelCase name of letters and digits, starting with an upper-case letter`},
		{"namespace with a slash", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ../kubespray}\n",
			`zz.yaml:3:32: ConfigMap ../kubespray/x: metadata.namespace: "../kubespray" is not a valid namespace: a lowercase RFC 1123 label must consist`},
		{"names that differ in case only", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: Admin, namespace: shop}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: admin, namespace: shop}\n",
			`source apps: two objects would be written to workloads/apps/role_shop_admin.yaml: Role shop/admin and shop/Admin`},
		{"file name too long", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + strings.Repeat("a", 250) + ", namespace: shop}\n",
			`metadata.name: the file name configmap_shop_aaaaaaaaaaaaaaaaa... would be 270 bytes, more than the 255 a file system allows: shorten the name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := exampleWith(t, "", map[string]string{"apps/zz.yaml": tc.doc})
			out, err := renderTopology(t, file)
			if err == nil {
				t.Fatalf("render wrote %d files, want an error", len(out.Bundle.Files))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}

// TestObjectPath checks the path of a workload object and its refusals.
func TestObjectPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source, kind, namespace, name string
		want, wantErr                 string
	}{
		{"apps", "Deployment", "shop", "web", "workloads/apps/deployment_shop_web.yaml", ""},
		{"apps", "ClusterRole", "", "system:aggregate-to-view", "workloads/apps/clusterrole_system:aggregate-to-view.yaml", ""},
		{"apps", "ConfigMap", "", "x", "workloads/apps/configmap_x.yaml", ""},
		{"../kubespray", "ConfigMap", "shop", "x", "", `source name "../kubespray" is not a DNS-1123 label`},
		{"apps", "ConfigMap", "shop", "..", "", `metadata.name: ".." is not a valid name: may not be '..'`},
		{"apps", "ClusterRole", "", "a/b", "", `metadata.name: "a/b" is not a valid name: may not contain '/'`},
		{"apps", "ConfigMap", "", "", "", `metadata.name: required`},
		{"apps", "", "", "x", "", `kind: required`},
	} {
		got, err := objectPath(tc.source, tc.kind, tc.namespace, tc.name)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("objectPath(%q, %q, %q, %q) = %q, %v; want %q", tc.source, tc.kind, tc.namespace, tc.name, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("objectPath(%q, %q, %q, %q) = %q, %v; want an error with %q", tc.source, tc.kind, tc.namespace, tc.name, got, err, tc.wantErr)
		}
	}
}

// TestCheckLayerPath checks that a layer's file must sit directly in one
// of its folders.
func TestCheckLayerPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		layer, path, wantErr string
	}{
		{layout.Workloads, "workloads/apps/configmap_x.yaml", ""},
		{layout.Rook, "storage/rook/cluster/cephcluster.yaml", ""},
		{layout.Kubespray, "kubespray/group_vars/all/etcd.yml", ""},
		{layout.Workloads, "workloads/apps/../../kubespray/group_vars/all/zz.yaml", "a bundle path must be relative, clean and use forward slashes"},
		{layout.Workloads, "kubespray/group_vars/all/zz.yaml", "the workloads layer may only write in workloads/<name>/"},
		{layout.Workloads, "workloads/apps/configmap/x.yaml", "the workloads layer may only write in workloads/<name>/"},
		{layout.Workloads, "workloads/x.yaml", "the workloads layer may only write in workloads/<name>/"},
		{layout.Workloads, "workloads/Apps/x.yaml", "the workloads layer may only write in workloads/<name>/"},
		{layout.Rook, "storage/rook/x.yaml", "the rook layer may only write in storage/rook/operator/, storage/rook/cluster/"},
		{layout.Access, "access/sub/x.yaml", "the access layer may only write in access/"},
		{layout.Flux, "/flux/x.yaml", "a bundle path must be relative"},
		{layout.Flux, "flux/kustomization.yaml", "kustomization.yaml files are generated"},
		{"nope", "flux/x.yaml", `unknown layer "nope"`},
	} {
		err := checkLayerPath(tc.layer, tc.path)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("checkLayerPath(%s, %s): %v", tc.layer, tc.path, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("checkLayerPath(%s, %s) = %v, want an error with %q", tc.layer, tc.path, err, tc.wantErr)
		}
	}
}

// FuzzObjectPath checks that no kind, namespace, name or source name
// gives a path outside workloads/<source>/, or one in a folder that the
// bundle's kustomization.yaml files do not list.
func FuzzObjectPath(f *testing.F) {
	f.Add("apps", "Deployment", "shop", "web")
	f.Add("apps", "ConfigMap", "shop", "../../../../kubespray/group_vars/all/zz")
	f.Add("apps", "ClusterRole", "", "system:aggregate-to-view")
	f.Add("a", "Config/Map", "x", "y")
	f.Add("..", "ConfigMap", "", "x")
	f.Add("apps", "Role", "ns", ".x")
	f.Fuzz(func(t *testing.T, source, kind, namespace, name string) {
		p, err := objectPath(source, kind, namespace, name)
		if err != nil {
			return
		}
		dir := "workloads/" + source
		if path.Clean(p) != p || path.Dir(p) != dir || strings.ContainsAny(path.Base(p), "/\\\x00") {
			t.Fatalf("objectPath(%q, %q, %q, %q) = %q, outside %s/", source, kind, namespace, name, p, dir)
		}
		if err := checkLayerPath(layout.Workloads, p); err != nil {
			t.Fatalf("objectPath(%q, %q, %q, %q) = %q, which the layer check refuses: %v", source, kind, namespace, name, p, err)
		}
		b, err := toBundle([]object{{Path: p, Layer: layout.Workloads, YAML: []byte("kind: ConfigMap\n")}})
		if err != nil {
			t.Fatalf("bundle of %q: %v", p, err)
		}
		listed := map[string]bool{}
		for _, f := range b.Files {
			if path.Base(f.Path) != "kustomization.yaml" {
				continue
			}
			var k kusttypes.Kustomization
			if err := yaml.Unmarshal(f.Data, &k); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			for _, r := range k.Resources {
				listed[path.Join(path.Dir(f.Path), r)] = true
			}
		}
		for q := p; q != "workloads"; q = path.Dir(q) {
			if !listed[q] {
				t.Fatalf("%s is not listed by %s/kustomization.yaml (listed: %v)", q, path.Dir(q), sortedKeys(listed))
			}
		}
	})
}

// FuzzCheckLayerPath checks that checkLayerPath accepts, for any layer, only
// a clean relative path directly in one of that layer's folders: what a
// blueprint or a mixin writes cannot escape them either.
func FuzzCheckLayerPath(f *testing.F) {
	f.Add(layout.Workloads, "workloads/apps/x.yaml")
	f.Add(layout.Kubespray, "kubespray/group_vars/all/../../../x.yaml")
	f.Add(layout.Rook, "storage/rook/cluster/sub/x.yaml")
	f.Add(layout.Flux, "flux//x.yaml")
	f.Fuzz(func(t *testing.T, layer, p string) {
		if checkLayerPath(layer, p) != nil {
			return
		}
		if path.Clean(p) != p || path.IsAbs(p) || strings.ContainsAny(p, "\\\x00") || strings.Contains("/"+p+"/", "/../") {
			t.Fatalf("checkLayerPath(%q, %q) accepted a path that is not clean and relative", layer, p)
		}
		dir := path.Dir(p)
		for _, ld := range layout.Layers() {
			if ld.Name != layer {
				continue
			}
			for _, d := range ld.Dirs {
				if d == dir || strings.HasSuffix(d, "/*") && path.Dir(dir) == strings.TrimSuffix(d, "/*") && path.Base(dir) != ".." {
					return
				}
			}
		}
		t.Fatalf("checkLayerPath(%q, %q) accepted a path outside the layer's folders", layer, p)
	})
}

// TestMixinPathsStayInTheirLayer renders mixins that add files outside
// their layer's folders: each is refused before anything is built.
func TestMixinPathsStayInTheirLayer(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const cm = "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }"
	for _, tc := range []struct{ mixin, want string }{
		{"{ rook+: { 'storage/rook/cluster/../../../kubespray/group_vars/all/zz.yaml': " + cm + " } }",
			`"storage/rook/cluster/../../../kubespray/group_vars/all/zz.yaml": a bundle path must be relative, clean and use forward slashes`},
		{"{ access+: { 'access/sub/x.yaml': " + cm + " } }", "access/sub/x.yaml: the access layer may only write in access/"},
		{"{ rook+: { 'workloads/apps/x.yaml': " + cm + " } }", "workloads/apps/x.yaml: the rook layer may only write in storage/rook/operator/, storage/rook/cluster/"},
		{"{ flux+: { '/flux/x.yaml': " + cm + " } }", `"/flux/x.yaml": a bundle path must be relative`},
	} {
		mixin := filepath.Join(t.TempDir(), "m.jsonnet")
		if err := os.WriteFile(mixin, []byte(tc.mixin), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Render(context.Background(), f.Topology, Options{BaseDir: "../testdata", Mixins: []string{mixin}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("mixin %s: %v\nwant an error with %s", tc.mixin, err, tc.want)
		}
	}
}
