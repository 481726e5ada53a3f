package topology

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

func TestExampleIsValid(t *testing.T) {
	t.Parallel()
	f, err := Decode("example.yaml", Example())
	if err != nil {
		t.Fatalf("Decode:\n%v", err)
	}
	Default(f.Topology)
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate:\n%v", err)
	}
	// The example spells out every default, so defaulting changes nothing.
	decoded, err := Decode("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded.Topology, f.Topology) {
		t.Errorf("the example leaves defaulted fields out:\n%+v\ndefaulted:\n%+v", *decoded.Topology, *f.Topology)
	}
}

func TestExampleDocumentsEveryField(t *testing.T) {
	t.Parallel()
	for _, field := range []string{
		"apiVersion", "kind", "metadata", "name", "spec", "kubernetes", "version", "apiEndpoint",
		"podSubnet", "serviceSubnet", "network", "encryption", "allowUnencrypted", "underlayMTU",
		"interRegionRTTms", "adminCIDRs", "regions", "role", "nodes", "ip", "publicIP", "roles",
		"cpu", "memory", "devices", "storage", "rook", "namespace", "ceph", "image", "dataDirHostPath",
		"blockPools", "storageClass", "default", "reclaimPolicy", "workloads", "minReplicas", "sources",
		"path", "kustomize", "helm", "chart", "release", "valuesFiles", "ingress", "host", "healthPath",
		"gitops", "sourceName", "chartMirrors", "url",
	} {
		if !bytes.Contains(Example(), []byte(field+":")) {
			t.Errorf("the example does not show field %s", field)
		}
	}
}

func TestExampleReturnsACopy(t *testing.T) {
	t.Parallel()
	a := Example()
	a[0] = '!'
	if Example()[0] == '!' {
		t.Error("Example returns the embedded bytes, not a copy")
	}
}

// TestExampleWorkloads keeps init's example workloads the same as the
// bundled example's, and checks that the example topology's source is
// where init writes them.
func TestExampleWorkloads(t *testing.T) {
	t.Parallel()
	bundled, err := os.ReadFile("../../testdata/apps/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ExampleWorkloads(), bundled) {
		t.Error("example-apps.yaml differs from testdata/apps/shop.yaml: copy it over")
	}
	f, err := Decode("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Topology.Spec.Workloads.Sources; len(s) != 1 || s[0].Path != ExampleWorkloadsPath {
		t.Errorf("the example's sources are %+v, want one path %s", s, ExampleWorkloadsPath)
	}
}
