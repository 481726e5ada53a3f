package generators

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/dns"
	"github.com/stretch-dev/kubectl-stretch/internal/layout"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
)

func writeMixin(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mixin.jsonnet")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDNSMixinChangesBothFiles: the zone snippet is written from the
// records after the mixins, so the two files never disagree.
func TestDNSMixinChangesBothFiles(t *testing.T) {
	t.Parallel()
	m := writeMixin(t, `{ dns+: { 'network/dns/records.yaml'+: { records: [r { ttl: 30 } for r in super.records] } } }`)
	opts := Options{Mixins: []string{m}}
	if got := fileData(t, opts, layout.DNSRecordsFile); strings.Count(got, "ttl: 30\n") != 2 {
		t.Errorf("records.yaml does not carry the mixin's TTL twice:\n%s", got)
	}
	got := fileData(t, opts, layout.DNSZoneFile)
	if !strings.Contains(got, "api.demo.example.eu. 30 IN A 203.0.113.10 ;") || strings.Contains(got, " 60 IN ") {
		t.Errorf("records.zone does not follow the mixin's TTL:\n%s", got)
	}
}

// TestDNSZoneIsNotABlueprintFile: only the generator writes the zone
// snippet; a blueprint or mixin that writes it is refused.
func TestDNSZoneIsNotABlueprintFile(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := writeMixin(t, `{ dns+: { 'network/dns/records.zone': { records: [] } } }`)
	_, err = Render(context.Background(), f.Topology, Options{BaseDir: "../testdata", Mixins: []string{m}})
	want := "network/dns/records.zone: not a file the dns layer knows (known: network/dns/records.yaml)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error containing %q", err, want)
	}
}

// TestDNSRecordsFollowTheTopology: an API endpoint given as an IP address
// and a topology without ingress get no record, and a control plane
// without a publicIP is published with its ip.
func TestDNSRecordsFollowTheTopology(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	records := func(tp *v1alpha1.Topology) *dns.Records {
		t.Helper()
		objs, _, err := renderObjects(context.Background(), tp, Options{BaseDir: "../testdata"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if r, ok := o.Typed.(*dns.Records); ok {
				return r
			}
		}
		t.Fatal("no records rendered")
		return nil
	}
	tp := *f.Topology
	tp.Spec.Kubernetes.APIEndpoint = "192.0.2.10"
	tp.Spec.Ingress = nil
	if r := records(&tp); len(r.Records) != 0 {
		t.Errorf("IP endpoint and no ingress: %d records, want none", len(r.Records))
	}
	tp = *f.Topology
	tp.Spec.Regions = append([]v1alpha1.Region{}, tp.Spec.Regions...)
	tp.Spec.Regions[2].Nodes = append([]v1alpha1.Node{}, tp.Spec.Regions[2].Nodes...)
	tp.Spec.Regions[2].Nodes[0].PublicIP = ""
	r := records(&tp)
	var api []string
	for _, tg := range r.Records[0].Targets {
		api = append(api, tg.Node+"="+tg.Address)
	}
	if got, want := strings.Join(api, " "), "sto1-cp-0=203.0.113.10 sto2-cp-0=203.0.113.20 osl1-cp-0=10.30.0.10"; got != want {
		t.Errorf("API targets %s, want %s", got, want)
	}
	var ing []string
	for _, tg := range r.Records[1].Targets {
		ing = append(ing, tg.Node)
	}
	if got, want := strings.Join(ing, " "), "sto1-w-0 sto1-w-1 sto2-w-0 sto2-w-1"; got != want || r.Records[1].HealthCheck.Path != "/healthz" {
		t.Errorf("ingress targets %s (health path %s), want %s on /healthz", got, r.Records[1].HealthCheck.Path, want)
	}
}

// TestDNSBlueprintIsBuild holds the dns blueprint to dns.Build, which
// verify --dns reads, over every golden topology.
func TestDNSBlueprintIsBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases(t) {
		c := tc.topology
		f, err := topology.Load(c)
		if err != nil {
			t.Fatal(err)
		}
		objs, _, err := renderObjects(context.Background(), f.Topology, Options{BaseDir: filepath.Dir(c)})
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		want, _ := json.Marshal(dns.Build(topology.NewModel(f.Topology)))
		found := false
		for _, o := range objs {
			if r, ok := o.Typed.(*dns.Records); ok {
				found = true
				if got, _ := json.Marshal(r); string(got) != string(want) {
					t.Errorf("%s: the blueprint wrote\n%s\ndns.Build returns\n%s", c, got, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no records", c)
		}
	}
}

// TestKubesprayNamesTheAPIEndpoint: for every golden topology the
// Kubespray variables put the API endpoint into the API server
// certificate and the admin kubeconfig's server, keep the per-node API
// proxy (no loadbalancer_apiserver, which the typed vars do not even
// have, and loadbalancer_apiserver_localhost not turned off), and leave
// kubeconfig_localhost, which writes a credential next to the inventory,
// to the operator.
func TestKubesprayNamesTheAPIEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases(t) {
		f, err := topology.Load(tc.topology)
		if err != nil {
			t.Fatal(err)
		}
		objs, _, err := renderObjects(context.Background(), f.Topology, Options{BaseDir: filepath.Dir(tc.topology)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ep := f.Topology.Spec.Kubernetes.APIEndpoint
		found := false
		for _, o := range objs {
			v, ok := o.Typed.(*kubespray.ClusterVars)
			if !ok {
				continue
			}
			found = true
			if !slices.Contains(v.SupplementaryAddressesInSSLKeys, ep) || v.KubeAPIServerAccessAddress != ep {
				t.Errorf("%s: supplementary_addresses_in_ssl_keys %v, kube_apiserver_access_address %q; want both to hold %s",
					tc.name, v.SupplementaryAddressesInSSLKeys, v.KubeAPIServerAccessAddress, ep)
			}
			if v.LoadbalancerAPIServerLocalhost != nil && !*v.LoadbalancerAPIServerLocalhost {
				t.Errorf("%s: loadbalancer_apiserver_localhost is off", tc.name)
			}
			if v.KubeconfigLocalhost != nil && *v.KubeconfigLocalhost {
				t.Errorf("%s: kubeconfig_localhost is on", tc.name)
			}
		}
		if !found {
			t.Errorf("%s: no k8s-cluster.yml", tc.name)
		}
	}
}
