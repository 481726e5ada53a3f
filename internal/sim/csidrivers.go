package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CSIDriversChart is the chart of the HelmRelease that installs Ceph CSI's
// drivers (Rook v1.20 and later).
const CSIDriversChart = "ceph-csi-drivers"

// csiDriverKeys are the drivers of the ceph-csi-drivers chart's values
// (drivers.<key>.enabled and drivers.<key>.name).
var csiDriverKeys = []string{"cephfs", "nfs", "nvmeof", "rbd"}

var helmReleaseResource = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}

// CSIDriversOf returns the names of the CSI drivers a HelmRelease of the
// ceph-csi-drivers chart installs: each drivers.<key>.name of its values
// whose drivers.<key>.enabled is true, sorted. It returns nil for a
// release of another chart.
func CSIDriversOf(release *unstructured.Unstructured) []string {
	chart, _, _ := unstructured.NestedString(release.Object, "spec", "chart", "spec", "chart")
	if chart != CSIDriversChart {
		return nil
	}
	var out []string
	for _, key := range csiDriverKeys {
		enabled, _, _ := unstructured.NestedBool(release.Object, "spec", "values", "drivers", key, "enabled")
		name, _, _ := unstructured.NestedString(release.Object, "spec", "values", "drivers", key, "name")
		if enabled && name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CSIDriverObject is the CSIDriver object Ceph CSI's operator registers for
// a driver, labelled as simulated. Like ceph-csi's RBD and CephFS drivers
// it needs attachment and no pod information on mount.
func CSIDriverObject(name string) *storagev1.CSIDriver {
	attach, podInfo := true, false
	policy := storagev1.FileFSGroupPolicy
	return &storagev1.CSIDriver{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelSimulated: "true"}},
		Spec:       storagev1.CSIDriverSpec{AttachRequired: &attach, PodInfoOnMount: &podInfo, FSGroupPolicy: &policy},
	}
}

// HelmReleaseOf returns the name and namespace of the Helm release a Flux
// HelmRelease installs, as helm-controller names it: spec.releaseName, else
// <spec.targetNamespace>-<name> when a target namespace is set, else the
// HelmRelease's name; in spec.targetNamespace, else its own namespace.
func HelmReleaseOf(release *unstructured.Unstructured) (name, namespace string) {
	name, _, _ = unstructured.NestedString(release.Object, "spec", "releaseName")
	target, _, _ := unstructured.NestedString(release.Object, "spec", "targetNamespace")
	namespace = release.GetNamespace()
	if target != "" {
		namespace = target
	}
	if name == "" {
		name = release.GetName()
		if target != "" {
			name = target + "-" + name
		}
	}
	return name, namespace
}

// CSIDriverObjectFor is CSIDriverObject as the ceph-csi-drivers chart of the
// HelmRelease release would install it: with Helm's ownership label and
// annotations, so that when Flux's helm-controller installs the chart for
// real it adopts the object instead of refusing to replace it.
func CSIDriverObjectFor(name string, release *unstructured.Unstructured) *storagev1.CSIDriver {
	d := CSIDriverObject(name)
	if release == nil {
		return d
	}
	relName, relNamespace := HelmReleaseOf(release)
	d.Labels["app.kubernetes.io/managed-by"] = "Helm"
	d.Annotations = map[string]string{
		"meta.helm.sh/release-name":      relName,
		"meta.helm.sh/release-namespace": relNamespace,
	}
	return d
}

// reconcileCSIDrivers plays the ceph-csi-drivers chart and Ceph CSI's
// operator until Flux's helm-controller runs in the simulation: the
// drivers that the applied HelmReleases of the chart enable get a CSIDriver
// object, and the simulated CSIDrivers no such release enables any longer
// are deleted, as uninstalling the release would. A release annotated
// AnnotationIgnore=true is left out. Without the release no driver is
// registered, and reconcileCSI provisions no volume. A CSIDriver it
// registers for a release carries Helm's ownership metadata of that
// release (CSIDriverObjectFor), so that a real helm-controller installing
// the chart later adopts it. Before Rook v1.20
// (no release in the model) the RBD driver is registered as the Rook
// operator would.
func (o *Operators) reconcileCSIDrivers(ctx context.Context) error {
	releases, err := o.list(ctx, helmReleaseResource)
	if err != nil {
		return err
	}
	// want maps each driver to register to the release that enables it
	// (nil: the Rook operator's own driver).
	want := map[string]*unstructured.Unstructured{}
	if o.model.Storage.CSIDrivers == nil {
		// Before Rook v1.20 the Rook operator deploys the drivers itself.
		want[o.model.Storage.Provisioner] = nil
	}
	if releases != nil {
		for i := range releases.Items {
			r := &releases.Items[i]
			if ignored(r.GetAnnotations()) {
				continue
			}
			for _, name := range CSIDriversOf(r) {
				if _, dup := want[name]; !dup {
					want[name] = r
				}
			}
		}
	}
	have, err := o.client.StorageV1().CSIDrivers().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list CSI drivers: %w", err)
	}
	var errs []error
	for i := range have.Items {
		d := &have.Items[i]
		if _, ok := want[d.Name]; ok {
			delete(want, d.Name)
			continue
		}
		if d.Labels[LabelSimulated] != "true" {
			continue
		}
		err := o.client.StorageV1().CSIDrivers().Delete(ctx, d.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete CSI driver %s: %w", d.Name, err))
			continue
		}
		o.logf("deregistered CSI driver %s: no %s release enables it (simulated Ceph CSI operator)", d.Name, CSIDriversChart)
	}
	var names []string
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		_, err := o.client.StorageV1().CSIDrivers().Create(ctx, CSIDriverObjectFor(name, want[name]), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("register CSI driver %s: %w", name, err))
			continue
		}
		o.logf("registered CSI driver %s (simulated Ceph CSI operator, for the %s release)", name, CSIDriversChart)
	}
	return errors.Join(errs...)
}

// driverRegistered reports whether a CSIDriver named name exists.
func (o *Operators) driverRegistered(ctx context.Context, name string) (bool, error) {
	_, err := o.client.StorageV1().CSIDrivers().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get CSI driver %s: %w", name, err)
	}
	return true, nil
}
