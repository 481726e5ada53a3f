package app

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/stretch-dev/kubectl-stretch/generators"
	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/apply"
	"github.com/stretch-dev/kubectl-stretch/internal/check"
	"github.com/stretch-dev/kubectl-stretch/internal/crds"
	"github.com/stretch-dev/kubectl-stretch/internal/sim"
	"github.com/stretch-dev/kubectl-stretch/internal/testenv"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
)

// verifyIDs is every check of the registry, in report order.
var verifyIDs = []string{
	"NODE001", "NODE002", "NODE003", "NODE004", "NODE005", "NODE006", "NODE007",
	"CP001", "CP002", "CP003",
	"NET001", "NET002", "NET003", "NET004", "NET005", "NET006", "NET007", "NET008", "NET010", "NET011", "NET020",
	"STOR001", "STOR002", "STOR003", "STOR004", "STOR005", "STOR006", "STOR007", "STOR008", "STOR009", "STOR010", "STOR011",
	"WORK001", "WORK002", "WORK003", "WORK004", "WORK005", "WORK006",
	"CAP001", "CAP002",
}

// edgeStatus is what the checks outside the API's objects report on the
// simulated cluster: its kube-apiserver's certificate names localhost and
// the loopback addresses, not the example's api.demo.example.eu, and the
// kubeconfig points at 127.0.0.1 (NET010 warns; "endpoint and DNS" shows
// it passing), and verify runs without --dns (NET011 skips).
var edgeStatus = map[string]check.Status{"NET010": check.StatusWarn, "NET011": check.StatusSkip}

// liveStatus is a check's status on the healthy simulated cluster.
func liveStatus(id string) check.Status {
	if s, ok := edgeStatus[id]; ok {
		return s
	}
	return check.StatusPass
}

const verifyFieldManager = "kubectl-stretch-verify-test"

