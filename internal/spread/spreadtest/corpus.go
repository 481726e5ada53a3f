// Package spreadtest holds what the spread patcher's tests and benchmarks
// share with the command-line benchmarks: the generated workload corpus and
// the bare decode/encode baseline.
package spreadtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// Corpus generates a benchmark stream of Deployments and StatefulSets with
// volumeClaimTemplates, all at one replica and none spread; the
// StatefulSets opt in to being raised (stretch.dev/min-replicas: "2"). With 2,000 and
// 500 it is the project's performance anchor (about 1 MB).
func Corpus(deployments, statefulsets int) []byte {
	var b bytes.Buffer
	for i := range deployments {
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
	for i := range statefulsets {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-%04d
  namespace: bench
  annotations:
    stretch.dev/min-replicas: "2"
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

// RoundTrip is the "bare decode and encode" performance anchor: apimachinery's
// YAML reader and sigs.k8s.io/yaml into maps and back, document by
// document.
func RoundTrip(in []byte) ([]byte, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in)))
	var out bytes.Buffer
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		} else if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := sigsyaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if obj == nil {
			continue
		}
		data, err := sigsyaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(data)
	}
}
