package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
)

// exampleCopy copies the example topology and its apps folder into a temporary
// folder, with files added and the workload sources replaced (see
// testenv.ExampleCopy), and returns the topology file's path.
func exampleCopy(t *testing.T, sources string, files map[string]string) string {
	t.Helper()
	return testenv.ExampleCopy(t, "../../..", sources, files)
}

// TestRenderRefusesHostileSources renders topologies whose workloads
// would write outside their folder or read what they must not: each exits
// 1 with the file, line and field, and writes nothing.
func TestRenderRefusesHostileSources(t *testing.T) {
	t.Parallel()
	const escape = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../../../kubespray/group_vars/all/zz\n  namespace: shop\ndata:\n  ansible_ssh_common_args: '-o ProxyCommand=touch /tmp/pwned'\n"
	const chart = "apiVersion: v2\nname: web\nversion: 1.0.0\n"
	for _, tc := range []struct {
		name    string
		sources string
		files   map[string]string
		want    string // after the topology's folder
	}{
		{"name escapes", "", map[string]string{"apps/zz.yaml": escape},
			`/apps/zz.yaml:4:9: ConfigMap shop/../../../../kubespray/group_vars/all/zz: metadata.name: "../../../../kubespray/group_vars/all/zz" is not a valid name: may not contain '/'`},
		{"kind with a slash", "", map[string]string{"apps/zz.yaml": "apiVersion: v1\nkind: a/b\nmetadata: {name: x, namespace: shop}\n"},
			`/apps/zz.yaml:2:7: a/b shop/x: kind: "a/b" is not a valid kind`},
		{"release with ../", "    - {name: web, helm: {chart: chart, release: ../web, namespace: web}}\n", map[string]string{"chart/Chart.yaml": chart},
			`/topology.yaml:50:49: spec.workloads.sources[0].helm.release: "../web" is not a DNS-1123 subdomain`},
		{"chart names an object with ../", "    - {name: web, helm: {chart: chart, release: web, namespace: web}}\n", map[string]string{
			"chart/Chart.yaml": chart, "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}/../../x\n"},
			`source web: document 2 (line 11, column 9, ConfigMap web/../../x): metadata.name: "web/../../x" is not a valid name: may not contain '/'`},
		{"chart not reproducible", "    - {name: web, helm: {chart: chart, release: web, namespace: web}}\n", map[string]string{
			"chart/Chart.yaml": chart, "chart/templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: pass, namespace: web}\nstringData: {password: {{ randAlphaNum 16 | quote }}}\n"},
			`source web: helm chart chart is not reproducible: two renders differ in "Secret web/pass"`},
		{"source path is the topology's folder", "    - path: .\n", map[string]string{"web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"},
			`/topology.yaml:50:13: spec.workloads.sources[0].path: workloads folder `},
		{"chart URL", "    - {name: web, helm: {chart: \"oci://registry.example/web\", release: web, namespace: web}}\n", nil,
			`/topology.yaml:50:33: spec.workloads.sources[0].helm.chart: helm chart oci://registry.example/web: charts must be local folders or .tgz archives; vendor the chart`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := exampleCopy(t, tc.sources, tc.files)
			out := filepath.Join(t.TempDir(), "bundle")
			code, stdout, stderr := run(t, "render", "-f", file, "-o", out)
			if code != ExitFailed || stdout != "" || !strings.Contains(stderr, filepath.Dir(file)+tc.want) && !strings.Contains(stderr, tc.want) {
				t.Errorf("code %d, stdout %q\nstderr:\n%s\nwant exit 1 and %s", code, stdout, stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused render created %s", out)
			}
		})
	}
}

// TestRenderRefusesRemoteBases checks that a kustomize source with a
// remote base is refused before anything is fetched, naming the flag.
func TestRenderRefusesRemoteBases(t *testing.T) {
	t.Parallel()
	file := exampleCopy(t, "    - {name: k, kustomize: k}\n", map[string]string{
		"k/kustomization.yaml": "resources:\n- https://github.com/example/repo//deploy?ref=v1.0.0\n",
	})
	out := filepath.Join(t.TempDir(), "bundle")
	code, _, stderr := run(t, "render", "-f", file, "-o", out)
	want := "https://github.com/example/repo//deploy?ref=v1.0.0 is a remote base or resource, which kustomize would fetch over the network: vendor it into the repository, or pass --allow-remote-bases"
	if code != ExitFailed || !strings.Contains(stderr, want) {
		t.Errorf("code %d\nstderr:\n%s\nwant exit 1 and %s", code, stderr, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused render created %s", out)
	}
	at := file + ":50:28: spec.workloads.sources[0].kustomize: "
	code, _, stderr = run(t, "validate", "-f", file)
	if code != ExitFailed || !strings.HasPrefix(stderr, at) || !strings.Contains(stderr, want) {
		t.Errorf("validate: code %d\nstderr:\n%s\nwant exit 1 and %s...%s", code, stderr, at, want)
	}
	if code, stdout, stderr := run(t, "validate", "--allow-remote-bases", "-f", file); code != ExitOK {
		t.Errorf("validate --allow-remote-bases: code %d\nstdout %s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestValidateRefusesOutsideLinks checks that a symbolic link in a
// workloads folder to a file outside it is refused at the source's field,
// and that the file's content never reaches the message.
func TestValidateRefusesOutsideLinks(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(secret, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := exampleCopy(t, "", nil)
	link := filepath.Join(filepath.Dir(file), "apps", "passwd.yaml")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	want := file + ":50:13: spec.workloads.sources[0].path: " + link + ": a symbolic link to " + secret + ", outside "
	for _, args := range [][]string{{"validate", "-f", file}, {"render", "-f", file, "-o", filepath.Join(t.TempDir(), "out")}} {
		code, _, stderr := run(t, args...)
		if code != ExitFailed || !strings.HasPrefix(stderr, want) || strings.Contains(stderr, "root:x") {
			t.Errorf("%s: code %d\nstderr:\n%s\nwant exit 1 and %s", args[0], code, stderr, want)
		}
	}
}

// TestPostRenderEmptyInput runs post-render as Helm 3 does for a chart
// with no objects: empty input gives empty output and exit 0.
func TestPostRenderEmptyInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "\n", "---\n", "# Source: web/templates/none.yaml\n---\n"} {
		streams, stdin, out, errOut := genericiooptions.NewTestIOStreams()
		stdin.WriteString(in)
		code := Run(context.Background(), streams, []string{"post-render", "-q", "-f", example})
		if code != ExitOK || out.Len() != 0 || errOut.Len() != 0 {
			t.Errorf("input %q: code %d, stdout %q, stderr %q; want 0 and nothing", in, code, out, errOut)
		}
	}
}
