package app

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretch-dev/kubectl-stretch/internal/procstat"
	"github.com/stretch-dev/kubectl-stretch/internal/spread"
	"github.com/stretch-dev/kubectl-stretch/internal/spread/spreadtest"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// kustomizePatch is the spread that kubectl kustomize applies to every
// workload of a kind: the same constraint, affinity and replicas that
// post-render adds (with one selector for all, the closest kustomize gets).
const kustomizePatch = `apiVersion: apps/v1
kind: %s
metadata:
  name: any
spec:
  replicas: 2
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: topology.kubernetes.io/zone, operator: In, values: [sto1, sto2]}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        nodeTaintsPolicy: Honor
        labelSelector: {matchLabels: {tier: bench}}
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {tier: bench}}
`

// timedProcess runs a command with its output to a pipe, as Helm reads a
// post-renderer's, and returns its wall time and peak RSS.
func timedProcess(b *testing.B, cmd *exec.Cmd) (time.Duration, int64) {
	b.Helper()
	if cmd.Stdout == nil {
		cmd.Stdout = io.Discard
	}
	wall, rss, err := procstat.Run(cmd)
	if err != nil {
		b.Fatal(err)
	}
	return wall, rss
}

// BenchmarkSideBySide times, in the same run and on the same 2,000
// Deployments and 500 StatefulSets: kubectl-stretch post-render as a
// process, kubectl kustomize applying an equivalent patch to every
// workload, and in-process the patcher against a bare decode and encode.
// It reports each time, the ratios and post-render's peak memory.
func BenchmarkSideBySide(b *testing.B) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		b.Skip("kubectl not installed")
	}
	// Built as make build and the release archives build it: stripped,
	// without cgo. Peak memory counts the binary's mapped pages too.
	bin := filepath.Join(b.TempDir(), "kubectl-stretch")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	corpus := spreadtest.Corpus(2000, 500)
	dir := b.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("workloads.yaml", string(corpus))
	write("deployment.yaml", fmt.Sprintf(kustomizePatch, "Deployment"))
	write("statefulset.yaml", fmt.Sprintf(kustomizePatch, "StatefulSet"))
	write("kustomization.yaml", "resources: [workloads.yaml]\npatches:\n"+
		"- {path: deployment.yaml, target: {kind: Deployment}}\n"+
		"- {path: statefulset.yaml, target: {kind: StatefulSet}}\n")
	f, err := topology.Load(example)
	if err != nil {
		b.Fatal(err)
	}
	policy := spread.PolicyFor(topology.NewModel(f.Topology))

	b.SetBytes(int64(len(corpus)))
	var post, kust, patch, bare time.Duration
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "post-render", "-q", "-f", example)
		cmd.Stdin = bytes.NewReader(corpus)
		d, rss := timedProcess(b, cmd)
		post += d
		peak = max(peak, rss)

		d, _ = timedProcess(b, exec.Command(kubectl, "kustomize", dir))
		kust += d

		start := time.Now()
		if _, _, err := spread.PatchStream(corpus, policy); err != nil {
			b.Fatal(err)
		}
		patch += time.Since(start)

		start = time.Now()
		if _, err := spreadtest.RoundTrip(corpus); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(post.Seconds()/n, "post-render-s")
	b.ReportMetric(kust.Seconds()/n, "kubectl-kustomize-s")
	b.ReportMetric(patch.Seconds()/n, "patch-in-process-s")
	b.ReportMetric(bare.Seconds()/n, "bare-decode-encode-s")
	b.ReportMetric(kust.Seconds()/post.Seconds(), "x-faster-than-kustomize")
	b.ReportMetric(patch.Seconds()/bare.Seconds(), "x-of-bare-decode-encode")
	b.ReportMetric(float64(peak)/(1<<20), "post-render-peak-MiB")
}

// BenchmarkPostRenderMemory runs post-render as a process on streams of
// 1, 10 and 50 MB and reports its peak RSS, in MB and as a multiple of
// the input's size (docs/BENCHMARKS.md records the figures).
func BenchmarkPostRenderMemory(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "kubectl-stretch")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, scale := range []int{1, 10, 50} {
		corpus := spreadtest.Corpus(2000*scale, 500*scale)
		b.Run(fmt.Sprintf("%dMB", len(corpus)>>20), func(b *testing.B) {
			b.SetBytes(int64(len(corpus)))
			var peak int64
			for b.Loop() {
				cmd := exec.Command(bin, "post-render", "-q", "-f", example,
					"--max-input", strconv.Itoa(len(corpus)))
				cmd.Stdin = bytes.NewReader(corpus)
				_, rss := timedProcess(b, cmd)
				peak = max(peak, rss)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(peak)/float64(len(corpus)), "peak-x-input")
		})
	}
}
