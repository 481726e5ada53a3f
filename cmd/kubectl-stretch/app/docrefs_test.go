package app

import (
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// upstreamDocs are the Markdown files of other projects that comments and
// docs cite, each with the project it belongs to; and one file name a test
// writes.
var upstreamDocs = map[string]string{
	"CHANGELOG-1.35.md":                              "Kubernetes",
	"Documentation/Helm-Charts/operator-chart.md":    "Rook",
	"Documentation/Helm-Charts/csi-drivers-chart.md": "Rook",
	"Documentation/Upgrade/rook-upgrade.md":          "Rook",
	"docs/spec/v1/kustomizations.md":                 "Flux's kustomize-controller",
	"docs/ansible/vars.md":                           "Kubespray",
	"docs/operations/ha-mode.md":                     "Kubespray",
	"layer1/dir3/mine.md":                            "a file internal/bundle's tests write",
}

var (
	urlPattern = regexp.MustCompile(`https?://[^\s)>"` + "`" + `]*`)
	mdPattern  = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.md\b`)
)

// TestDocsNameOnlyRepositoryFiles checks that every Markdown file the
// repository's code, comments and docs name (outside links) is a file of
// the repository, or a cited file of another project: no comment points
// at a document a reader of the repository cannot open.
func TestDocsNameOnlyRepositoryFiles(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "git", "-C", "../../..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	files := strings.Fields(string(out))
	tracked := map[string]bool{}
	for _, f := range files {
		tracked[f] = true
	}
	checked := 0
	for _, f := range files {
		if strings.HasPrefix(f, "testdata/") || !slices.Contains([]string{".go", ".md", ".jsonnet", ".libsonnet", ".yaml", ".sh", ""}, path.Ext(f)) {
			continue
		}
		data, err := os.ReadFile("../../../" + f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, ref := range mdPattern.FindAllString(urlPattern.ReplaceAllString(line, ""), -1) {
				checked++
				if _, ok := upstreamDocs[ref]; ok || tracked[ref] || tracked[path.Join(path.Dir(f), ref)] || tracked["docs/"+ref] {
					continue
				}
				t.Errorf("%s:%d: names %s, which is not a file of this repository", f, i+1, ref)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d Markdown file names found; is the repository at ../../..?", checked)
	}
}