var (
	cephClusterGVR   = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephclusters"}
	cephBlockPoolGVR = schema.GroupVersionResource{Group: "ceph.rook.io", Version: "v1", Resource: "cephblockpools"}
	crdGVR           = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// TestVerifyLive runs verify against a real etcd and kube-apiserver with
// the real Rook and Flux CRDs and our FelixConfiguration CRD. The example
// bundle is applied for real; the test then writes what Kubespray, the
// kubelets, Calico, Rook and the workload controllers would (nodes, their
// status and annotations, Ceph daemon pods, CephCluster status, workload
// pods) and checks that verify passes, that breaking one thing at a time
// fails exactly the checks about it, that the bundle's ClusterRole is
// enough, and that a kind that cannot be read makes its checks error.
func TestVerifyLive(t *testing.T) {
	if testing.Short() {
		t.Skip("needs bin/testbin (-short)")
	}
	start := time.Now()
	cp := sim.StartForTest(t)
	if err := cp.InstallBundleCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("control plane and CRDs ready in %s", time.Since(start).Round(time.Millisecond))
	fx := newVerifyFixture(t, cp.RESTConfig())
	t.Logf("bundle applied and cluster state written in %s", time.Since(start).Round(time.Millisecond))
	admin := "--kubeconfig=" + cp.Kubeconfig()

	t.Run("passes", func(t *testing.T) {
		report, out := verifyJSON(t, ExitOK, admin)
		var got []string
		for _, r := range report.Results {
			got = append(got, r.ID+" "+string(r.Status))
			if r.Status != liveStatus(r.ID) {
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
			}
			if r.ID == "NET010" && !strings.Contains(r.Message, "does not name the API endpoint api.demo.example.eu (it names localhost, ") {
				t.Errorf("NET010 did not read the live certificate: %s", r.Message)
			}
		}
		var want []string
		for _, id := range verifyIDs {
			want = append(want, id+" "+string(liveStatus(id)))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantSummary := v1alpha1.VerifySummary{Checks: len(verifyIDs), Passed: len(verifyIDs) - 2, Warnings: 1, Skipped: 1, APIRequests: 15}
		if report.Summary != wantSummary || report.APIVersion != "stretch.dev/v1alpha1" || report.Kind != "VerifyReport" || report.Topology != "demo-eu" {
			t.Errorf("report header %s %s %s, summary %+v; want %+v", report.APIVersion, report.Kind, report.Topology, report.Summary, wantSummary)
		}
		// The same cluster gives the same bytes.
		if _, again := verifyJSON(t, ExitOK, admin); again != out {
			t.Error("two runs over the same cluster gave different reports")
		}
		// One request per kind while every kind fits in a page; paging
		// adds requests per page, not per object.
		if r, _ := verifyJSON(t, ExitOK, admin, "--chunk-size=5"); r.Summary.APIRequests != 21 {
			t.Errorf("--chunk-size=5: %d API requests, want 21 (11 nodes in 3 pages, 22 pods in 5, the 13 other kinds 1 each)", r.Summary.APIRequests)
		}
	})

	t.Run("formats", func(t *testing.T) {
		code, table, _ := run(t, "verify", admin, "-f", example)
		lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
		if code != ExitOK || len(lines) != len(verifyIDs)+2 || !strings.HasPrefix(lines[0], "ID ") ||
			lines[len(lines)-1] != "40 checks: 38 passed, 0 failed, 1 warnings, 0 errors, 1 skipped (15 API requests)" {
			t.Errorf("table (exit %d):\n%s", code, table)
		}
		code, out, _ := run(t, "verify", admin, "-f", example, "-o", "yaml")
		var fromYAML check.Report
		if err := yaml.UnmarshalStrict([]byte(out), &fromYAML); code != ExitOK || err != nil || len(fromYAML.Results) != len(verifyIDs) || fromYAML.Kind != "VerifyReport" {
			t.Errorf("yaml (exit %d, %v):\n%s", code, err, out)
		}
		code, out, _ = run(t, "verify", admin, "-f", example, "-o", "junit")
		var suites struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &suites); code != ExitOK || err != nil || len(suites.Suites) != 1 ||
			suites.Suites[0].Tests != len(verifyIDs) || suites.Suites[0].Failures != 0 {
			t.Errorf("junit (exit %d, %v):\n%s", code, err, out)
		}
		code, _, errOut := run(t, "verify", admin, "-f", example, "-v", "-o", "json")
		if code != ExitOK || !strings.HasPrefix(errOut, "verify: 15 API requests, snapshot in ") {
			t.Errorf("-v (exit %d): %q", code, errOut)
		}
	})

	// NET010 and NET011 on the live cluster: a topology whose API endpoint
	// is a name the simulated kube-apiserver's certificate holds (the
	// kubeconfig says 127.0.0.1), and a DNS server on loopback that
	// answers for the endpoint and the ingress host.
	t.Run("endpoint and DNS", func(t *testing.T) {
		topo := exampleCopy(t, "", nil)
		data, err := os.ReadFile(topo)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.Replace(string(data), "apiEndpoint: api.demo.example.eu", "apiEndpoint: kubernetes.default.svc", 1))
		if err := os.WriteFile(topo, data, 0o644); err != nil {
			t.Fatal(err)
		}
		answers := map[string][]string{
			"kubernetes.default.svc": {"203.0.113.10", "203.0.113.20", "203.0.113.30"},
			"apps.demo.example.eu":   {"10.10.0.20", "10.10.0.21", "10.20.0.20", "10.20.0.21"},
		}
		dnsArgs := []string{"--dns", "--dns-server", testenv.DNSServer(t, answers)}
		result := func(r *check.Report, id string) check.Result {
			for _, res := range r.Results {
				if res.ID == id {
					return res
				}
			}
			t.Fatalf("no %s result", id)
			return check.Result{}
		}
		code, out, errOut := run(t, append([]string{"verify", admin, "-f", topo, "-o", "json"}, dnsArgs...)...)
		r := decodeReport(t, code, ExitOK, out, errOut)
		if res := result(r, "NET010"); res.Status != check.StatusPass ||
			!strings.HasPrefix(res.Message, "the API server's certificate names the API endpoint kubernetes.default.svc (the kubeconfig uses https://127.0.0.1:") {
			t.Errorf("NET010 %s: %s", res.Status, res.Message)
		}
		if res := result(r, "NET011"); res.Status != check.StatusPass ||
			res.Message != "kubernetes.default.svc -> 203.0.113.10, 203.0.113.20, 203.0.113.30; apps.demo.example.eu -> 10.10.0.20, 10.10.0.21, 10.20.0.20, 10.20.0.21" {
			t.Errorf("NET011 %s: %s", res.Status, res.Message)
		}
		// sto1 is lost, and DNS still answers its addresses.
		nodes := fx.model.Regions[0].Nodes
		fx.setReady(t, corev1.ConditionUnknown, nodes...)
		defer fx.setReady(t, corev1.ConditionTrue, nodes...)
		code, out, errOut = run(t, append([]string{"verify", admin, "-f", topo, "-o", "json"}, dnsArgs...)...)
		r = decodeReport(t, code, ExitFailed, out, errOut)
		var msgs []string
		for _, res := range r.Results {
			if res.ID == "NET011" {
				msgs = append(msgs, string(res.Status)+" "+res.Object+": "+res.Message)
			}
		}
		want := []string{
			"fail DNS/kubernetes.default.svc: kubernetes.default.svc (api) also answers 203.0.113.10 [its node is down: 203.0.113.10 (sto1-cp-0, sto1, Ready=Unknown (NodeStatusUnknown))]: " +
				"the DNS service must stop answering it (health check, TTL at most 60 s)",
			"fail DNS/apps.demo.example.eu: apps.demo.example.eu (ingress) also answers 10.10.0.20 [its node is down: 10.10.0.20 (sto1-w-0, sto1, Ready=Unknown (NodeStatusUnknown))]; " +
				"10.10.0.21 [its node is down: 10.10.0.21 (sto1-w-1, sto1, Ready=Unknown (NodeStatusUnknown))]: the DNS service must stop answering it (health check, TTL at most 60 s)",
		}
		if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
			t.Errorf("NET011 with sto1 lost:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("dns flags", func(t *testing.T) {
		for _, tc := range []struct{ args, want string }{
			{"--dns-server=127.0.0.1", "error: --dns-server needs --dns\n"},
			{"--dns --dns-server=dns.example.eu", `error: --dns-server "dns.example.eu": want an IP address, with :PORT or not (port 53)` + "\n"},
			{"--dns --dns-server=127.0.0.1:0", `error: --dns-server "127.0.0.1:0": the port must be 1 to 65535` + "\n"},
		} {
			code, out, errOut := run(t, append([]string{"verify", admin, "-f", example}, strings.Fields(tc.args)...)...)
			if code != ExitError || out != "" || errOut != tc.want {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %q, want %q", tc.args, code, out, errOut, tc.want)
			}
		}
	})

	// Break one thing at a time: exactly the checks about it fail, with a
	// message that says what to do. Each case undoes its change.
	for _, tc := range []struct {
		name  string
		brk   func(t *testing.T) (undo func(t *testing.T))
		fails map[string][]string // check ID -> substrings of its messages
	}{
		{
			name: "missing WireGuard key",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.patchNode(t, "sto2-w-0", `{"metadata":{"annotations":{"projectcalico.org/WireguardPublicKey":null}}}`)
				return func(t *testing.T) {
					fx.patchNode(t, "sto2-w-0", fmt.Sprintf(`{"metadata":{"annotations":{"projectcalico.org/WireguardPublicKey":%q}}}`, sim.WireGuardPublicKey("sto2-w-0")))
				}
			},
			fails: map[string][]string{"NET004": {"node sto2-w-0 has no projectcalico.org/WireguardPublicKey annotation", "check calico-node's log on sto2-w-0"}},
		},
		{
			name: "pool of size 3",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.patchCR(t, cephBlockPoolGVR, "replicapool", `{"spec":{"replicated":{"size":3}}}`)
				return func(t *testing.T) {
					fx.patchCR(t, cephBlockPoolGVR, "replicapool", `{"spec":{"replicated":{"size":4}}}`)
				}
			},
			fails: map[string][]string{"STOR005": {"CephBlockPool replicapool has replicated.size 3, want 4", "set spec.replicated.size: 4"}},
		},
		{
			name: "mon in the wrong zone",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.deletePod(t, "rook-ceph", "rook-ceph-mon-d")
				fx.monPod(t, "d", "sto1", "sto1-w-0")
				return func(t *testing.T) {
					fx.deletePod(t, "rook-ceph", "rook-ceph-mon-d")
					fx.monPod(t, "d", "sto2", "sto2-s-1")
				}
			},
			fails: map[string][]string{"STOR002": {"region sto1 runs 3 mons (a, b, d), want 2", "region sto2 runs 1 mon (c), want 2", "Rook places 2 mons per data region"}},
		},
		{
			name: "RBD CSI driver not registered",
			brk: func(t *testing.T) func(t *testing.T) {
				driver := fx.model.Storage.Provisioner
				if err := fx.client.StorageV1().CSIDrivers().Delete(fx.ctx, driver, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if _, err := fx.client.StorageV1().CSIDrivers().Create(fx.ctx, sim.CSIDriverObject(driver), metav1.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			},
			fails: map[string][]string{"STOR011": {"no CSIDriver rook-ceph.rbd.csi.ceph.com", "every PersistentVolumeClaim on it stays Pending", "ceph-csi-drivers HelmRelease"}},
		},
		{
			name: "missing zone label",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.patchNode(t, "sto1-w-1", `{"metadata":{"labels":{"topology.kubernetes.io/zone":null}}}`)
				return func(t *testing.T) {
					fx.patchNode(t, "sto1-w-1", `{"metadata":{"labels":{"topology.kubernetes.io/zone":"sto1"}}}`)
				}
			},
			fails: map[string][]string{"NODE002": {"node sto1-w-1 has no topology.kubernetes.io/zone label (want sto1)", `kubectl label node sto1-w-1 topology.kubernetes.io/zone=sto1`}},
		},
		{
			name: "Deployment at one replica",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.scale(t, "storefront", 1)
				fx.deletePod(t, "shop", "storefront-7d9c5b-b")
				return func(t *testing.T) {
					fx.scale(t, "storefront", 2)
					fx.storefrontPod(t, "b", "sto2-w-0")
				}
			},
			fails: map[string][]string{"WORK001": {"Deployment/shop/storefront runs 1 replica, below the topology's minReplicas 2", "set spec.replicas: 2"}},
		},
		{
			name: "all of a Deployment's pods in one region",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.deletePod(t, "shop", "storefront-7d9c5b-b")
				fx.storefrontPod(t, "c", "sto1-w-1")
				return func(t *testing.T) {
					fx.deletePod(t, "shop", "storefront-7d9c5b-c")
					fx.storefrontPod(t, "b", "sto2-w-0")
				}
			},
			fails: map[string][]string{"WORK004": {"Deployment/shop/storefront runs no pod in sto2 (sto1: 2, sto2: 0)", "kubectl rollout restart deployment/storefront -n shop"}},
		},
		{
			name: "data region without capacity",
			brk: func(t *testing.T) func(t *testing.T) {
				fx.setAllocatableCPU(t, "700m", "sto2-w-0", "sto2-w-1")
				return func(t *testing.T) { fx.setAllocatableCPU(t, "8", "sto2-w-0", "sto2-w-1") }
			},
			fails: map[string][]string{"CAP001": {"region sto2 alone cannot run the workloads: at full replicas they request 1500m CPU", "have 1400m CPU", "add nodes or capacity to sto2"}},
		},
		{
			name: "region lost",
			brk: func(t *testing.T) func(t *testing.T) {
				nodes := fx.model.Regions[0].Nodes
				fx.setReady(t, corev1.ConditionUnknown, nodes...)
				return func(t *testing.T) { fx.setReady(t, corev1.ConditionTrue, nodes...) }
			},
			fails: map[string][]string{
				"NODE007": {"node sto1-cp-0 in region sto1 is not Ready (Ready=Unknown (NodeStatusUnknown))", "node sto1-s-1"},
				"CP001":   {"region sto1 has no Ready control-plane node (topology: sto1-cp-0)"},
				"CP002":   {"losing region sto2 would leave etcd 1 of 3 members, short of the majority of 2; down now: sto1-cp-0"},
				"CP003":   {"no kube-apiserver pod is Running on a Ready node of region sto1"},
				"WORK004": {"Deployment/shop/storefront runs no pod in sto1 (sto1: 0, sto2: 1): that region has no Ready node (NODE007)", "StatefulSet/shop/orders-db runs no pod in sto1"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.brk(t)
			report, _ := verifyJSON(t, ExitFailed, admin)
			messages := map[string][]string{}
			for _, r := range report.Results {
				switch r.Status {
				case check.StatusFail:
					messages[r.ID] = append(messages[r.ID], r.Message)
				case liveStatus(r.ID):
				default:
					t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
				}
			}
			if got, want := sortedIDs(messages), sortedIDs(tc.fails); !slices.Equal(got, want) {
				t.Errorf("failed checks %v, want %v:\n%s", got, want, formatMessages(messages))
			}
			for id, subs := range tc.fails {
				all := strings.Join(messages[id], "\n")
				for _, s := range subs {
					if !strings.Contains(all, s) {
						t.Errorf("%s: no message contains %q:\n%s", id, s, all)
					}
				}
			}
			undo(t)
			if t.Failed() {
				return
			}
			verifyJSON(t, ExitOK, admin) // undone: passes again
		})
	}

	// The bundle's ClusterRole (applied with it) is all verify needs: a
	// user in the group stretch:verifiers gets the admin's report.
	t.Run("only the stretch-verify ClusterRole", func(t *testing.T) {
		_, want := verifyJSON(t, ExitOK, admin)
		kc := fx.userKubeconfig(t, cp, "verifier", "stretch:verifiers")
		_, got := verifyJSON(t, ExitOK, "--kubeconfig="+kc)
		if got != want {
			t.Errorf("verifier's report differs from the admin's:\n%s\nwant:\n%s", got, want)
		}
		// Without the role, nothing can be listed: every check that lists
		// a kind errors (NET010 reads the certificate, no kind).
		kc = fx.userKubeconfig(t, cp, "stranger")
		report, _ := verifyJSON(t, ExitError, "--kubeconfig="+kc)
		if report.Summary.Errors != len(verifyIDs)-1 || report.Summary.Warnings != 1 {
			t.Errorf("without the role: %+v", report.Summary)
		}
	})

	t.Run("RBAC forbids pods", func(t *testing.T) {
		fx.clusterRoleWithout(t, "verify-without-pods", "partial", "pods")
		kc := fx.userKubeconfig(t, cp, "partial-verifier", "partial")
		report, _ := verifyJSON(t, ExitError, "--kubeconfig="+kc)
		needsPods := map[string]bool{}
		for _, c := range check.Checks() {
			needsPods[c.ID] = slices.Contains(c.Needs, check.KindPods)
		}
		// The cause once; each check that reads pods says it did not run.
		want := []v1alpha1.VerifyUnavailable{{Kinds: []string{"pods"},
			Message: `cannot list pods: forbidden by RBAC (pods is forbidden: User "partial-verifier" cannot list resource "pods" in API group "" at the cluster scope): ` +
				`bind this user to the ClusterRole stretch-verify (access/ in the bundle; members of the group stretch:verifiers have it)`}}
		if !equalUnavailable(report.Unavailable, want) || !report.Summary.Partial {
			t.Errorf("unavailable %+v, summary %+v", report.Unavailable, report.Summary)
		}
		for _, r := range report.Results {
			switch {
			case needsPods[r.ID] && (r.Status != check.StatusError || r.Message != "not run: pods unavailable (see above)"):
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
			case !needsPods[r.ID] && r.Status != liveStatus(r.ID):
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
			}
		}
		// A failed check wins over one that could not run: exit 1.
		fx.patchCR(t, cephBlockPoolGVR, "replicapool", `{"spec":{"replicated":{"size":3}}}`)
		defer fx.patchCR(t, cephBlockPoolGVR, "replicapool", `{"spec":{"replicated":{"size":4}}}`)
		report, _ = verifyJSON(t, ExitFailed, "--kubeconfig="+kc)
		if report.Summary.Failed != 1 || report.Summary.Errors == 0 {
			t.Errorf("fail and error: %+v", report.Summary)
		}
	})

	t.Run("unreachable API server", func(t *testing.T) {
		code, out, errOut := run(t, "verify", admin, "--server=https://127.0.0.1:1", "-f", example)
		if code != ExitError || out != "" || errOut != "error: verify: cannot reach the API server at https://127.0.0.1:1: "+
			"Get \"https://127.0.0.1:1/version?timeout=30s\": dial tcp 127.0.0.1:1: connect: connection refused\n" {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	// Last: it removes a CRD for good.
	t.Run("CRD missing", func(t *testing.T) {
		fx.deleteCRD(t, crds.FelixConfigurationName, "felixconfigurations")
		report, _ := verifyJSON(t, ExitError, admin)
		want := "cannot list felixconfigurations.crd.projectcalico.org: the CRD is not installed (the API server does not serve crd.projectcalico.org/v1 felixconfigurations): install Calico"
		if len(report.Unavailable) != 1 || !strings.HasPrefix(report.Unavailable[0].Message, want) {
			t.Errorf("unavailable %+v", report.Unavailable)
		}
		for _, r := range report.Results {
			isNet := slices.Contains([]string{"NET001", "NET002", "NET003"}, r.ID)
			switch {
			case isNet && (r.Status != check.StatusError || r.Message != "not run: felixconfigurations.crd.projectcalico.org unavailable (see above)"):
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
			case !isNet && r.Status != liveStatus(r.ID):
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Message)
			}
		}
	})
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

func sortedIDs[V any](m map[string]V) []string {
	var ids []string
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func formatMessages(m map[string][]string) string {
	var b strings.Builder
	for _, id := range sortedIDs(m) {
		for _, msg := range m[id] {
			fmt.Fprintf(&b, "  %s: %s\n", id, msg)
		}
	}
	return b.String()
}

// verifyJSON runs verify -o json on the example and decodes the report;
// the exit code must be want.
func verifyJSON(t *testing.T, want int, args ...string) (*check.Report, string) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"verify", "-f", example, "-o", "json"}, args...)...)
	return decodeReport(t, code, want, out, errOut), out
}

