package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evictionTopology sets spec.workloads.evictionSeconds: 30.
const evictionTopology = "../../../testdata/topologies/valid/eviction.yaml"

// evictionDeployment is a Deployment render would patch.
const evictionDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`

// TestEvictionSecondsThroughTheDoors checks that post-render and lint
// read spec.workloads.evictionSeconds from the topology as render does:
// post-render writes the tolerations, lint reports SPREAD023, and without
// evictionSeconds neither does.
func TestEvictionSecondsThroughTheDoors(t *testing.T) {
	t.Parallel()
	postRender := func(topo string) (int, string, string) {
		return runStdin(evictionDeployment, "post-render", "-q", "-f", topo)
	}
	code, out, errOut := postRender(evictionTopology)
	if code != ExitOK || strings.Count(out, "tolerationSeconds: 30") != 2 ||
		!strings.Contains(out, "key: node.kubernetes.io/unreachable") || !strings.Contains(out, "key: node.kubernetes.io/not-ready") {
		t.Errorf("post-render with evictionSeconds 30: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if code, out, errOut := postRender(example); code != ExitOK || strings.Contains(out, "tolerations") {
		t.Errorf("post-render without evictionSeconds: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(evictionDeployment), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = run(t, "lint", "-f", evictionTopology, dir)
	if !strings.Contains(out, "SPREAD023") {
		t.Errorf("lint with evictionSeconds 30 does not report SPREAD023:\n%s", out)
	}
	_, out, _ = run(t, "lint", "-f", example, dir)
	if strings.Contains(out, "SPREAD023") {
		t.Errorf("lint without evictionSeconds reports SPREAD023:\n%s", out)
	}
}
