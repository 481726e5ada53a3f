package topology

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

func TestHelmRepositoryMirrors(t *testing.T) {
	g := v1alpha1.GitOps{ChartMirrors: []v1alpha1.ChartMirror{
		{Name: CSIRepositoryName, URL: "oci://registry.example.internal/charts"},
	}}
	rook := helmRepository(g, RookRepositoryName)
	if rook != (HelmRepositoryModel{Name: RookRepositoryName, URL: "https://charts.rook.io/release"}) {
		t.Errorf("an unmirrored repository is %+v, want its upstream address", rook)
	}
	csi := helmRepository(g, CSIRepositoryName)
	if csi != (HelmRepositoryModel{Name: CSIRepositoryName, URL: "oci://registry.example.internal/charts", Type: "oci", Mirrored: true}) {
		t.Errorf("the OCI mirror gives %+v", csi)
	}
	g.ChartMirrors[0].URL = "http://127.0.0.1:8080"
	if csi := helmRepository(g, CSIRepositoryName); csi.Type != "" || csi.URL != "http://127.0.0.1:8080" {
		t.Errorf("an http mirror gives %+v", csi)
	}
}

func TestModelUsesTheMirrors(t *testing.T) {
	f, err := Load("../../testdata/topologies/valid/all-fields.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(f.Topology)
	if got := m.Storage.RookRepository; got.URL != "https://charts.mirror.example.internal/rook-release" || !got.Mirrored {
		t.Errorf("rook repository %+v", got)
	}
	if m.Storage.CSIDrivers == nil {
		t.Fatal("no CSI drivers release")
	}
	if got := m.Storage.CSIDrivers.Repository; got.URL != "oci://registry.example.internal/charts" || got.Type != "oci" {
		t.Errorf("CSI repository %+v", got)
	}
	// The model holds its own copy of the mirrors.
	f.Topology.Spec.GitOps.ChartMirrors[0].URL = "changed"
	if m.GitOps.ChartMirrors[0].URL == "changed" {
		t.Error("the model shares the topology's mirrors")
	}
}

func TestCheckChartMirrorURL(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8879", "https://charts.example.internal/rook", "oci://registry.example.internal/charts", "https://[fd00::1]:8443/x"} {
		if err := CheckChartMirrorURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                              "required",
		"charts.example.internal":       "scheme",
		"file:///srv/charts":            "scheme",
		"https://":                      "no host",
		"https:charts":                  "no host",
		"https://u:p@host/x":            "credentials",
		"https://host/x?y=1":            "query",
		"https://host/x#top":            "fragment",
		" https://host":                 "white space",
		"https://ho st":                 "white space",
		"https://host:port/":            "not a URL",
		"https://host/\xff":             "not UTF-8",
		"https://host/\x7f":             "control character",
		"HTTPS://charts.example.intern": "",
	} {
		err := CheckChartMirrorURL(bad)
		if want == "" {
			continue // url.Parse lowercases the scheme: accepted
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one that says %q", bad, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "p@host") {
			t.Errorf("%q: the error repeats the credentials: %v", bad, err)
		}
	}
}

func FuzzCheckChartMirrorURL(f *testing.F) {
	for _, s := range []string{"https://charts.example.internal/rook", "oci://r.example/c", "http://u:p@h", "https://h/?q", "ftp://h", "https:///x", "http://[::1]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckChartMirrorURL(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("%q accepted but url.Parse fails: %v", s, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "oci" {
			t.Fatalf("%q accepted with scheme %q", s, u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q accepted: host %q, user %v, query %q, fragment %q", s, u.Hostname(), u.User, u.RawQuery, u.Fragment)
		}
	})
}
