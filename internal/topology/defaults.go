package topology

import (
	"path"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// Default values of optional fields. The subnets are Kubespray's defaults;
// the storage versions are the ones the blueprints are tested with.
const (
	DefaultEncryption      = v1alpha1.EncryptionWireGuard
	DefaultUnderlayMTU     = 1500
	DefaultPodSubnet       = "10.233.64.0/18"
	DefaultServiceSubnet   = "10.233.0.0/18"
	DefaultRookVersion     = "v1.20.6"
	DefaultRookNamespace   = "rook-ceph"
	DefaultCephImage       = "quay.io/ceph/ceph:v20.2.4"
	DefaultDataDirHostPath = "/var/lib/rook"
	DefaultReclaimPolicy   = v1alpha1.ReclaimDelete
	DefaultMinReplicas     = 2
	DefaultHelmNamespace   = "default"
	DefaultGitOpsSource    = "flux-system"
	DefaultGitOpsPath      = "."
)

// Default fills in every optional field that t leaves empty. It keeps the
// order of regions, nodes, pools and sources as written, and it is
// idempotent: defaulting twice gives the same Topology as defaulting once.
// A source without a name gets one derived from its path, its kustomize
// folder or its Helm release.
func Default(t *v1alpha1.Topology) {
	if t == nil {
		return
	}
	s := &t.Spec
	setString(&s.Network.Encryption, DefaultEncryption)
	setInt(&s.Network.UnderlayMTU, DefaultUnderlayMTU)
	setString(&s.Kubernetes.PodSubnet, DefaultPodSubnet)
	setString(&s.Kubernetes.ServiceSubnet, DefaultServiceSubnet)
	setString(&s.Storage.Rook.Version, DefaultRookVersion)
	setString(&s.Storage.Rook.Namespace, DefaultRookNamespace)
	setString(&s.Storage.Ceph.Image, DefaultCephImage)
	setString(&s.Storage.Ceph.DataDirHostPath, DefaultDataDirHostPath)
	for i := range s.Storage.BlockPools {
		setString(&s.Storage.BlockPools[i].ReclaimPolicy, DefaultReclaimPolicy)
	}
	setInt(&s.Workloads.MinReplicas, DefaultMinReplicas)
	for i := range s.Workloads.Sources {
		src := &s.Workloads.Sources[i]
		setString(&src.Name, derivedSourceName(*src))
		if src.Helm != nil {
			setString(&src.Helm.Namespace, DefaultHelmNamespace)
		}
	}
	setString(&s.GitOps.SourceName, DefaultGitOpsSource)
	setString(&s.GitOps.Path, DefaultGitOpsPath)
}

func setString[T ~string](p *T, v T) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

// derivedSourceName names a source after the base name of its path or
// kustomize folder, or after its Helm release, made into a DNS-1123 label
// (lower case, other characters replaced by "-"). It returns "" when
// nothing usable is left, and Validate then asks for a name.
func derivedSourceName(s v1alpha1.Source) string {
	var base string
	switch {
	case s.Path != "":
		base = path.Base(strings.ReplaceAll(s.Path, `\`, "/"))
	case s.Kustomize != "":
		base = path.Base(strings.ReplaceAll(s.Kustomize, `\`, "/"))
	case s.Helm != nil:
		base = s.Helm.Release
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	name := b.String()
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	return name
}
