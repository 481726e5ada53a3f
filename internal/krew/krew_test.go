package krew

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestManifestFromArchives(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	for _, p := range Platforms {
		if err := os.WriteFile(filepath.Join(dist, ArchiveName(p.OS, p.Arch)), []byte(p.OS+"/"+p.Arch), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Manifest("v1.2.3", dist)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Spec.Platforms) != 4 {
		t.Fatalf("%d platforms", len(m.Spec.Platforms))
	}
	// sha256("linux/amd64")
	if got := m.Spec.Platforms[0].Sha256; got != "baf0239e48ff4c47ebac3ba02b5cf1506b69cd5a0c0d0c825a53ba65976fb942" {
		t.Errorf("sha256 %q", got)
	}
	if got := m.Spec.Platforms[3].URI; got != Repository+"/releases/download/v1.2.3/kubectl-stretch_darwin_arm64.tar.gz" {
		t.Errorf("uri %s", got)
	}
	if _, err := Manifest("1.2.3", dist); err == nil || !strings.Contains(err.Error(), "leading v") {
		t.Errorf("version without v: %v", err)
	}
	if _, err := Manifest("v1.2.3", t.TempDir()); err == nil || !strings.Contains(err.Error(), "release archive") {
		t.Errorf("missing archives: %v", err)
	}
}

// TestCommittedManifest checks the krew.yaml at the top of the repository:
// a valid krew plugin manifest with one platform per release target.
func TestCommittedManifest(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var p Plugin
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("krew.yaml: %v", err)
	}
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" || p.Metadata.Name != "stretch" {
		t.Errorf("identity: %s %s %s", p.APIVersion, p.Kind, p.Metadata.Name)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(p.Spec.Version) || p.Spec.ShortDescription == "" || p.Spec.Description == "" || p.Spec.Homepage == "" {
		t.Errorf("spec: %+v", p.Spec)
	}
	if len(p.Spec.Platforms) != len(Platforms) {
		t.Fatalf("%d platforms, want %d", len(p.Spec.Platforms), len(Platforms))
	}
	hex := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for i, pl := range p.Spec.Platforms {
		want := Platforms[i]
		if pl.Selector.MatchLabels["os"] != want.OS || pl.Selector.MatchLabels["arch"] != want.Arch {
			t.Errorf("platform %d selector %v", i, pl.Selector.MatchLabels)
		}
		if !hex.MatchString(pl.Sha256) || pl.Bin != "kubectl-stretch" ||
			pl.URI != Repository+"/releases/download/"+p.Spec.Version+"/"+ArchiveName(want.OS, want.Arch) {
			t.Errorf("platform %d: %+v", i, pl)
		}
		if !reflect.DeepEqual(pl.Files, Files()) {
			t.Errorf("platform %d copies %+v, want what make dist writes: %+v", i, pl.Files, Files())
		}
	}
}

// TestCommittedManifestKrewValidator runs krew's own validator,
// validate-krew-manifest from sigs.k8s.io/krew (built through the Go module
// proxy), over krew.yaml. krew requires the file to be named after the
// plugin, so it is validated as stretch.yaml.
func TestCommittedManifestKrewValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds krew's validator (-short)")
	}
	data, err := os.ReadFile("../../krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(t.TempDir(), "stretch.yaml")
	if err := os.WriteFile(manifest, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "sigs.k8s.io/krew/cmd/validate-krew-manifest@"+KrewVersion, "-manifest", manifest, "-skip-install")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}
	for _, want := range []string{"structural validation OK", "all spec.platform[] items are used", "no overlapping spec.platform[].selector"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate-krew-manifest did not report %q:\n%s", want, out)
		}
	}
}
