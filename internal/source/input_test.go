//go:build unix

package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// TestLoadRefusesNonRegularFiles puts a FIFO, which would block a plain
// read for ever, where each kind of source reads a file: each load fails
// at once naming it.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifo := func(name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("apps/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	fifo("apps/b.yaml")
	mk("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	fifo("chart/templates/x.yaml")
	mk("plain/Chart.yaml", "apiVersion: v2\nname: p\nversion: 0.1.0\n")
	fifo("values.yaml")
	mk("kust/kustomization.yaml", "resources: [cm.yaml]\n")
	fifo("kust/cm.yaml")
	for _, tc := range []struct {
		name string
		src  v1alpha1.Source
		want string
	}{
		{"folder", v1alpha1.Source{Path: "apps"}, "read workloads: " + filepath.Join(dir, "apps/b.yaml") + ": not a regular file (a named pipe)"},
		{"chart", v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "chart", Release: "r", Namespace: "n"}},
			"helm chart: " + filepath.Join(dir, "chart/templates/x.yaml") + ": not a regular file (a named pipe)"},
		{"values file", v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "plain", Release: "r", Namespace: "n", ValuesFiles: []string{"values.yaml"}}},
			"helm values: " + filepath.Join(dir, "values.yaml") + ": not a regular file (a named pipe)"},
		{"kustomize", v1alpha1.Source{Kustomize: "kust"},
			"kustomize folder: " + filepath.Join(dir, "kust/cm.yaml") + ": not a regular file (a named pipe)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), dir, tc.src, Options{KubeVersion: KubeVersion})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestLoadEndsWithTheContext renders a chart whose template loops 10^15
// times: Load returns the context's error once it is cancelled.
func TestLoadEndsWithTheContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "loop", "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "loop", "Chart.yaml"), []byte("apiVersion: v2\nname: loop\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := "{{- range until 100000 }}{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}{{ end }}\n"
	if err := os.WriteFile(filepath.Join(dir, "loop", "templates", "loop.yaml"), []byte(loop), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Load(ctx, dir, v1alpha1.Source{Helm: &v1alpha1.HelmSource{Chart: "loop", Release: "r", Namespace: "n"}}, Options{KubeVersion: KubeVersion})
		done <- err
	}()
	// Cancelled once the render is under way (a cancel before would be
	// seen by Load's first check of the context).
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Load = %v; want context.Canceled", err)
	}
}
