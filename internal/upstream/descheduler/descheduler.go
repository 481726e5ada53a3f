// Package descheduler holds the subset of the descheduler's types
// (kubernetes-sigs/descheduler) that the bundle writes: the values of its
// Helm chart (charts/descheduler/values.yaml) and the DeschedulerPolicy of
// API version descheduler/v1alpha2 (pkg/api/v1alpha2/types.go) with the
// arguments of the two plugins render configures, DefaultEvictor
// (pkg/framework/plugins/defaultevictor/types.go) and
// RemovePodsViolatingTopologySpreadConstraint
// (pkg/framework/plugins/removepodsviolatingtopologyspreadconstraint/types.go).
// Field names follow descheduler v0.35.1 and its chart 0.35.0.
package descheduler

import "encoding/json"

// The chart render installs and where it is published.
const (
	// Chart is the chart's name in its repository.
	Chart = "descheduler"
	// ChartVersion is the pinned chart version; it runs the image
	// registry.k8s.io/descheduler/descheduler:v0.35.0 (the chart's
	// appVersion).
	ChartVersion = "0.35.0"
	// RepoURL is the chart repository, as the chart's README adds it.
	RepoURL = "https://kubernetes-sigs.github.io/descheduler/"
)

// The policy's API version and kind, and the plugins render enables.
const (
	PolicyAPIVersion = "descheduler/v1alpha2"
	PolicyKind       = "DeschedulerPolicy"
	// DefaultEvictor decides which pods may be evicted; the descheduler
	// adds it to every profile that does not configure it.
	DefaultEvictor = "DefaultEvictor"
	// TopologySpread evicts pods so that the topology spread constraints
	// of their owners are met again.
	TopologySpread = "RemovePodsViolatingTopologySpreadConstraint"
)

// Values are the chart's values that render sets; Helm merges them over
// the chart's values.yaml, lists replacing lists.
type Values struct {
	// Kind is CronJob or Deployment.
	Kind string `json:"kind"`
	// DeschedulingInterval is the Deployment's --descheduling-interval.
	DeschedulingInterval string `json:"deschedulingInterval"`
	// DeschedulerPolicyAPIVersion is the apiVersion of the ConfigMap's
	// policy.yaml.
	DeschedulerPolicyAPIVersion string `json:"deschedulerPolicyAPIVersion"`
	// DeschedulerPolicy is the policy, without apiVersion and kind,
	// which the chart writes itself.
	DeschedulerPolicy Policy `json:"deschedulerPolicy"`
}

// Policy is a DeschedulerPolicy (descheduler/v1alpha2).
type Policy struct {
	// APIVersion and Kind are set in a policy file and left out of the
	// chart's values.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Profiles are run in order on every descheduling cycle.
	Profiles []Profile `json:"profiles"`
	// MaxNoOfPodsToEvictPerNamespace bounds the evictions of one cycle in
	// one namespace; nil is no limit.
	MaxNoOfPodsToEvictPerNamespace *uint `json:"maxNoOfPodsToEvictPerNamespace,omitempty"`
}

// Profile is one DeschedulerProfile.
type Profile struct {
	Name          string         `json:"name"`
	PluginConfigs []PluginConfig `json:"pluginConfig"`
	Plugins       Plugins        `json:"plugins"`
}

// PluginConfig gives a plugin its arguments, one of the *Args types
// below encoded as JSON.
type PluginConfig struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Plugins are the extension points of a profile; render uses balance.
type Plugins struct {
	Deschedule *PluginSet `json:"deschedule,omitempty"`
	Balance    *PluginSet `json:"balance,omitempty"`
}

// PluginSet enables plugins at one extension point.
type PluginSet struct {
	Enabled []string `json:"enabled"`
}

// DefaultEvictorArgs are the DefaultEvictor's arguments.
type DefaultEvictorArgs struct {
	// NodeFit evicts a pod only when another node could take it.
	NodeFit bool `json:"nodeFit,omitempty"`
	// PodProtections enables or disables the evictor's protections.
	PodProtections *PodProtections `json:"podProtections,omitempty"`
}

// PodProtections lists protections beyond and against the defaults.
type PodProtections struct {
	// ExtraEnabled adds protections: PodsWithPVC, PodsWithoutPDB,
	// PodsWithResourceClaims.
	ExtraEnabled []string `json:"extraEnabled,omitempty"`
	// DefaultDisabled removes default ones: PodsWithLocalStorage,
	// DaemonSetPods, SystemCriticalPods, FailedBarePods.
	DefaultDisabled []string `json:"defaultDisabled,omitempty"`
}

// TopologySpreadArgs are RemovePodsViolatingTopologySpreadConstraint's
// arguments.
type TopologySpreadArgs struct {
	// Namespaces limits the pods the plugin considers; at most one of
	// Include and Exclude.
	Namespaces *Namespaces `json:"namespaces,omitempty"`
	// Constraints are the whenUnsatisfiable values whose constraints are
	// balanced: DoNotSchedule (the default) and ScheduleAnyway.
	Constraints []string `json:"constraints,omitempty"`
}

// Namespaces includes or excludes namespaces.
type Namespaces struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}