// verifyFixture is a cluster with the example bundle applied and the
// state that its controllers and agents would write.
type verifyFixture struct {
	cfg    *rest.Config
	client kubernetes.Interface
	dyn    dynamic.Interface
	model  *topology.Model
	ctx    context.Context
	uids   map[string]types.UID // "Deployment/storefront", "ReplicaSet/...", "StatefulSet/...", "DaemonSet/..."
}

func newVerifyFixture(t *testing.T, cfg *rest.Config) *verifyFixture {
	t.Helper()
	f, err := topology.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	fx := &verifyFixture{cfg: cfg, model: topology.NewModel(f.Topology), ctx: t.Context(), uids: map[string]types.UID{}}
	if fx.client, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if fx.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}

	// The bundle, applied for real. Flux's bootstrap creates flux-system.
	out, err := generators.Render(t.Context(), f.Topology, generators.Options{BaseDir: filepath.Dir(example)})
	if err != nil {
		t.Fatal(err)
	}
	objs := []*unstructured.Unstructured{{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "flux-system"},
	}}}
	cluster, err := ClusterObjects(out.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, cluster...)
	if err := apply.Apply(t.Context(), cfg, objs, verifyFieldManager); err != nil {
		t.Fatal(err)
	}

	// The ceph-csi-drivers chart and Ceph CSI's operator: a CSIDriver for
	// each driver the bundle's release enables.
	for _, o := range objs {
		if o.GetKind() != "HelmRelease" {
			continue
		}
		for _, name := range sim.CSIDriversOf(o) {
			if _, err := fx.client.StorageV1().CSIDrivers().Create(fx.ctx, sim.CSIDriverObject(name), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Kubespray and the kubelets: the nodes, Ready. Calico: its
	// annotations.
	for i, n := range fx.model.Nodes {
		node, err := sim.NodeObject(n, fx.model.Kubernetes.Version)
		if err != nil {
			t.Fatal(err)
		}
		node.Annotations = map[string]string{
			"projectcalico.org/WireguardPublicKey":         sim.WireGuardPublicKey(n.Name),
			"projectcalico.org/IPv4WireguardInterfaceAddr": fmt.Sprintf("10.233.%d.1", 64+i),
			"projectcalico.org/IPv4Address":                n.IP + "/24",
		}
		status := node.Status
		created, err := fx.client.CoreV1().Nodes().Create(fx.ctx, node, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status = status
		created.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		if _, err := fx.client.CoreV1().Nodes().UpdateStatus(fx.ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// kube-controller-manager: the default ServiceAccounts pods need.
	for _, ns := range []string{"kube-system", "rook-ceph", "shop"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
		if _, err := fx.client.CoreV1().ServiceAccounts(ns).Create(fx.ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	// kubeadm's static pods: an API server on every control-plane node.
	for _, n := range fx.model.Nodes {
		if n.ControlPlane {
			fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-" + n.Name, Namespace: "kube-system",
				Labels: map[string]string{"component": "kube-apiserver", "tier": "control-plane"}}}, n.Name)
		}
	}

	// Rook: mons 2/2/1, one OSD per storage node, two mgrs; the CephCluster
	// and pool status.
	mons := []struct{ id, region, node string }{
		{"a", "sto1", "sto1-s-0"}, {"b", "sto1", "sto1-s-1"}, {"c", "sto2", "sto2-s-0"}, {"d", "sto2", "sto2-s-1"}, {"e", "osl1", "osl1-cp-0"},
	}
	for _, m := range mons {
		fx.monPod(t, m.id, m.region, m.node)
	}
	for i, node := range fx.model.Storage.StorageNodes {
		id := fmt.Sprint(i)
		region := strings.SplitN(node, "-", 2)[0]
		fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rook-ceph-osd-" + id, Namespace: "rook-ceph",
			Labels: map[string]string{"app": "rook-ceph-osd", "ceph-osd-id": id, "osd": id, "topology-location-zone": region,
				"topology-location-host": node, "topology-location-region": "demo-eu"}}}, node)
	}
	for i, node := range []string{"sto1-s-0", "sto2-s-0"} {
		id := string(rune('a' + i))
		fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rook-ceph-mgr-" + id, Namespace: "rook-ceph",
			Labels: map[string]string{"app": "rook-ceph-mgr", "mgr": id}}}, node)
	}
	fx.crStatus(t, cephClusterGVR, "rook-ceph", map[string]any{
		"phase": "Ready", "state": "Created", "message": "Cluster created successfully",
		"ceph": map[string]any{"health": "HEALTH_OK", "lastChecked": "2026-08-21T10:00:00Z"},
	})
	fx.crStatus(t, cephBlockPoolGVR, "builtin-mgr", map[string]any{"phase": "Ready"})
	fx.crStatus(t, cephBlockPoolGVR, "replicapool", map[string]any{"phase": "Ready"})

	// The workload controllers: storefront's ReplicaSet and pods, one per
	// data region; orders-db's pods and claims; log-shipper on the workers.
	storefront, err := fx.client.AppsV1().Deployments("shop").Get(fx.ctx, "storefront", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "storefront-7d9c5b", Namespace: "shop",
			Labels:          map[string]string{"app": "storefront", "pod-template-hash": "7d9c5b"},
			OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "storefront", storefront.UID)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: storefront.Spec.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront", "pod-template-hash": "7d9c5b"}},
			Template: *storefront.Spec.Template.DeepCopy()},
	}
	rs.Spec.Template.Labels = rs.Labels
	created, err := fx.client.AppsV1().ReplicaSets("shop").Create(fx.ctx, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fx.uids["ReplicaSet/storefront-7d9c5b"] = created.UID
	fx.storefrontPod(t, "a", "sto1-w-0")
	fx.storefrontPod(t, "b", "sto2-w-0")

	db, err := fx.client.AppsV1().StatefulSets("shop").Get(fx.ctx, "orders-db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, node := range []string{"sto1-w-1", "sto2-w-1"} {
		name := fmt.Sprintf("orders-db-%d", i)
		spec := db.Spec.Template.Spec.DeepCopy()
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-" + name}}})
		fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop",
			Labels:          map[string]string{"app": "orders-db", "statefulset.kubernetes.io/pod-name": name},
			OwnerReferences: []metav1.OwnerReference{controllerRef("StatefulSet", "orders-db", db.UID)}},
			Spec: *spec}, node)
		claim := db.Spec.VolumeClaimTemplates[0].DeepCopy()
		claim.Name, claim.Namespace = "data-"+name, "shop"
		claim.Labels = map[string]string{"app": "orders-db"}
		if _, err := fx.client.CoreV1().PersistentVolumeClaims("shop").Create(fx.ctx, claim, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := fx.client.AppsV1().DaemonSets("shop").Get(fx.ctx, "log-shipper", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"sto1-w-0", "sto1-w-1", "sto2-w-0", "sto2-w-1"} {
		fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "log-shipper-" + node, Namespace: "shop",
			Labels:          map[string]string{"app": "log-shipper"},
			OwnerReferences: []metav1.OwnerReference{controllerRef("DaemonSet", "log-shipper", ds.UID)}},
			Spec: *ds.Spec.Template.Spec.DeepCopy()}, node)
	}
	return fx
}

func controllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: new(true), BlockOwnerDeletion: new(true)}
}

// pod creates p bound to node and marks it Running, as a kubelet would.
func (fx *verifyFixture) pod(t *testing.T, p *corev1.Pod, node string) {
	t.Helper()
	p.Spec.NodeName = node
	if len(p.Spec.Containers) == 0 {
		p.Spec.Containers = []corev1.Container{{Name: "main", Image: "registry.example/" + p.Labels["app"] + ":1"}}
	}
	created, err := fx.client.CoreV1().Pods(p.Namespace).Create(fx.ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Phase = corev1.PodRunning
	created.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := fx.client.CoreV1().Pods(p.Namespace).UpdateStatus(fx.ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (fx *verifyFixture) monPod(t *testing.T, id, region, node string) {
	t.Helper()
	fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rook-ceph-mon-" + id, Namespace: "rook-ceph",
		Labels: map[string]string{"app": "rook-ceph-mon", "mon": id, "mon_cluster": "rook-ceph", "zone": region}}}, node)
}

func (fx *verifyFixture) storefrontPod(t *testing.T, suffix, node string) {
	t.Helper()
	d, err := fx.client.AppsV1().Deployments("shop").Get(fx.ctx, "storefront", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fx.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "storefront-7d9c5b-" + suffix, Namespace: "shop",
		Labels:          map[string]string{"app": "storefront", "pod-template-hash": "7d9c5b"},
		OwnerReferences: []metav1.OwnerReference{controllerRef("ReplicaSet", "storefront-7d9c5b", fx.uids["ReplicaSet/storefront-7d9c5b"])}},
		Spec: *d.Spec.Template.Spec.DeepCopy()}, node)
}

