package flux

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// How kustomize-controller applies a Kustomization's objects
// (fluxcd/kustomize-controller v1.7.3,
// internal/controller/kustomization_controller.go, and the resource
// manager of github.com/fluxcd/pkg/ssa it applies with).
const (
	// ControllerName is kustomize-controller's field manager.
	ControllerName = "kustomize-controller"
	// Group prefixes kustomize-controller's labels and annotations.
	Group = "kustomize.toolkit.fluxcd.io"
	// OwnerNameLabel and OwnerNamespaceLabel, set on every object it
	// applies, name the Kustomization.
	OwnerNameLabel      = Group + "/name"
	OwnerNamespaceLabel = Group + "/namespace"
	// ReconcileKey: ReconcileDisabled makes it skip an object.
	ReconcileKey      = Group + "/reconcile"
	ReconcileDisabled = "disabled"
	// SSAKey: SSAIgnore skips an object, SSAIfNotPresent applies it only
	// while it does not exist, SSAMerge keeps its metadata from cleanup.
	SSAKey          = Group + "/ssa"
	SSAIgnore       = "Ignore"
	SSAIfNotPresent = "IfNotPresent"
	SSAMerge        = "Merge"
	// ForceKey: ForceEnabled recreates an object whose immutable fields
	// change, as the Kustomization's spec.force does for all.
	ForceKey     = Group + "/force"
	ForceEnabled = "enabled"
)

// FieldManager matches managed fields entries of the main resource: a
// manager whose name starts with Name, with Operation.
type FieldManager struct {
	Name      string
	Operation metav1.ManagedFieldsOperationType
}

// CleanupFieldManagers are the managers whose fields kustomize-controller
// takes over before applying, in its order: kubectl apply --server-side,
// kubectl apply and other kubectl writes, kubectl's before-first-apply,
// and its own updates from before it used server-side apply.
var CleanupFieldManagers = []FieldManager{
	{"kubectl", metav1.ManagedFieldsOperationApply},
	{"kubectl", metav1.ManagedFieldsOperationUpdate},
	{"before-first-apply", metav1.ManagedFieldsOperationUpdate},
	{ControllerName, metav1.ManagedFieldsOperationUpdate},
}

// CleanupAnnotations and CleanupLabels are removed from every object
// before kustomize-controller applies it.
var (
	CleanupAnnotations = []string{
		"kubectl.kubernetes.io/last-applied-configuration",
		Group + "/checksum",
		"fluxcd.io/sync-checksum",
	}
	CleanupLabels = []string{"fluxcd.io/sync-gc-mark"}
)
