package spread

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// corpus generates the benchmark stream of DESIGN.md's performance anchors:
// 2,000 Deployments and 500 StatefulSets with volumeClaimTemplates, all at
// one replica and none spread (0.9 MB).
func corpus() []byte {
	var b bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%04d
  namespace: bench
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-%04d
  template:
    metadata:
      labels:
        app: app-%04d
    spec:
      containers:
      - name: app
        image: registry.example/app-%04d:1.0.0
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
`, i, i, i, i)
	}
	for i := range 500 {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-%04d
  namespace: bench
spec:
  replicas: 1
  serviceName: db-%04d
  selector:
    matchLabels:
      app: db-%04d
  template:
    metadata:
      labels:
        app: db-%04d
    spec:
      containers:
      - name: db
        image: registry.example/db:16
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: ceph-block
      resources:
        requests:
          storage: 10Gi
`, i, i, i, i)
	}
	return b.Bytes()
}

// TestLargeStream patches the benchmark corpus: every workload is spread
// and gets a budget, the run is deterministic, and patching the output
// again changes nothing.
func TestLargeStream(t *testing.T) {
	if testing.Short() {
		t.Skip("large stream")
	}
	in := corpus()
	out, res, err := PatchStream(in, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2500 || len(res.Findings) != 2500*5 {
		t.Errorf("added %d objects and found %d findings, want 2500 and 12500", len(res.Added), len(res.Findings))
	}
	again, res2, err := PatchStream(out, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) || len(res2.Findings) != 0 || len(res2.Added) != 0 {
		t.Errorf("patching the output again gave %d findings, %d objects, same bytes %v",
			len(res2.Findings), len(res2.Added), bytes.Equal(again, out))
	}
	repeat, _, err := PatchStream(in, testPolicy())
	if err != nil || !bytes.Equal(repeat, out) {
		t.Errorf("a second run on the same input gave other bytes (error %v)", err)
	}
}

// BenchmarkPatchStream patches the corpus: decode, patch and encode.
func BenchmarkPatchStream(b *testing.B) {
	in := corpus()
	p := testPolicy()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := PatchStream(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPatchStreamPatched patches the corpus's output again: the
// budgets are looked up, nothing changes.
func BenchmarkPatchStreamPatched(b *testing.B) {
	in, _, err := PatchStream(corpus(), testPolicy())
	if err != nil {
		b.Fatal(err)
	}
	p := testPolicy()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := PatchStream(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNodeRoundTrip is the floor of PatchStream: a bare decode and
// encode of the corpus with yaml.v3 nodes, without patching, one encoder
// per document as PatchStream does.
func BenchmarkNodeRoundTrip(b *testing.B) {
	in := corpus()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dec := yaml.NewDecoder(bytes.NewReader(in))
		var out bytes.Buffer
		for i := 0; ; i++ {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			if err := encodeDoc(&out, &n, i > 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkUnstructuredRoundTrip is DESIGN.md's "bare decode and encode"
// anchor: apimachinery's YAML reader and sigs.k8s.io/yaml into maps and
// back.
func BenchmarkUnstructuredRoundTrip(b *testing.B) {
	in := corpus()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in)))
		var out bytes.Buffer
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			var obj map[string]any
			if err := sigsyaml.Unmarshal(doc, &obj); err != nil {
				b.Fatal(err)
			}
			if obj == nil {
				continue
			}
			data, err := sigsyaml.Marshal(obj)
			if err != nil {
				b.Fatal(err)
			}
			out.WriteString("---\n")
			out.Write(data)
		}
	}
}