// deletePod deletes a pod at once, as a force delete does (no kubelet
// confirms it here).
func (fx *verifyFixture) deletePod(t *testing.T, ns, name string) {
	t.Helper()
	if err := fx.client.CoreV1().Pods(ns).Delete(fx.ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
		t.Fatal(err)
	}
}

func (fx *verifyFixture) patchNode(t *testing.T, name, patch string) {
	t.Helper()
	if _, err := fx.client.CoreV1().Nodes().Patch(fx.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (fx *verifyFixture) patchCR(t *testing.T, gvr schema.GroupVersionResource, name, patch string) {
	t.Helper()
	if _, err := fx.dyn.Resource(gvr).Namespace("rook-ceph").Patch(fx.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// crStatus writes the status of a Rook object, as the operator would.
func (fx *verifyFixture) crStatus(t *testing.T, gvr schema.GroupVersionResource, name string, status map[string]any) {
	t.Helper()
	obj, err := fx.dyn.Resource(gvr).Namespace("rook-ceph").Get(fx.ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj.Object, status, "status"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.dyn.Resource(gvr).Namespace("rook-ceph").UpdateStatus(fx.ctx, obj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (fx *verifyFixture) scale(t *testing.T, name string, replicas int) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := fx.client.AppsV1().Deployments("shop").Patch(fx.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// updateNodeStatus changes the status of nodes, as their kubelets would.
func (fx *verifyFixture) updateNodeStatus(t *testing.T, change func(*corev1.Node), names ...string) {
	t.Helper()
	for _, name := range names {
		n, err := fx.client.CoreV1().Nodes().Get(fx.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(n)
		if _, err := fx.client.CoreV1().Nodes().UpdateStatus(fx.ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func (fx *verifyFixture) setAllocatableCPU(t *testing.T, cpu string, names ...string) {
	t.Helper()
	fx.updateNodeStatus(t, func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse(cpu) }, names...)
}

func (fx *verifyFixture) setReady(t *testing.T, status corev1.ConditionStatus, names ...string) {
	t.Helper()
	reason := "KubeletReady"
	if status != corev1.ConditionTrue {
		reason = "NodeStatusUnknown"
	}
	fx.updateNodeStatus(t, func(n *corev1.Node) {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: reason,
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	}, names...)
}

// userKubeconfig writes a kubeconfig for a user with a client certificate
// of the cluster's CA.
func (fx *verifyFixture) userKubeconfig(t *testing.T, cp *sim.ControlPlane, user string, groups ...string) string {
	t.Helper()
	cfg, err := cp.UserConfig(user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["sim"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["sim"] = &clientcmdapi.Context{Cluster: "sim", AuthInfo: user}
	kc.CurrentContext = "sim"
	path := filepath.Join(t.TempDir(), user+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// clusterRoleWithout copies the bundle's stretch-verify ClusterRole without
// one resource and binds the copy to group.
func (fx *verifyFixture) clusterRoleWithout(t *testing.T, name, group, resource string) {
	t.Helper()
	role, err := fx.client.RbacV1().ClusterRoles().Get(fx.ctx, "stretch-verify", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, rule := range role.Rules {
		rule.Resources = slices.DeleteFunc(slices.Clone(rule.Resources), func(r string) bool { return r == resource })
		if len(rule.Resources) > 0 {
			cr.Rules = append(cr.Rules, rule)
		}
	}
	if _, err := fx.client.RbacV1().ClusterRoles().Create(fx.ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}}}
	if _, err := fx.client.RbacV1().ClusterRoleBindings().Create(fx.ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deleteCRD deletes a CRD and waits until its resource is no longer served.
func (fx *verifyFixture) deleteCRD(t *testing.T, name, resource string) {
	t.Helper()
	if err := fx.dyn.Resource(crdGVR).Delete(fx.ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: strings.SplitN(name, ".", 2)[1], Version: "v1", Resource: resource}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := fx.dyn.Resource(gvr).List(fx.ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still served 30s after its CRD was deleted (last error: %v)", gvr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestVerifyList(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "verify", "--list")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		if line != "" && !strings.HasPrefix(line, " ") {
			ids = append(ids, strings.Fields(line)[0])
		}
	}
	if !slices.Equal(ids, verifyIDs) {
		t.Errorf("--list prints %v, want %v", ids, verifyIDs)
	}
	if !strings.HasPrefix(out, "NODE001  nodes  error  Every node of the topology is registered\n    Each node of the topology file must exist as a Node.") {
		t.Errorf("--list:\n%s", out)
	}
}

func TestVerifyFlags(t *testing.T) {
	t.Setenv(TopologyEnv, "") // the "no -f" cases must not find one
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"verify"}, "error: -f TOPOLOGY (or STRETCH_TOPOLOGY) is required\n"},
		{[]string{"verify", "-f", example, "-o", "xml"}, "error: -o xml: the output format is one of table, json, yaml, junit\n"},
		{[]string{"verify", "-f", example, "--chunk-size=-1"}, "error: --chunk-size -1: want 0 or more\n"},
		{[]string{"verify", "-f", "../../../testdata/topologies/invalid/missing-arbiter.yaml"}, ""},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != ExitError || out != "" || tc.stderr != "" && errOut != tc.stderr || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.stderr)
		}
	}
}

// The exit code rule: a failed check wins, then a check that could not
// run; warnings and skips pass.
func TestVerifyExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		summary v1alpha1.VerifySummary
		want    int
	}{
		{v1alpha1.VerifySummary{Passed: 3}, ExitOK},
		{v1alpha1.VerifySummary{Passed: 1, Warnings: 1, Skipped: 1}, ExitOK},
		{v1alpha1.VerifySummary{Passed: 1, Failed: 1}, ExitFailed},
		{v1alpha1.VerifySummary{Failed: 1, Errors: 2}, ExitFailed},
		{v1alpha1.VerifySummary{Passed: 2, Errors: 1, Warnings: 1}, ExitError},
	} {
		err := verifyExit(&check.Report{VerifyReport: v1alpha1.VerifyReport{Summary: tc.summary}})
		code := ExitOK
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if code != tc.want {
			t.Errorf("%+v: exit %d, want %d", tc.summary, code, tc.want)
		}
	}
}
