package drill

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// claimNames returns the PersistentVolumeClaims a pod mounts by name (a
// generic ephemeral volume's claim belongs to the pod and is made anew for
// its replacement: it is not counted).
func claimNames(p *corev1.Pod) []string {
	var out []string
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return out
}

// volumeState is the VolumeBinding filter's view of the replacement being
// placed: the claims the snapshot lacks and the bound volumes with a
// required node affinity.
type volumeState struct {
	missing []string
	pinned  []*corev1.PersistentVolume
}

// volumesOf computes the state once per replacement.
func (c *cluster) volumesOf(p *corev1.Pod) *volumeState {
	if c.state.volumes != nil {
		return c.state.volumes
	}
	s := &volumeState{}
	if c.pvcsListed {
		for _, name := range claimNames(p) {
			pvc := c.pvcs[p.Namespace+"/"+name]
			if pvc == nil {
				s.missing = append(s.missing, name)
				continue
			}
			if pv := c.pvs[pvc.Spec.VolumeName]; pv != nil && pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
				s.pinned = append(s.pinned, pv)
			}
		}
	}
	c.state.volumes = s
	return s
}

// volumeAffinity is the part of kube-scheduler's VolumeBinding filter
// that a lost region changes: a bound volume's required node affinity
// must match the node (the scheduler says "didn't match PersistentVolume's
// node affinity"), and a claim that does not exist keeps the pod Pending.
func (c *cluster) volumeAffinity(p *corev1.Pod, n *node) string {
	s := c.volumesOf(p)
	if len(s.missing) > 0 {
		return fmt.Sprintf("PersistentVolumeClaim %s/%s not found", p.Namespace, s.missing[0])
	}
	for _, pv := range s.pinned {
		if !slices.ContainsFunc(pv.Spec.NodeAffinity.Required.NodeSelectorTerms, func(t corev1.NodeSelectorTerm) bool { return matchesTerm(t, n.node) }) {
			return "node affinity of PersistentVolume " + pv.Name + " does not match"
		}
	}
	return ""
}

// volumeFacts is what a workload's lost pods' volumes mean for its
// recovery.
type volumeFacts struct {
	// held are the volumes that only one node may attach (no
	// ReadWriteMany or ReadOnlyMany access mode) through a driver that
	// attaches: the attach-detach controller keeps them attached to the
	// lost node while the old pod exists, and the old pod on an
	// unreachable node is never confirmed terminated.
	held []string
	// follow are the attachable volumes without node affinity: they can
	// attach on a surviving node once released (RBD through Ceph CSI).
	follow []string
	// waiting are claims not yet bound whose StorageClass waits for the
	// first consumer: provisioned where the replacement is scheduled.
	waiting []string
}

// volumeFacts reads the claims of the lost pods.
func (c *cluster) volumeFacts(pods []*corev1.Pod) volumeFacts {
	var f volumeFacts
	if !c.pvcsListed {
		return f
	}
	seen := map[string]bool{}
	for _, p := range pods {
		for _, name := range claimNames(p) {
			key := p.Namespace + "/" + name
			pvc := c.pvcs[key]
			if pvc == nil || seen[key] {
				continue
			}
			seen[key] = true
			if pvc.Spec.VolumeName == "" {
				if sc := c.storageClasses[ptrOr(pvc.Spec.StorageClassName, "")]; sc != nil && ptrOr(sc.VolumeBindingMode, storagev1.VolumeBindingImmediate) == storagev1.VolumeBindingWaitForFirstConsumer {
					f.waiting = append(f.waiting, key)
				}
				continue
			}
			pv := c.pvs[pvc.Spec.VolumeName]
			if pv == nil || pv.Spec.CSI == nil || !c.attachRequired(pv.Spec.CSI.Driver) {
				continue
			}
			modes := pv.Spec.AccessModes
			if slices.Contains(modes, corev1.ReadWriteMany) || slices.Contains(modes, corev1.ReadOnlyMany) {
				continue
			}
			f.held = append(f.held, pv.Name)
			if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
				f.follow = append(f.follow, pv.Name)
			}
		}
	}
	return f
}

// attachRequired says whether a CSI driver attaches its volumes: its
// CSIDriver's attachRequired, true when it has none (Kubernetes'
// default).
func (c *cluster) attachRequired(driver string) bool {
	d := c.csiDrivers[driver]
	return d == nil || ptrOr(d.Spec.AttachRequired, true)
}
