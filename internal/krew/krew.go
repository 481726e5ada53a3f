// Package krew builds the krew plugin manifest (krew.yaml) of a release
// from typed structs: one platform per release archive, each with the
// archive's URL and sha256.
package krew

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// KrewVersion is the version of krew whose manifest validator the tests run.
const KrewVersion = "v0.4.3"

// Repository is where releases are published.
const Repository = "https://github.com/stretch-dev/kubectl-stretch"

// Platforms lists the release targets in the order krew.yaml lists them.
var Platforms = []struct{ OS, Arch string }{
	{"linux", "amd64"},
	{"linux", "arm64"},
	{"darwin", "amd64"},
	{"darwin", "arm64"},
}

// Plugin is a krew plugin manifest (krew.googlecontainertools.github.com/v1alpha2).
type Plugin struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   Metadata   `json:"metadata"`
	Spec       PluginSpec `json:"spec"`
}

// Metadata names the plugin; krew invokes it as kubectl <name>.
type Metadata struct {
	Name string `json:"name"`
}

// PluginSpec describes the plugin and its archives.
type PluginSpec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description"`
	Caveats          string     `json:"caveats,omitempty"`
	Platforms        []Platform `json:"platforms"`
}

// Platform is one archive.
type Platform struct {
	Selector metav1.LabelSelector `json:"selector"`
	URI      string               `json:"uri"`
	Sha256   string               `json:"sha256"`
	Files    []FileOperation      `json:"files"`
	Bin      string               `json:"bin"`
}

// FileOperation copies files out of the archive.
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ArchiveName is the file name of a platform's release archive.
func ArchiveName(goos, arch string) string {
	return fmt.Sprintf("kubectl-stretch_%s_%s.tar.gz", goos, arch)
}

// Manifest builds the manifest of version from the archives in distDir.
func Manifest(version, distDir string) (*Plugin, error) {
	if !strings.HasPrefix(version, "v") {
		return nil, fmt.Errorf("krew needs a version with a leading v, got %q", version)
	}
	p := &Plugin{
		APIVersion: "krew.googlecontainertools.github.com/v1alpha2",
		Kind:       "Plugin",
		Metadata:   Metadata{Name: "stretch"},
		Spec: PluginSpec{
			Version:          version,
			Homepage:         Repository,
			ShortDescription: "Render and verify clusters stretched over three regions",
			Description: "Renders the Kubespray inventory, Calico WireGuard, Rook/Ceph stretch mode,\n" +
				"spread-patched workloads and Flux Kustomizations of a cluster stretched over\n" +
				"two data regions and an arbiter region from one topology file, into a\n" +
				"deterministic GitOps bundle, and verifies the live cluster against it.\n",
		},
	}
	for _, pl := range Platforms {
		name := ArchiveName(pl.OS, pl.Arch)
		sum, err := fileSHA256(filepath.Join(distDir, name))
		if err != nil {
			return nil, err
		}
		p.Spec.Platforms = append(p.Spec.Platforms, Platform{
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"os": pl.OS, "arch": pl.Arch}},
			URI:      fmt.Sprintf("%s/releases/download/%s/%s", Repository, version, name),
			Sha256:   sum,
			Files:    Files(),
			Bin:      "kubectl-stretch",
		})
	}
	return p, nil
}

// Files is what krew copies out of each release archive into the plugin's
// folder: the binary, kubectl's completion shim and the licence.
func Files() []FileOperation {
	return []FileOperation{
		{From: "kubectl-stretch", To: "."}, {From: "kubectl_complete-stretch", To: "."}, {From: "LICENSE", To: "."},
	}
}

// Encode renders the manifest as YAML.
func (p *Plugin) Encode() ([]byte, error) {
	return yaml.Marshal(p)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("release archive: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
