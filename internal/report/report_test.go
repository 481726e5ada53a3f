package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

type fake struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Cases      []Case `json:"-"`
}

func (f *fake) WriteTable(w io.Writer) error {
	_, err := io.WriteString(w, "TABLE\n")
	return err
}

func (f *fake) JUnit() Suite { return Suite{Name: "fake", Cases: f.Cases} }

func TestWrite(t *testing.T) {
	t.Parallel()
	r := &fake{APIVersion: "stretch.dev/v1alpha1", Kind: "FakeReport", Cases: []Case{
		{Name: "pass"},
		{Name: "fail", Failure: &Problem{Message: "m", Type: "fail", Text: "t <&>"}},
		{Name: "error", Error: &Problem{Message: "e"}},
		{Name: "skip", Skipped: &Skip{Message: "s"}},
	}}
	for format, want := range map[string]string{
		"table": "TABLE\n",
		"json":  "{\n  \"apiVersion\": \"stretch.dev/v1alpha1\",\n  \"kind\": \"FakeReport\"\n}\n",
		"yaml":  "apiVersion: stretch.dev/v1alpha1\nkind: FakeReport\n",
	} {
		var b bytes.Buffer
		if err := Write(&b, format, r); err != nil || b.String() != want {
			t.Errorf("%s: %q (err %v), want %q", format, b.String(), err, want)
		}
	}
	var b bytes.Buffer
	if err := Write(&b, "junit", r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<testsuite name="fake" tests="4" failures="1" errors="1" skipped="1">`,
		`<failure message="m" type="fail">t &lt;&amp;&gt;</failure>`,
		`<skipped message="s"></skipped>`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, b.String())
		}
	}
	if err := Write(&b, "xml", r); err == nil || err.Error() != `unknown output format "xml" (one of table, json, yaml, junit)` {
		t.Errorf("unknown format: %v", err)
	}
}
