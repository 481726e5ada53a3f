// Package flux holds the subset of Flux's types the bundle writes:
// Kustomization (kustomize.toolkit.fluxcd.io/v1), HelmRepository
// (source.toolkit.fluxcd.io/v1) and HelmRelease (helm.toolkit.fluxcd.io/v2),
// and the GitRepository (source.toolkit.fluxcd.io/v1) that the simulated
// cluster creates the way flux bootstrap does.
package flux

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// API versions of the Flux kinds.
const (
	KustomizationAPIVersion  = "kustomize.toolkit.fluxcd.io/v1"
	HelmRepositoryAPIVersion = "source.toolkit.fluxcd.io/v1"
	HelmReleaseAPIVersion    = "helm.toolkit.fluxcd.io/v2"
	GitRepositoryAPIVersion  = "source.toolkit.fluxcd.io/v1"
)

// GitRepository makes Flux's source-controller fetch a Git repository
// (fluxcd/source-controller api/v1 GitRepository).
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              GitRepositorySpec `json:"spec"`
}

// GitRepositorySpec is GitRepository.spec.
type GitRepositorySpec struct {
	URL       string            `json:"url"`
	Interval  string            `json:"interval"`
	Timeout   string            `json:"timeout,omitempty"`
	Reference *GitRepositoryRef `json:"ref,omitempty"`
	SecretRef json.RawMessage   `json:"secretRef,omitempty"`
	Suspend   bool              `json:"suspend,omitempty"`
}

// GitRepositoryRef is GitRepository.spec.ref: what to check out.
type GitRepositoryRef struct {
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
	SemVer string `json:"semver,omitempty"`
	Name   string `json:"name,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Kustomization makes Flux apply one folder of the Git repository.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              KustomizationSpec `json:"spec"`
}

// KustomizationSpec is Kustomization.spec.
type KustomizationSpec struct {
	Interval      string              `json:"interval"`
	RetryInterval string              `json:"retryInterval,omitempty"`
	Timeout       string              `json:"timeout,omitempty"`
	Path          string              `json:"path"`
	Prune         bool                `json:"prune"`
	Wait          bool                `json:"wait,omitempty"`
	Suspend       bool                `json:"suspend,omitempty"`
	SourceRef     CrossNamespaceRef   `json:"sourceRef"`
	DependsOn     []DependencyRef     `json:"dependsOn,omitempty"`
	HealthChecks  json.RawMessage     `json:"healthChecks,omitempty"`
	PostBuild     json.RawMessage     `json:"postBuild,omitempty"`
	Decryption    json.RawMessage     `json:"decryption,omitempty"`
	TargetNS      string              `json:"targetNamespace,omitempty"`
	Force         bool                `json:"force,omitempty"`
	Patches       json.RawMessage     `json:"patches,omitempty"`
	Images        json.RawMessage     `json:"images,omitempty"`
	Components    []string            `json:"components,omitempty"`
	CommonMeta    json.RawMessage     `json:"commonMetadata,omitempty"`
	KubeConfig    json.RawMessage     `json:"kubeConfig,omitempty"`
	ServiceAcct   string              `json:"serviceAccountName,omitempty"`
	DeletionPol   string              `json:"deletionPolicy,omitempty"`
	NamePrefix    string              `json:"namePrefix,omitempty"`
	NameSuffix    string              `json:"nameSuffix,omitempty"`
	HealthExprs   []CustomHealthCheck `json:"healthCheckExprs,omitempty"`
}

// CustomHealthCheck is one entry of Kustomization.spec.healthCheckExprs
// (kustomize-controller v1.7, api/v1 CustomHealthCheck): CEL expressions
// over an applied object of the kind, evaluated in the order inProgress,
// failed, current; the first true one gives its health.
type CustomHealthCheck struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Current    string `json:"current"`
	InProgress string `json:"inProgress,omitempty"`
	Failed     string `json:"failed,omitempty"`
}

// CrossNamespaceRef points at a Flux source.
type CrossNamespaceRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// DependencyRef names a Kustomization that must be ready first.
type DependencyRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// HelmRepository is a Helm chart repository.
type HelmRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              HelmRepositorySpec `json:"spec"`
}

// HelmRepositorySpec is HelmRepository.spec.
type HelmRepositorySpec struct {
	URL       string          `json:"url"`
	Interval  string          `json:"interval,omitempty"`
	Type      string          `json:"type,omitempty"`
	Provider  string          `json:"provider,omitempty"`
	SecretRef json.RawMessage `json:"secretRef,omitempty"`
	Timeout   string          `json:"timeout,omitempty"`
	Suspend   bool            `json:"suspend,omitempty"`
}

// HelmRelease installs a chart.
type HelmRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              HelmReleaseSpec `json:"spec"`
}

// HelmReleaseSpec is HelmRelease.spec.
type HelmReleaseSpec struct {
	Interval         string          `json:"interval"`
	Chart            HelmChartRef    `json:"chart"`
	ReleaseName      string          `json:"releaseName,omitempty"`
	TargetNamespace  string          `json:"targetNamespace,omitempty"`
	DependsOn        []DependencyRef `json:"dependsOn,omitempty"`
	Install          json.RawMessage `json:"install,omitempty"`
	Upgrade          json.RawMessage `json:"upgrade,omitempty"`
	Values           json.RawMessage `json:"values,omitempty"`
	ValuesFrom       json.RawMessage `json:"valuesFrom,omitempty"`
	Timeout          string          `json:"timeout,omitempty"`
	Suspend          bool            `json:"suspend,omitempty"`
	DriftDetection   json.RawMessage `json:"driftDetection,omitempty"`
	PostRenderers    json.RawMessage `json:"postRenderers,omitempty"`
	ServiceAccount   string          `json:"serviceAccountName,omitempty"`
	StorageNamespace string          `json:"storageNamespace,omitempty"`
}

// HelmChartRef is HelmRelease.spec.chart.
type HelmChartRef struct {
	Spec HelmChartSpec `json:"spec"`
}

// HelmChartSpec names the chart and its source.
type HelmChartSpec struct {
	Chart     string            `json:"chart"`
	Version   string            `json:"version,omitempty"`
	SourceRef CrossNamespaceRef `json:"sourceRef"`
	Interval  string            `json:"interval,omitempty"`
}
