package topology

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// The names of the HelmRepositories the bundle writes.
const (
	RookRepositoryName = "rook-release"
	CSIRepositoryName  = "ceph-csi-operator"
)

// HelmRepositoryModel is a HelmRepository of the bundle: its upstream
// address, or the mirror the topology names for it.
type HelmRepositoryModel struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Type is "oci" for an OCI registry, empty for a Helm repository
	// (Flux's HelmRepository spec.type, default "default").
	Type string `json:"type,omitempty"`
	// Mirrored says the topology replaced the upstream address.
	Mirrored bool `json:"mirrored"`
}

// chartRepository is one Helm repository the bundle may install from.
type chartRepository struct {
	name     string
	upstream string
	// needsCSIDrivers: only bundles with the ceph-csi-drivers release
	// (Rook v1.20 and newer) have it.
	needsCSIDrivers bool
}

// chartRepositories are the Helm repositories of the bundle, in order.
var chartRepositories = []chartRepository{
	{name: RookRepositoryName, upstream: rook.OperatorRepoURL},
	{name: CSIRepositoryName, upstream: rook.CSIOperatorRepoURL, needsCSIDrivers: true},
}

// chartRepositoryNames lists the repositories a bundle with or without the
// CSI drivers release has.
func chartRepositoryNames(csiDrivers bool) []string {
	var out []string
	for _, r := range chartRepositories {
		if !r.needsCSIDrivers || csiDrivers {
			out = append(out, r.name)
		}
	}
	return out
}

// helmRepository returns the bundle's HelmRepository name: its upstream
// address unless gitops.chartMirrors names a mirror for it.
func helmRepository(g v1alpha1.GitOps, name string) HelmRepositoryModel {
	out := HelmRepositoryModel{Name: name}
	for _, r := range chartRepositories {
		if r.name == name {
			out.URL = r.upstream
		}
	}
	for _, m := range g.ChartMirrors {
		if m.Name == name {
			out.URL, out.Mirrored = m.URL, true
			if strings.HasPrefix(m.URL, "oci://") {
				out.Type = "oci"
			}
		}
	}
	return out
}

// CheckChartMirrorURL checks a chart mirror's address: an absolute http,
// https or oci URL with a host, no credentials (they belong in a Secret
// that the HelmRepository's secretRef names), no query or fragment.
func CheckChartMirrorURL(s string) error {
	if s == "" {
		return fmt.Errorf("required, like https://charts.example.internal/rook")
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("%s contains white space", quote(s))
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%s contains a control character or is not UTF-8", quote(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s is not a URL", quote(s))
	}
	switch u.Scheme {
	case "http", "https", "oci":
	default:
		return fmt.Errorf("%s: the scheme must be http, https or oci, got %s", quote(s), quote(u.Scheme))
	}
	switch {
	case u.Opaque != "" || u.Host == "":
		return fmt.Errorf("%s names no host, like %s://charts.example.internal", quote(s), u.Scheme)
	case u.User != nil:
		// The value is not repeated: it holds a secret.
		return fmt.Errorf("the URL holds credentials (user information before @): put them in a Secret that the HelmRepository's secretRef names, never in the topology")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%s has a query or fragment; a chart repository's address has neither", quote(s))
	case u.Hostname() == "":
		return fmt.Errorf("%s names no host", quote(s))
	}
	return nil
}

// chartMirrors validates spec.gitops.chartMirrors: known repository
// names, each at most once, and valid addresses.
func (v *validator) chartMirrors() {
	g := v.t.Spec.GitOps
	csi := rookAtLeast(v.t.Spec.Storage.Rook.Version, 1, 20)
	known := chartRepositoryNames(csi)
	seen := map[string]int{}
	for i, m := range g.ChartMirrors {
		field := fmt.Sprintf("spec.gitops.chartMirrors[%d]", i)
		switch {
		case m.Name == "":
			v.errorf(field+".name", "required: the bundle's HelmRepository the mirror replaces, %s", enumList(known, "or"))
		case !slices.Contains(known, m.Name) && !csi && slices.Contains(chartRepositoryNames(true), m.Name):
			v.errorf(field+".name", "the bundle has no HelmRepository %s with Rook %s: before v1.20 the Rook operator deploys the CSI drivers itself; it has %s", quote(m.Name), v.t.Spec.Storage.Rook.Version, enumList(known, "and"))
		case !slices.Contains(known, m.Name):
			v.errorf(field+".name", "the bundle has no HelmRepository %s; it has %s", quote(m.Name), enumList(known, "and"))
		default:
			if j, dup := seen[m.Name]; dup {
				v.errorf(field+".name", "%s is mirrored twice, also at spec.gitops.chartMirrors[%d]", quote(m.Name), j)
			} else {
				seen[m.Name] = i
			}
		}
		if err := CheckChartMirrorURL(m.URL); err != nil {
			v.errorf(field+".url", "%v", err)
		}
	}
}

// cloneGitOps copies g, its mirrors included.
func cloneGitOps(g v1alpha1.GitOps) v1alpha1.GitOps {
	g.ChartMirrors = slices.Clone(g.ChartMirrors)
	return g
}
