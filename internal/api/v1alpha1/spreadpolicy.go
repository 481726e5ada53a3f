package v1alpha1

// SpreadPolicy is the functionConfig of the KRM function as a transformer
// (kubectl stretch fn): it spread-patches the items as render does a
// topology's workloads.
type SpreadPolicy struct {
	// APIVersion is stretch.dev/v1alpha1 (APIVersion). Required.
	APIVersion string `json:"apiVersion"`
	// Kind is SpreadPolicy (KindSpreadPolicy). Required.
	Kind string `json:"kind"`
	// Metadata is the object's metadata, kept as written and not read
	// (default: none).
	Metadata map[string]any `json:"metadata,omitempty"`
	// Spec is the policy. Required (dataZones has no default).
	Spec SpreadPolicySpec `json:"spec"`
}

// SpreadPolicySpec mirrors the spread patcher's policy.
type SpreadPolicySpec struct {
	// ZoneKey is the node label that names a region (default
	// topology.kubernetes.io/zone).
	ZoneKey string `json:"zoneKey,omitempty"`
	// DataZones are the two data regions. Required, no default.
	DataZones []string `json:"dataZones"`
	// ArbiterTaintKey is the taint that keeps workloads off the arbiter
	// (default stretch.dev/arbiter).
	ArbiterTaintKey string `json:"arbiterTaintKey,omitempty"`
	// MinReplicas is the smallest replica count a spread workload gets
	// (default 2 when unset); an explicit 0 is kept, and refused by the
	// patcher's policy check.
	MinReplicas *int `json:"minReplicas,omitempty"`
	// ZoneBoundStorageClasses are classes whose volumes stay in one region
	// (default: none).
	ZoneBoundStorageClasses []string `json:"zoneBoundStorageClasses,omitempty"`
	// EvictionSeconds is the tolerationSeconds of the NoExecute
	// tolerations of node.kubernetes.io/unreachable and not-ready that
	// every patched pod template gets, as the Topology's
	// spec.workloads.evictionSeconds. Optional, 0 to 3600 (default: unset,
	// tolerations left alone, Kubernetes' 300 s).
	EvictionSeconds *int `json:"evictionSeconds,omitempty"`
}
