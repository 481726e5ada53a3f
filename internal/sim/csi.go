package sim

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// annotationDefaultClass marks the default StorageClass.
const annotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// reconcileCSI plays Ceph CSI's provisioner: once the RBD driver is
// registered (a CSIDriver named like the topology's RBD provisioner, see
// reconcileCSIDrivers), every pending claim on a StorageClass of that
// provisioner gets a PersistentVolume
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
