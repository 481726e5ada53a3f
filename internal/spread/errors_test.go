package spread

import (
	"errors"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

const goodDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web}]
`

// TestPatchStreamBadInput checks that bad input gives an error naming the
// document, the object and the field, and no output.
func TestPatchStreamBadInput(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
	}{{
		name: "not-yaml",
		in:   "apiVersion: v1\nkind: ConfigMap\ndata: {a: [\n",
		want: "document 1 (line 3): yaml: did not find expected node content",
	}, {
		name: "tab-indent",
		in:   goodDeployment + "---\napiVersion: v1\nkind: ConfigMap\n\tdata: x\n",
		want: "document 2 (line 13): yaml: found a tab character that violates indentation",
	}, {
		name: "list-at-top",
		in:   "- apiVersion: v1\n  kind: ConfigMap\n",
		want: "document 1 (line 1, column 1): expected a Kubernetes object (a mapping), got a list",
	}, {
		name: "scalar-document",
		in:   goodDeployment + "---\nhello\n",
		want: "document 2 (line 12, column 1): expected a Kubernetes object (a mapping), got the string \"hello\"",
	}, {
		name: "missing-kind",
		in:   "apiVersion: v1\nmetadata: {name: x}\n",
		want: "document 1 (line 1, column 1): kind: missing",
	}, {
		name: "metadata-list",
		in:   "apiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n",
		want: "document 1 (line 3, column 11, ConfigMap): metadata: expected a mapping, got a list",
	}, {
		name: "spec-list",
		in:   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: [a, b]\n",
		want: "document 1 (line 4, column 7, Deployment shop/web): spec: expected a mapping, got a list",
	}, {
		name: "no-template",
		in:   "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {replicas: 1}\n",
		want: "document 1 (line 4, column 7, StatefulSet db): spec.template: missing",
	}, {
		name: "replicas-string",
		in:   strings.Replace(goodDeployment, "replicas: 1", "replicas: two", 1),
		want: "document 1 (line 5, column 13, Deployment shop/web): spec.replicas: expected an integer, got the string \"two\"",
	}, {
		name: "replicas-negative",
		in:   strings.Replace(goodDeployment, "replicas: 1", "replicas: -3", 1),
		want: "document 1 (line 5, column 13, Deployment shop/web): spec.replicas: expected an integer from 0 to 2147483647, got \"-3\"",
	}, {
		name: "tolerations-item",
		in:   strings.Replace(goodDeployment, "containers:", "tolerations: [x]\n      containers:", 1),
		want: "document 1 (line 10, column 21, Deployment shop/web): spec.template.spec.tolerations[0]: expected a mapping, got the string \"x\"",
	}, {
		name: "match-expressions-values",
		in: strings.Replace(goodDeployment, "containers:", "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "+
			"{nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: {x: y}}]}]}}}\n      containers:", 1),
		want: "document 1 (line 10, column 153, Deployment shop/web): spec.template.spec.affinity.nodeAffinity." +
			"requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: expected a list, got a mapping",
	}, {
		name: "labels-nested",
		in:   strings.Replace(goodDeployment, "labels: {app: web}", "labels: {app: {x: y}}", 1),
		want: "document 1 (line 8, column 30, Deployment shop/web): spec.template.metadata.labels.app: expected a string, got a mapping",
	}, {
		name: "hpa-min-float",
		in:   "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {minReplicas: 1.5}\n",
		want: "document 1 (line 4, column 21, HorizontalPodAutoscaler web): spec.minReplicas: expected an integer, got \"1.5\"",
	}, {
		name: "every-bad-document",
		in: "apiVersion: v1\nkind: [x]\n---\n" + goodDeployment + "---\n- a\n---\n" +
			strings.Replace(goodDeployment, "replicas: 1", "replicas: {}", 1),
		want: "document 1 (line 2, column 7): kind: expected a string, got a list\n" +
			"document 3 (line 15, column 1): expected a Kubernetes object (a mapping), got a list\n" +
			"document 4 (line 21, column 13, Deployment shop/web): spec.replicas: expected an integer, got a mapping",
	}, {
		name: "alias-cycle",
		in:   "apiVersion: v1\nkind: ConfigMap\ndata: &a {x: *a}\n",
		want: "document 1 (line 1, column 1): YAML aliases expand to more than 100000 nodes or refer to themselves",
	}, {
		name: "billion-laughs",
		in: "apiVersion: v1\nkind: ConfigMap\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
		want: "document 1 (line 1, column 1): YAML aliases expand to more than 100000 nodes or refer to themselves",
	}, {
		name: "bad-merge",
		in:   "apiVersion: v1\nkind: ConfigMap\nx: &s hello\ndata: {<<: *s}\n",
		want: "document 1 (line 1, column 1): a merge key (<<) must merge a mapping or a list of mappings",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, res, err := PatchStream([]byte(tt.in), testPolicy())
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n%s\nwant\n%s", err, tt.want)
			}
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DocumentError", err)
			}
			if out != nil || res != nil {
				t.Errorf("output %q and result %v with an error", out, res)
			}
		})
	}
}

// TestPatchBadInputChangesNothing checks that Patch reports every bad
// object and changes none of the good ones.
func TestPatchBadInputChangesNothing(t *testing.T) {
	good := kyaml.MustParse(goodDeployment)
	before := good.MustString()
	objs := []*kyaml.RNode{good, nil, kyaml.MustParse("[1, 2]")}
	res, err := Patch(objs, testPolicy())
	want := "document 2: expected a Kubernetes object, got nothing\n" +
		"document 3 (line 1, column 1): expected a Kubernetes object (a mapping), got a list"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want\n%s", err, want)
	}
	if res != nil {
		t.Errorf("result %v with an error", res)
	}
	if after := good.MustString(); after != before {
		t.Errorf("the good object changed:\n%s", after)
	}
}

// TestPolicyValidate checks that Patch and PatchStream refuse a policy they
// cannot enforce.
func TestPolicyValidate(t *testing.T) {
	p := Policy{DataZones: []string{"sto1", "", "sto1"}}
	want := "spread policy: zone key is empty\n" +
		"a data zone is empty\n" +
		"data zone \"sto1\" is listed twice\n" +
		"minReplicas is 0, want at least 1"
	if _, _, err := PatchStream([]byte(goodDeployment), p); err == nil || err.Error() != want {
		t.Errorf("PatchStream: %v, want\n%s", err, want)
	}
	if _, err := Patch(nil, Policy{ZoneKey: "z", MinReplicas: 1}); err == nil || err.Error() != "spread policy: no data zones" {
		t.Errorf("Patch: %v, want spread policy: no data zones", err)
	}
	if err := testPolicy().Validate(); err != nil {
		t.Errorf("testPolicy: %v", err)
	}
}

// TestReadAndInFiles checks that objects read by Read from several files
// give errors naming the file, line and column of the bad field, and the
// file and line of bad YAML.
func TestReadAndInFiles(t *testing.T) {
	files := []struct{ name, data string }{
		{"a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
		{"b.yaml", "# b\n" + goodDeployment + "---\n" + strings.Replace(goodDeployment, "replicas: 1", "replicas: two", 1)},
	}
	var in []File
	for _, f := range files {
		in = append(in, File{Name: f.name, Data: []byte(f.data)})
	}
	objs, origin, err := ReadFiles(in)
	if err != nil {
		t.Fatalf("ReadFiles: %v", err)
	}
	_, err = Patch(objs, testPolicy())
	want := `b.yaml:17:13: Deployment shop/web: spec.replicas: expected an integer, got the string "two"`
	if err = InFiles(err, origin); err == nil || err.Error() != want {
		t.Errorf("Patch: %v\nwant %s", err, want)
	}
	var de *DocumentError
	if !errors.As(err, &de) || de.Document != 2 {
		t.Errorf("the error's document in b.yaml: %+v, want 2", de)
	}

	_, _, err = ReadFiles(append(in, File{Name: "bad.yaml", Data: []byte("kind: ConfigMap\n---\nkind: [\n")}))
	want = "bad.yaml:3: yaml: did not find expected node content"
	if err == nil || err.Error() != want {
		t.Errorf("ReadFiles: %v\nwant %s", err, want)
	}
}

// TestReadUnwrapsLists checks that a lone List is read as its items, as
// kio.ByteReader reads it, and that a List among other documents is not.
func TestReadUnwrapsLists(t *testing.T) {
	list := "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
	objs, err := Read([]byte(list))
	if err != nil || len(objs) != 2 || objs[1].GetName() != "b" || objs[1].YNode().Line != 5 {
		t.Fatalf("Read of a List: %d objects, %v; want its 2 items, the second at line 5", len(objs), err)
	}
	objs, err = Read([]byte(list + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
	if err != nil || len(objs) != 2 || objs[0].GetKind() != "List" {
		t.Fatalf("Read of a List and a ConfigMap: %d objects, %v; want both as they are", len(objs), err)
	}
}

// TestNonUTF8 checks that a byte that is not UTF-8 is reported at its
// line and column, in its document, by Read and PatchStream.
func TestNonUTF8(t *testing.T) {
	in := []byte("# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
	want := "document 2 (line 9, column 21): invalid UTF-8 (byte 0xe9); the file must be UTF-8 text"
	if _, err := Read(in); err == nil || err.Error() != want {
		t.Errorf("Read: %v, want %s", err, want)
	}
	if _, _, err := PatchStream(in, testPolicy()); err == nil || err.Error() != want {
		t.Errorf("PatchStream: %v, want %s", err, want)
	}
	_, _, err := ReadFiles([]File{{Name: "apps/a.yaml", Data: in}})
	if want := "apps/a.yaml:9:21: invalid UTF-8 (byte 0xe9); the file must be UTF-8 text"; err == nil || err.Error() != want {
		t.Errorf("ReadFiles: %v, want %s", err, want)
	}
}

// TestCustomTag checks that a tag outside YAML's core schema is refused at
// its line and column, and a core one is not.
func TestCustomTag(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: !!str a}\ndata:\n  b: !!binary aGk=\n")
	want := "document 1 (line 5, column 6): YAML tag \"!!binary\" is not supported in a Kubernetes manifest; remove the tag and write the value as plain YAML"
	if _, _, err := PatchStream(in, testPolicy()); err == nil || err.Error() != want {
		t.Errorf("PatchStream: %v, want %s", err, want)
	}
}
