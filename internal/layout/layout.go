// Package layout is the bundle's layer table: one row per layer with its
// name, the folders its files sit in, the Flux stages that apply them,
// whether its files are Kubernetes objects, the typed kinds and files it
// may hold, and the verify layers that check it on a live cluster.
//
// Every other package reads these facts here: the generators (which
// folders a layer may write, how a file is decoded, which folders get a
// kustomization.yaml, the Flux stages), diff and the KRM function (which
// files are cluster objects) and verify's hints (the stage to apply).
// Adding a layer is one row in the table, a blueprint (or a typed
// generator, as the firewall layer has) and its typed API.
package layout

import (
	"path"
	"slices"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/dns"
	"github.com/stretch-dev/kubectl-stretch/internal/firewall"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/flux"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// Layer names: a layer is one generator and the files it owns. The name is
// also the key of the layer in a mixin, the name of its blueprint
// (<name>.jsonnet) and the layer of its files in .stretch/manifest.
const (
	Kubespray = "kubespray"
	Calico    = "calico"
	Rook      = "rook"
	Workloads = "workloads"
	// Access holds the read-only ClusterRole of kubectl stretch verify and
	// its binding.
	Access = "access"
	// DNS holds the health-checked DNS records of the API endpoint and the
	// ingress host, for a DNS service (not cluster objects).
	DNS = "dns"
	// Firewall holds the per-region allowlists: files for the providers'
	// firewalls, not cluster objects.
	Firewall = "firewall"
	Flux     = "flux"
)

// Stage names. A stage is one Flux Kustomization, flux/<name>.yaml, whose
// object is named ObjectPrefix + name.
const (
	StageAccess          = "access"
	StageNetwork         = "network"
	StageStorageOperator = "storage-operator"
	StageStorage         = "storage"
	StageWorkloads       = "workloads"
)

// Stage folders: the bundle folder each stage applies, and the flux
// layer's.
const (
	DirAccess          = "access"
	DirNetwork         = "network/calico"
	DirStorageOperator = "storage/rook/operator"
	DirStorage         = "storage/rook/cluster"
	DirWorkloads       = "workloads"
	// DirFirewall holds the firewall layer's files, three per region.
	DirFirewall = "network/firewall"
	// DirFlux holds the stages' Kustomizations, flux/<stage>.yaml.
	DirFlux = "flux"
	// DirDNS holds the DNS records, which no stage applies.
	DirDNS = "network/dns"
)

// The dns layer's files: the typed records and the zone-file snippet
// derived from them.
const (
	DNSRecordsFile = DirDNS + "/records.yaml"
	DNSZoneFile    = DirDNS + "/records.zone"
)

// ObjectPrefix starts the name of every Flux Kustomization of the bundle.
const ObjectPrefix = "stretch-"

// Verify layers: the groups of kubectl stretch verify's checks that look
// at a layer's part of the live cluster (internal/check's Layer values).
const (
	VerifyNodes        = "nodes"
	VerifyControlPlane = "control-plane"
	VerifyNetwork      = "network"
	VerifyStorage      = "storage"
	VerifyWorkloads    = "workloads"
	// VerifyCapacity checks the topology's sizing against the nodes; no
	// layer renders it.
	VerifyCapacity = "capacity"
)

// Layer is one row of the table.
type Layer struct {
	// Name is the layer's name (Kubespray, Calico, ...).
	Name string
	// Dirs are the folders the layer's files sit directly in, relative to
	// the bundle. "*" stands for one folder named like a workload source.
	Dirs []string
	// Stages are the Flux stages that apply the layer's folders; none for a
	// layer Flux does not apply (the Kubespray inventory, Flux's own
	// Kustomizations).
	Stages []Stage
	// Cluster is true when the layer's files are Kubernetes objects applied
	// to the cluster: each of its folders gets a kustomization.yaml, diff
	// compares them, and its files are decoded by apiVersion and kind.
	// False for files another tool reads (Ansible's inventory).
	Cluster bool
	// KRM is true when the KRM function's generator emits the layer's
	// objects. Flux's Kustomizations point at the bundle's folders in Git
	// and only make sense as files.
	KRM bool
	// Kinds are the custom resources the layer's blueprint writes, with
	// their typed structs. A bundle file of any Cluster layer may hold any
	// kind of any row, or a built-in Kubernetes kind.
	Kinds []Kind
	// Files are the files of a layer that is not Cluster, each with the
	// typed struct it decodes into; no other file is allowed.
	Files []File
	// Exts are the file extensions the layer writes; none means .yaml
	// and .yml.
	Exts []string
	// Text are files of a layer that is not Cluster that its generator
	// derives from its typed Files and writes as they are, not as YAML
	// (the dns layer's zone-file snippet); their extension is in Exts like
	// any other file's.
	Text []string
	// Verify are the verify layers that check what the layer sets up.
	Verify []string
}

// Stage is one Flux Kustomization of the bundle.
type Stage struct {
	// Name is the stage's name; its file is flux/<Name>.yaml.
	Name string
	// Dir is the bundle folder the stage applies.
	Dir string
	// Order places the stage in Flux's dependsOn chain: stages apply in
	// increasing Order, each after the one before it is ready.
	Order int
}

// Object is the name of the stage's Flux Kustomization.
func (s Stage) Object() string { return ObjectPrefix + s.Name }

// File is the stage's bundle file, in the flux layer's folder.
func (s Stage) File() string { return DirFlux + "/" + s.Name + ".yaml" }

// Kind is a custom resource kind and its typed struct.
type Kind struct {
	APIVersion, Kind string
	New              func() any
}

// File is a file of a layer that is not Cluster and its typed struct.
// Path may hold a "*" in its file name (network/firewall/*.nft), matched
// as path.Match does: one file per region.
type File struct {
	Path string
	New  func() any
}

// Match reports whether the bundle path p is the file f.
func (f File) Match(p string) bool {
	ok, err := path.Match(f.Path, p)
	return err == nil && ok
}

// Extensions returns the file extensions the layer writes.
func (l Layer) Extensions() []string {
	if len(l.Exts) == 0 {
		return []string{".yaml", ".yml"}
	}
	return l.Exts
}

// table lists the layers in the order their generators run: the flux layer
// points at the folders of the layers before it, so it comes last.
var table = []Layer{
	{
		Name: Kubespray,
		Dirs: []string{"kubespray", "kubespray/group_vars/all", "kubespray/group_vars/k8s_cluster"},
		Files: []File{
			{"kubespray/hosts.yaml", func() any { return &kubespray.Inventory{} }},
			{"kubespray/group_vars/all/etcd.yml", func() any { return &kubespray.EtcdVars{} }},
			{"kubespray/group_vars/k8s_cluster/k8s-cluster.yml", func() any { return &kubespray.ClusterVars{} }},
			{"kubespray/group_vars/k8s_cluster/k8s-net-calico.yml", func() any { return &kubespray.CalicoVars{} }},
		},
		Verify: []string{VerifyNodes, VerifyControlPlane},
	},
	{
		Name:    Calico,
		Dirs:    []string{DirNetwork},
		Stages:  []Stage{{Name: StageNetwork, Dir: DirNetwork, Order: 20}},
		Cluster: true, KRM: true,
		Kinds: []Kind{
			{calico.APIVersion, "FelixConfiguration", func() any { return &calico.FelixConfiguration{} }},
		},
		Verify: []string{VerifyNetwork},
	},
	{
		Name: Rook,
		Dirs: []string{DirStorageOperator, DirStorage},
		Stages: []Stage{
			{Name: StageStorageOperator, Dir: DirStorageOperator, Order: 30},
			{Name: StageStorage, Dir: DirStorage, Order: 40},
		},
		Cluster: true, KRM: true,
		Kinds: []Kind{
			{rook.APIVersion, "CephCluster", func() any { return &rook.CephCluster{} }},
			{rook.APIVersion, "CephBlockPool", func() any { return &rook.CephBlockPool{} }},
			{flux.HelmRepositoryAPIVersion, "HelmRepository", func() any { return &flux.HelmRepository{} }},
			{flux.HelmReleaseAPIVersion, "HelmRelease", func() any { return &flux.HelmRelease{} }},
		},
		Verify: []string{VerifyStorage},
	},
	{
		Name: Workloads,
		Dirs: []string{DirWorkloads + "/*"},
		// The stage applies workloads/, whose kustomization.yaml lists the
		// source folders (see Aggregate).
		Stages:  []Stage{{Name: StageWorkloads, Dir: DirWorkloads, Order: 50}},
		Cluster: true, KRM: true,
		Verify: []string{VerifyWorkloads},
	},
	{
		Name: Access,
		Dirs: []string{DirAccess},
		// access comes first: nothing needs it, but it is ready at once,
		// and keeping every stage in one chain keeps the dependsOn rule
		// simple (each stage depends on the one before).
		Stages:  []Stage{{Name: StageAccess, Dir: DirAccess, Order: 10}},
		Cluster: true, KRM: true,
	},
	{
		// Not cluster objects: no stage, no kustomization.yaml, left out
		// by diff and the KRM function. Built by a typed generator
		// (internal/firewall), not a blueprint.
		Name: Firewall,
		Dirs: []string{DirFirewall},
		Exts: []string{".yaml", ".nft", ".json"},
		Files: []File{
			{DirFirewall + "/*.yaml", func() any { return &firewall.Allowlist{} }},
			{DirFirewall + "/*.nft", func() any { return &firewall.Ruleset{} }},
			{DirFirewall + "/*.tf.json", func() any { return &firewall.Terraform{} }},
		},
	},
	{
		Name:  DNS,
		Dirs:  []string{DirDNS},
		Files: []File{{DNSRecordsFile, func() any { return &dns.Records{} }}},
		Exts:  []string{".yaml", ".zone"},
		Text:  []string{DNSZoneFile},
		// Files for a DNS service with health checks: no stage, not
		// cluster objects. verify --dns resolves the names.
		Verify: []string{VerifyNetwork},
	},
	{
		Name:    Flux,
		Dirs:    []string{DirFlux},
		Cluster: true,
		Kinds: []Kind{
			{flux.KustomizationAPIVersion, "Kustomization", func() any { return &flux.Kustomization{} }},
		},
	},
}

// Layers returns the table's rows in the order their generators run. The
// rows share their slices with the table: read them, do not change them.
func Layers() []Layer { return slices.Clone(table) }

// Lookup returns the row of the layer named name.
func Lookup(name string) (Layer, bool) {
	for _, l := range table {
		if l.Name == name {
			return l, true
		}
	}
	return Layer{}, false
}

// Stages returns every stage of every layer in apply order.
func Stages() []Stage {
	var out []Stage
	for _, l := range table {
		out = append(out, l.Stages...)
	}
	slices.SortStableFunc(out, func(a, b Stage) int { return a.Order - b.Order })
	return out
}

// StageNamed returns the stage named name.
func StageNamed(name string) (Stage, bool) {
	for _, l := range table {
		for _, s := range l.Stages {
			if s.Name == name {
				return s, true
			}
		}
	}
	return Stage{}, false
}

// Aggregate reports whether dir is a stage folder that holds folders
// rather than files (workloads/), and names its layer: its
// kustomization.yaml lists the layer's folders under it.
func Aggregate(dir string) (layer string, ok bool) {
	for _, l := range table {
		for _, s := range l.Stages {
			if s.Dir == dir && !slices.Contains(l.Dirs, dir) {
				return l.Name, true
			}
		}
	}
	return "", false
}

// Kinds returns the custom kinds of every row, in table order.
func Kinds() []Kind {
	var out []Kind
	for _, l := range table {
		out = append(out, l.Kinds...)
	}
	return out
}

// ClusterFile reports whether the bundle file p of the layer named layer
// holds Kubernetes objects that are applied to the cluster: a file of a
// Cluster layer that is not a generated kustomization.yaml (kustomize's
// configuration, not an object).
func ClusterFile(layer, p string) bool {
	l, ok := Lookup(layer)
	return ok && l.Cluster && path.Base(p) != KustomizationFile
}

// KustomizationFile is the file every folder of a Cluster layer gets,
// listing its files.
const KustomizationFile = "kustomization.yaml"

// DirPattern returns d as a user reads it: "*" becomes "<name>", and a
// trailing slash marks a folder.
func DirPattern(d string) string { return strings.ReplaceAll(d, "*", "<name>") + "/" }
