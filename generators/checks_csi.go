package generators

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	storagev1 "k8s.io/api/storage/v1"

	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// pinnedVersion is an exact chart version: no range, no wildcard.
var pinnedVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+$`)

// helmReleasesOf returns the HelmReleases of the bundle that install chart.
func helmReleasesOf(objs []object, chart string) []*flux.HelmRelease {
	var out []*flux.HelmRelease
	for _, r := range typedOf[*flux.HelmRelease](objs) {
		if r.Spec.Chart.Spec.Chart == chart {
			out = append(out, r)
		}
	}
	return out
}

// checkCSIDrivers checks the ceph-csi-drivers release that Rook v1.20 and
// newer needs: without it, or with a driver name other than the
// StorageClasses' provisioner, every PVC stays Pending.
func checkCSIDrivers(m *topology.Model, objs []object) []string {
	if m.Storage.CSIDrivers == nil {
		return nil
	}
	ns := m.Storage.Namespace
	rels := helmReleasesOf(objs, rook.CSIDriversChart)
	if len(rels) != 1 {
		return []string{fmt.Sprintf("storage/rook: want one HelmRelease of the %s chart, found %d; since Rook v1.20 the rook-ceph chart installs only the Ceph-CSI operator, and without the drivers every PVC stays Pending",
			rook.CSIDriversChart, len(rels))}
	}
	r := rels[0]
	where := pathOf(objs, r)
	var errs []string
	if r.Namespace != ns {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s must be in the operator namespace %s", where, r.Name, ns))
	}
	if v := r.Spec.Chart.Spec.Version; !pinnedVersion.MatchString(v) {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: spec.chart.spec.version %q is not a pinned version like %s", where, r.Name, v, topology.CSIDriversChartVersion))
	}
	var operator []string
	for _, o := range helmReleasesOf(objs, rook.OperatorChart) {
		if o.Namespace == r.Namespace {
			operator = append(operator, o.Name)
		}
	}
	if !slices.ContainsFunc(r.Spec.DependsOn, func(d flux.DependencyRef) bool {
		return (d.Namespace == "" || d.Namespace == r.Namespace) && slices.Contains(operator, d.Name)
	}) {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s must depend on the %s HelmRelease: the operator chart installs the CSI operator and its CRDs", where, r.Name, rook.OperatorChart))
	}
	ref := r.Spec.Chart.Spec.SourceRef
	refNS := ref.Namespace
	if refNS == "" {
		refNS = r.Namespace
	}
	found := false
	for _, repo := range typedOf[*flux.HelmRepository](objs) {
		if ref.Kind == "HelmRepository" && repo.Name == ref.Name && repo.Namespace == refNS {
			found = true
			want := m.Storage.CSIDrivers.Repository
			if strings.TrimSuffix(repo.Spec.URL, "/") != strings.TrimSuffix(want.URL, "/") {
				if want.Mirrored {
					errs = append(errs, fmt.Sprintf("%s: HelmRepository %s has url %q; spec.gitops.chartMirrors mirrors the %s chart at %s", pathOf(objs, repo), repo.Name, repo.Spec.URL, rook.CSIDriversChart, want.URL))
				} else {
					errs = append(errs, fmt.Sprintf("%s: HelmRepository %s has url %q; the %s chart is published at %s", pathOf(objs, repo), repo.Name, repo.Spec.URL, rook.CSIDriversChart, want.URL))
				}
			}
			if repo.Spec.Type != want.Type && !(want.Type == "" && repo.Spec.Type == "default") {
				errs = append(errs, fmt.Sprintf("%s: HelmRepository %s has type %q; its url %s needs type %q", pathOf(objs, repo), repo.Name, repo.Spec.Type, want.URL, want.Type))
			}
		}
	}
	if !found {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: its chart's source %s %s/%s is not in the bundle", where, r.Name, ref.Kind, refNS, ref.Name))
	}
	var values rook.CSIDriversValues
	if len(r.Spec.Values) > 0 {
		if err := json.Unmarshal(r.Spec.Values, &values); err != nil {
			return append(errs, fmt.Sprintf("%s: HelmRelease %s: spec.values: %v", where, r.Name, err))
		}
	}
	if values.OperatorConfig.Namespace != ns {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: values.operatorConfig.namespace is %q; it must be the operator namespace %s", where, r.Name, values.OperatorConfig.Namespace, ns))
	}
	if n := values.OperatorConfig.DriverSpecDefaults.ImageSet.Name; n != rook.CSIImageSetConfigMap {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: values.operatorConfig.driverSpecDefaults.imageSet.name is %q; the drivers read their images from Rook's %s", where, r.Name, n, rook.CSIImageSetConfigMap))
	}
	// The provisioners the StorageClasses name.
	used := map[string][]string{}
	for _, sc := range typedOf[*storagev1.StorageClass](objs) {
		used[sc.Provisioner] = append(used[sc.Provisioner], sc.Name)
	}
	registered := map[string]bool{}
	for _, d := range values.Drivers.Each() {
		field := "values.drivers." + d.Key
		if want := ns + "." + d.Key + ".csi.ceph.com"; d.Driver.Name != want {
			errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: %s.name is %q; Rook's provisioners are named %s", where, r.Name, field, d.Driver.Name, want))
		}
		switch {
		case d.Driver.Enabled:
			registered[d.Driver.Name] = true
			if len(used[d.Driver.Name]) == 0 {
				errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: %s is enabled, but no StorageClass of the bundle uses %s; disable it", where, r.Name, field, d.Driver.Name))
			}
		case len(used[d.Driver.Name]) > 0:
			errs = append(errs, fmt.Sprintf("%s: HelmRelease %s: %s is disabled, but StorageClass %s uses %s", where, r.Name, field, strings.Join(used[d.Driver.Name], ", "), d.Driver.Name))
		}
	}
	if !registered[m.Storage.Provisioner] {
		errs = append(errs, fmt.Sprintf("%s: HelmRelease %s registers no enabled driver named %s, the StorageClasses' provisioner: their PVCs would stay Pending", where, r.Name, m.Storage.Provisioner))
	}
	return errs
}
