package sim

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// annotationDefaultClass marks the default StorageClass.
const annotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// reconcileCSI plays Ceph CSI's provisioner: once the RBD driver is
// registered (a CSIDriver named like the topology's RBD provisioner, see
// reconcileCSIDrivers), every pending claim on a StorageClass of that
// provisioner whose pool (parameters pool, in the CephCluster of
// parameters clusterID) is an applied CephBlockPool the simulated Rook
// has made Ready gets a PersistentVolume
// made for it (labelled as simulated, with no node affinity, as an RBD
// image is reachable from both data regions), and the controller-manager's
// volume binder binds the two. Without it, a StatefulSet's pods would stay
// Pending forever in the simulated cluster.
func (o *Operators) reconcileCSI(ctx context.Context) error {
	classes, err := o.client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list storage classes: %w", err)
	}
	ours := map[string]*storagev1.StorageClass{}
	defaultClass := ""
	for i := range classes.Items {
		sc := &classes.Items[i]
		if sc.Provisioner != o.model.Storage.Provisioner {
			continue
		}
		ours[sc.Name] = sc
		if sc.Annotations[annotationDefaultClass] == "true" {
			defaultClass = sc.Name
		}
	}
	if len(ours) == 0 {
		return nil
	}
	// Without the driver (the ceph-csi-drivers release not applied) the
	// claims stay Pending, as on a real cluster.
	if ok, err := o.driverRegistered(ctx, o.model.Storage.Provisioner); !ok || err != nil {
		return err
	}
	pools, err := o.readyPools(ctx)
	if err != nil {
		return err
	}
	claims, err := o.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	var errs []error
	for i := range claims.Items {
		pvc := &claims.Items[i]
		class := defaultClass
		if pvc.Spec.StorageClassName != nil {
			class = *pvc.Spec.StorageClassName
		}
		sc, ok := ours[class]
		if !ok || pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" {
			continue
		}
		// Ceph CSI creates the RBD image in the class's pool: without
		// that pool, Ready in Ceph, the claim stays Pending.
		if !pools[sc.Parameters["clusterID"]+"/"+sc.Parameters["pool"]] {
			continue
		}
		errs = append(errs, o.provision(ctx, pvc, sc))
	}
	return errors.Join(errs...)
}

// provision creates the PersistentVolume of one claim.
func (o *Operators) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass) error {
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	name := "pvc-" + string(pvc.UID)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{LabelSimulated: "true"},
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": sc.Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				CSI: &corev1.CSIPersistentVolumeSource{Driver: sc.Provisioner, VolumeHandle: "simulated-" + string(pvc.UID), FSType: "ext4"},
			},
		},
	}
	_, err := o.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("provision %s for claim %s/%s: %w", name, pvc.Namespace, pvc.Name, err)
	}
	o.logf("provisioned %s for claim %s/%s (simulated Ceph CSI)", name, pvc.Namespace, pvc.Name)
	return nil
}

// readyPools returns the Ceph pools that exist, as "<namespace>/<pool>":
// every CephBlockPool with status.phase Ready and not being deleted, by its
// Ceph name (spec.name, else metadata.name). Ceph CSI's clusterID is the
// namespace of the CephCluster in a Rook StorageClass.
func (o *Operators) readyPools(ctx context.Context) (map[string]bool, error) {
	list, err := o.list(ctx, cephBlockPoolResource)
	if err != nil || list == nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range list.Items {
		phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
		if phase != "Ready" || p.GetDeletionTimestamp() != nil {
			continue
		}
		name, _, _ := unstructured.NestedString(p.Object, "spec", "name")
		if name == "" {
			name = p.GetName()
		}
		out[p.GetNamespace()+"/"+name] = true
	}
	return out, nil
}
