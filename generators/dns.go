package generators

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stretch-dev/kubectl-stretch/internal/dns"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
)

// dnsGenerator renders the dns layer: dns.jsonnet writes the typed records
// (network/dns/records.yaml), which must follow dns.Records' rules, and
// the zone-file snippet is written from the decoded records, so that a
// mixin changes both files alike.
type dnsGenerator struct{}

func (dnsGenerator) Layer() string { return layout.DNS }

func (dnsGenerator) blueprinted() {}

func (g dnsGenerator) Generate(_ context.Context, in *layerInput) ([]object, error) {
	files, err := in.Engine.evalLayer(layout.DNS, in.ModelJSON, nil)
	if err != nil {
		return nil, err
	}
	objs, err := decodeFiles(layout.DNS, files)
	if err != nil {
		return nil, err
	}
	var out []object
	for _, o := range objs {
		out = append(out, o)
		recs, ok := o.Typed.(*dns.Records)
		if !ok {
			continue
		}
		if problems := recs.Validate(); len(problems) > 0 {
			msg := problems[0]
			if len(problems) > 1 {
				msg = fmt.Sprintf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
			}
			return nil, &decodeError{errs: []error{fmt.Errorf("%s: %s", o.Path, msg)}}
		}
		out = append(out, object{Path: layout.DNSZoneFile, Layer: layout.DNS, Text: dns.Zone(recs)})
	}
	if len(out) == len(objs) {
		return nil, errors.New("the dns blueprint wrote no " + layout.DNSRecordsFile)
	}
	return out, nil
}
