package krm

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
)

// FuzzResourceList checks that no ResourceList on standard input makes the
// function panic, and that what it writes when it succeeds is a
// ResourceList again. Workload sources resolve in an empty folder, so that
// a generator input reads nothing of the repository.
func FuzzResourceList(f *testing.F) {
	f.Add([]byte(resourceList("    dataZones: [a, b]\n    minReplicas: 3\n")))
	f.Add([]byte(resourceList("    dataZones: [a, b]\n    minReplicas: 0\n")))
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"))
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n" +
		"functionConfig: {apiVersion: stretch.dev/v1alpha1, kind: SpreadPolicy, metadata: {name: p}, spec: {dataZones: [a, b]}}\n"))
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig: {apiVersion: stretch.dev/v1alpha1, kind: Topology}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("\xff\xfe"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		rw := &kio.ByteReadWriter{Reader: bytes.NewReader(in), Writer: &out}
		if err := Execute(dir, rw); err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if out.Len() == 0 {
			return // kio writes nothing for an input without items or results
		}
		if !strings.Contains(out.String(), "kind: ResourceList") {
			t.Fatalf("output is not a ResourceList:\n%s", out.String())
		}
	})
}
