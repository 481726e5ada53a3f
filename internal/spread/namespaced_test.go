package spread

import (
	"slices"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
)

// TestNamespaced checks Result.Namespaced: the objects that set a
// namespace and the Namespaces, in input order with their lines, from
// Patch and from PatchStream, also when the stream is read in chunks.
func TestNamespaced(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rates, namespace: billing}\n---\n" +
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view}\n---\n" +
		"# a comment\napiVersion: v1\nkind: Secret\nmetadata: {name: key, namespace: audit}\n")
	want := []ObjectRef{
		{Kind: "Namespace", Name: "shop", Line: 1},
		{Kind: "ConfigMap", Namespace: "billing", Name: "rates", Line: 5},
		{Kind: "Secret", Namespace: "audit", Name: "key", Line: 14},
	}
	_, res, err := PatchStream(in, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Namespaced, want) {
		t.Errorf("PatchStream: Namespaced = %+v\nwant %+v", res.Namespaced, want)
	}
	objs, err := Read(in)
	if err != nil {
		t.Fatal(err)
	}
	res, err = Patch(objs, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Namespaced, want) {
		t.Errorf("Patch: Namespaced = %+v\nwant %+v", res.Namespaced, want)
	}

	corpus := spreadtest.Corpus(2000, 500)
	_, res, err = PatchStream(corpus, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Namespaced); n != 2500 || res.Namespaced[0].Name != "app-0000" || res.Namespaced[2499].Name != "db-0499" ||
		res.Namespaced[1].Line <= res.Namespaced[0].Line {
		t.Errorf("the corpus: %d namespaced objects, first %+v, last %+v; want 2500 in order", n, res.Namespaced[0], res.Namespaced[n-1])
	}
}
