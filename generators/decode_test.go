package generators

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/strict"
)

func TestDecodeFilesErrors(t *testing.T) {
	t.Parallel()
	felix := func(spec string) json.RawMessage {
		return json.RawMessage(`{"apiVersion":"crd.projectcalico.org/v1","kind":"FelixConfiguration","metadata":{"name":"default"},"spec":` + spec + `}`)
	}
	for _, tc := range []struct {
		name  string
		files map[string]json.RawMessage
		want  string
	}{
		{"unknown field", map[string]json.RawMessage{"network/calico/f.yaml": felix(`{"wireguardEnable":true}`)},
			`network/calico/f.yaml: spec.wireguardEnable: unknown field`},
		{"unknown field in a list", map[string]json.RawMessage{"network/calico/cm.yaml": json.RawMessage(
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a"},{"name":"b","imag":"x"}]}}`)},
			`network/calico/cm.yaml: spec.containers[1].imag: unknown field`},
		{"mistyped field", map[string]json.RawMessage{"network/calico/f.yaml": felix(`{"wireguardMTU":"big"}`)},
			`network/calico/f.yaml: spec.wireguardMTU: expected int, got string`},
		{"several files", map[string]json.RawMessage{
			"network/calico/b.yaml": felix(`{"x":1}`),
			"network/calico/a.yaml": felix(`{"y":1}`),
		}, "2 files are invalid:\n  network/calico/a.yaml: spec.y: unknown field\n  network/calico/b.yaml: spec.x: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeFiles(layout.Calico, tc.files)
			if err == nil {
				t.Fatal("decodeFiles accepted the files")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
			var fe *strict.FieldError
			if !errors.As(err, &fe) || errors.Unwrap(fe) == nil {
				t.Errorf("the decoder's error is not reachable: %#v", err)
			}
		})
	}
}

func TestJsonnetErrorKeepsCause(t *testing.T) {
	t.Parallel()
	e, err := newEngine("", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.eval("t", "error 'boom'", []byte("{}"), nil)
	var je *jsonnetError
	if !errors.As(err, &je) || errors.Unwrap(err) == nil {
		t.Fatalf("the Jsonnet error is not reachable: %#v", err)
	}
	if want := "jsonnet: RUNTIME ERROR: boom"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// A kind no row of the layer table knows, and a Kubespray file the row
// does not list, are refused naming what the table allows.
func TestDecodeFilesNamesTheTable(t *testing.T) {
	t.Parallel()
	_, err := decodeFiles(layout.Calico, map[string]json.RawMessage{
		"network/calico/x.yaml": json.RawMessage(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`)})
	want := "network/calico/x.yaml: example.com/v1 Widget is not a kind the bundle knows: use a built-in Kubernetes kind or one of " +
		"crd.projectcalico.org/v1 FelixConfiguration, ceph.rook.io/v1 CephCluster, ceph.rook.io/v1 CephBlockPool, " +
		"source.toolkit.fluxcd.io/v1 HelmRepository, helm.toolkit.fluxcd.io/v2 HelmRelease, kustomize.toolkit.fluxcd.io/v1 Kustomization"
	if err == nil || err.Error() != want {
		t.Errorf("unknown kind: %v\nwant %s", err, want)
	}
	_, err = decodeFiles(layout.Kubespray, map[string]json.RawMessage{"kubespray/extra.yml": json.RawMessage(`{}`)})
	want = "kubespray/extra.yml: not a file the kubespray layer knows (known: kubespray/hosts.yaml, kubespray/group_vars/all/etcd.yml, " +
		"kubespray/group_vars/k8s_cluster/k8s-cluster.yml, kubespray/group_vars/k8s_cluster/k8s-net-calico.yml)"
	if err == nil || err.Error() != want {
		t.Errorf("unknown Kubespray file: %v\nwant %s", err, want)
	}
}
