package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// billingStream is a chart's output: a ConfigMap in billing, which nothing
// creates; a Service in the release namespace shop; a Role in audit, which
// its Namespace creates; and a ConfigMap in kube-system.
const billingStream = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rates, namespace: billing}\n---\n" +
	"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n---\n" +
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: audit}\n---\n" +
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: audit}\n---\n" +
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: kube-system}\n"

// TestPostRenderUncreatedNamespace checks NAMESPACE001 in post-render: an
// object in a namespace that neither a Namespace of Helm's output, the
// release namespace (-n, else HELM_NAMESPACE, else the kubeconfig
// context's) nor the cluster creates is an error-level risk at its line;
// post-render still writes every object and exits 0, as for SPREAD021.
func TestPostRenderUncreatedNamespace(t *testing.T) {
	t.Setenv(TopologyEnv, "")
	t.Setenv("KUBECONFIG", t.TempDir()+"/none") // the context's namespace is then default
	billing := "  NAMESPACE001 error   Namespace/billing (line 1): namespace billing is created by no Namespace object, " +
		"yet 1 object is in it (ConfigMap/rates): Helm cannot create them and the install or upgrade fails\n"
	shop := "  NAMESPACE001 error   Namespace/shop (line 5): namespace shop is created by no Namespace object, " +
		"yet 1 object is in it (Service/web): Helm cannot create them and the install or upgrade fails\n"
	for _, tc := range []struct {
		name, helmNamespace string
		args                []string
		want, not           []string
	}{
		{"release namespace by -n", "", []string{"-n", "shop"}, []string{billing}, []string{shop}},
		{"release namespace by --namespace over HELM_NAMESPACE", "billing", []string{"--namespace", "shop"}, []string{billing}, []string{shop}},
		{"release namespace from HELM_NAMESPACE", "shop", nil, []string{billing}, []string{shop}},
		{"release namespace default", "", nil, []string{billing, shop}, nil},
		{"billing is the release namespace", "", []string{"-n", "billing"}, []string{shop}, []string{billing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HELM_NAMESPACE", tc.helmNamespace)
			code, stdout, stderr := runStdin(billingStream, append([]string{"post-render", "-f", example}, tc.args...)...)
			if code != 0 || stdout != billingStream {
				t.Fatalf("exit %d, output\n%s\nwant exit 0 and the stream unchanged; stderr:\n%s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks\n%s\n%s", w, stderr)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has\n%s", n)
				}
			}
			if strings.Contains(stderr, "audit") || strings.Contains(stderr, "kube-system") {
				t.Errorf("a created namespace is reported:\n%s", stderr)
			}
		})
	}
}

// TestPostRenderReleaseNamespaceFromKubeconfig checks that, without -n and
// HELM_NAMESPACE, the release namespace is the kubeconfig context's, as
// Helm takes it; and that a kubeconfig that is a FIFO is not read (it
// would block every helm install): the release namespace is then default.
func TestPostRenderReleaseNamespaceFromKubeconfig(t *testing.T) {
	t.Setenv(TopologyEnv, "")
	t.Setenv("HELM_NAMESPACE", "")
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("apiVersion: v1\nkind: Config\ncurrent-context: c\n"+
		"contexts: [{name: c, context: {cluster: k, namespace: shop}}]\nclusters: [{name: k, cluster: {server: https://127.0.0.1:1}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kubeconfig, reported, not string
	}{
		{config, "Namespace/billing", "Namespace/shop"},
		{fifo, "Namespace/shop", ""},
	} {
		t.Setenv("KUBECONFIG", tc.kubeconfig)
		code, _, stderr := runStdin(billingStream, "post-render", "-f", example)
		if code != 0 || !strings.Contains(stderr, tc.reported) || tc.not != "" && strings.Contains(stderr, tc.not) {
			t.Errorf("KUBECONFIG=%s: exit %d, stderr:\n%s\nwant %s reported, not %q", filepath.Base(tc.kubeconfig), code, stderr, tc.reported, tc.not)
		}
	}
}

// TestFnUncreatedNamespace checks NAMESPACE001 in fn's transformer: one
// result per namespace that no item creates, with the rule's ID and
// severity in its tags, naming the objects; fn does not fail for it.
func TestFnUncreatedNamespace(t *testing.T) {
	var items strings.Builder
	for doc := range strings.SplitSeq(billingStream, "---\n") {
		items.WriteString("- " + strings.ReplaceAll(strings.TrimSuffix(doc, "\n"), "\n", "\n  ") + "\n")
	}
	in := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items.String() +
		"functionConfig: {apiVersion: stretch.dev/v1alpha1, kind: SpreadPolicy, metadata: {name: p}, spec: {dataZones: [sto1, sto2]}}\n"
	var stdout, stderr bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(in), Out: &stdout, ErrOut: &stderr}
	code := Run(context.Background(), streams, []string{"fn"})
	out := stdout.String()
	if code != 0 {
		t.Fatalf("fn: exit %d\n%s%s", code, out, stderr.String())
	}
	for _, ns := range []string{"billing", "shop"} {
		want := "- message: 'NAMESPACE001: namespace " + ns + " is created by no Namespace object, yet 1 object is in it"
		if !strings.Contains(out, want) {
			t.Errorf("no result for %s:\n%s", ns, out)
		}
	}
	if strings.Count(out, "id: NAMESPACE001") != 2 || strings.Count(out, "message: 'NAMESPACE001") != 2 ||
		!strings.Contains(out, "applying them fails until the namespace exists'\n  severity: warning\n  resourceRef:\n    kind: Namespace\n    name: billing\n  tags:\n    id: NAMESPACE001\n    severity: error\n") {
		t.Errorf("want two NAMESPACE001 results, warning to the function and error by tag:\n%s", out)
	}
}
