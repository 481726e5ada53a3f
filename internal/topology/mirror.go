package topology

import (
	"bytes"
	"fmt"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// HelmRepositoryNames are the names of the HelmRepositories the bundle of
// a topology with this Rook version has, in order: rook-release, and
// ceph-csi-operator from Rook v1.20 on.
func HelmRepositoryNames(rookVersion string) []string {
	return chartRepositoryNames(rookAtLeast(rookVersion, 1, 20))
}

// WithChartMirrors returns the topology document data, read from the file
// name, with spec.gitops.chartMirrors holding mirrors: an entry the
// document has for a repository that mirrors names is replaced, the others
// are kept, and so are the document's comments, field order and list
// indentation. The result is checked as Load checks a file, so a document
// that was not a valid topology, or becomes none, is an error.
func WithChartMirrors(data []byte, name string, mirrors []v1alpha1.ChartMirror) ([]byte, error) {
	for _, m := range mirrors {
		if err := CheckChartMirrorURL(m.URL); err != nil {
			return nil, fmt.Errorf("chart mirror of %s: %w", quote(m.Name), err)
		}
	}
	if _, err := Parse(data, name); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(data), Writer: &out, PreserveSeqIndent: true}
	docs, err := rw.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: %d YAML documents, want one topology", name, len(docs))
	}
	spec, err := docs[0].Pipe(kyaml.Lookup("spec"))
	if err != nil || spec == nil {
		return nil, fmt.Errorf("%s: spec: not found (%v)", name, err)
	}
	gitops := spec.Field("gitops")
	if gitops == nil || gitops.Value.YNode().Kind != kyaml.MappingNode {
		// Absent, or "gitops:" with nothing under it (null).
		if err := spec.PipeE(kyaml.SetField("gitops", kyaml.NewMapRNode(nil))); err != nil {
			return nil, fmt.Errorf("%s: spec.gitops: %w", name, err)
		}
		gitops = spec.Field("gitops")
	}
	list := kyaml.NewRNode(&kyaml.Node{Kind: kyaml.SequenceNode})
	if old := gitops.Value.Field("chartMirrors"); old != nil && old.Value.YNode().Kind == kyaml.SequenceNode {
		for _, e := range old.Value.Content() {
			if n := kyaml.NewRNode(e).Field("name"); n == nil || !slices.ContainsFunc(mirrors, func(m v1alpha1.ChartMirror) bool { return m.Name == n.Value.YNode().Value }) {
				list.YNode().Content = append(list.YNode().Content, e)
			}
		}
	}
	for _, m := range mirrors {
		entry := kyaml.NewMapRNode(nil)
		for _, f := range []struct{ k, v string }{{"name", m.Name}, {"url", m.URL}} {
			if err := entry.PipeE(kyaml.SetField(f.k, kyaml.NewStringRNode(f.v))); err != nil {
				return nil, fmt.Errorf("%s: spec.gitops.chartMirrors: %w", name, err)
			}
		}
		list.YNode().Content = append(list.YNode().Content, entry.YNode())
	}
	if err := gitops.Value.PipeE(kyaml.SetField("chartMirrors", list)); err != nil {
		return nil, fmt.Errorf("%s: spec.gitops.chartMirrors: %w", name, err)
	}
	if err := rw.Write(docs); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := Parse(out.Bytes(), name)
	if err != nil {
		return nil, err
	}
	for _, m := range mirrors {
		if !slices.Contains(f.Topology.Spec.GitOps.ChartMirrors, m) {
			return nil, fmt.Errorf("%s: spec.gitops.chartMirrors: %s could not be set", name, quote(m.Name))
		}
	}
	return out.Bytes(), nil
}
