package sim

import (
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// fakeOperators returns simulated operators of the example on fake
// clients holding objs (FelixConfigurations) and the example's nodes.
func fakeOperators(t *testing.T, objs ...runtime.Object) (*Operators, *fake.Clientset) {
	t.Helper()
	_, nodes := exampleCephCluster(t)
	var kube []runtime.Object
	for _, name := range slices.Sorted(maps.Keys(nodes)) {
		kube = append(kube, nodes[name])
	}
	client := fake.NewClientset(kube...)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		felixConfigurationResource: "FelixConfigurationList",
	}, objs...)
	return &Operators{client: client, dyn: dyn, model: exampleModel(t), log: io.Discard, now: time.Now,
		health: map[string]string{}, noCRD: map[string]bool{}, problems: map[string]bool{}}, client
}

func felixConfiguration(name string, wireguard bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"wireguardEnabled": wireguard},
	}}
	return u
}

// TestReconcileCalicoFollowsFelix: WireGuard annotations only where the
// FelixConfigurations turn WireGuard on (node.<name> before default), and
// none without a FelixConfiguration; the node address always.
func TestReconcileCalicoFollowsFelix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		objs []runtime.Object
		off  []string // nodes without WireGuard annotations; nil: all have them
		none bool     // no node has them
	}{
		{name: "default on", objs: []runtime.Object{felixConfiguration("default", true)}},
		{name: "default on, one node off", objs: []runtime.Object{felixConfiguration("default", true), felixConfiguration("node.sto1-w-0", false)}, off: []string{"sto1-w-0"}},
		{name: "default off", objs: []runtime.Object{felixConfiguration("default", false)}, none: true},
		{name: "no FelixConfiguration", none: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ops, client := fakeOperators(t, tc.objs...)
			nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*corev1.Node{}
			for i := range nodes.Items {
				byName[nodes.Items[i].Name] = &nodes.Items[i]
			}
			if err := ops.reconcileCalico(t.Context(), byName); err != nil {
				t.Fatal(err)
			}
			nodes, err = client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes.Items {
				_, key := n.Annotations[annotationWireguardKey]
				_, addr := n.Annotations[annotationWireguardAddr]
				want := !tc.none && !slices.Contains(tc.off, n.Name)
				if key != want || addr != want {
					t.Errorf("%s: WireGuard key %v, tunnel address %v; want %v", n.Name, key, addr, want)
				}
				if n.Annotations[annotationIPv4Address] == "" {
					t.Errorf("%s: no node address", n.Name)
				}
			}
		})
	}
}

// TestReconcileCalicoRemovesWireGuard: turning WireGuard off removes the
// annotations written while it was on, as Felix does.
func TestReconcileCalicoRemovesWireGuard(t *testing.T) {
	t.Parallel()
	ops, client := fakeOperators(t, felixConfiguration("default", true))
	pass := func() map[string]map[string]string {
		t.Helper()
		for range 2 { // the second pass sees the first one's annotations
			nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*corev1.Node{}
			for i := range nodes.Items {
				byName[nodes.Items[i].Name] = &nodes.Items[i]
			}
			if err := ops.reconcileCalico(t.Context(), byName); err != nil {
				t.Fatal(err)
			}
		}
		nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]string{}
		for _, n := range nodes.Items {
			out[n.Name] = n.Annotations
		}
		return out
	}
	if a := pass()["sto2-s-1"]; a[annotationWireguardKey] == "" {
		t.Fatalf("WireGuard on: sto2-s-1 annotations %v", a)
	}
	if _, err := ops.dyn.Resource(felixConfigurationResource).Update(t.Context(), felixConfiguration("default", false), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, a := range pass() {
		if _, ok := a[annotationWireguardKey]; ok {
			t.Errorf("%s: WireGuard key left after WireGuard was turned off", name)
		}
		if _, ok := a[annotationWireguardAddr]; ok {
			t.Errorf("%s: tunnel address left after WireGuard was turned off", name)
		}
		if a[annotationIPv4Address] == "" {
			t.Errorf("%s: node address removed", name)
		}
	}
}

// TestReconcilePods: the pods of an applied CephCluster are created
// without a node, a spec change replaces the pods it changes and keeps
// the others, an ignored pod is left alone, and the pods of a CephCluster
// that is gone are deleted.
func TestReconcilePods(t *testing.T) {
	t.Parallel()
	ops, client := fakeOperators(t)
	c, nodes := exampleCephCluster(t)
	plan := func(c *rook.CephCluster) []rookCluster {
		daemons, _ := planDaemons(c, nodes)
		return []rookCluster{{spec: c, daemons: daemons}}
	}
	pods := func() map[string]corev1.Pod {
		t.Helper()
		list, err := client.CoreV1().Pods("").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]corev1.Pod{}
		for _, p := range list.Items {
			out[p.Name] = p
		}
		return out
	}
	if _, err := ops.reconcilePods(t.Context(), plan(c)); err != nil {
		t.Fatal(err)
	}
	before := pods()
	if len(before) != 11 {
		t.Fatalf("%d pods, want 11", len(before))
	}
	for name, p := range before {
		if p.Spec.NodeName != "" {
			t.Errorf("%s: spec.nodeName %q", name, p.Spec.NodeName)
		}
	}
	// Mark two pods, to tell kept from replaced; ignore one mon.
	for name, annotations := range map[string]map[string]string{
		"rook-ceph-osd-0": {"mark": "kept"},
		"rook-ceph-mon-b": {"mark": "kept"},
		"rook-ceph-mon-c": {"mark": "kept", AnnotationIgnore: "true"},
	} {
		p := before[name]
		maps.Copy(p.Annotations, annotations)
		if _, err := client.CoreV1().Pods(p.Namespace).Update(t.Context(), &p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.Spec.Placement["mon"] = rook.Placement{Tolerations: []corev1.Toleration{{Key: "x", Operator: corev1.TolerationOpExists}}}
	if _, err := ops.reconcilePods(t.Context(), plan(c)); err != nil {
		t.Fatal(err)
	}
	after := pods()
	if len(after) != 11 {
		t.Fatalf("%d pods after the change, want 11", len(after))
	}
	for name, want := range map[string]string{"rook-ceph-osd-0": "kept", "rook-ceph-mon-b": "", "rook-ceph-mon-c": "kept"} {
		if got := after[name].Annotations["mark"]; got != want {
			t.Errorf("%s after a change of the mons' placement: mark %q, want %q", name, got, want)
		}
	}
	if !slices.ContainsFunc(after["rook-ceph-mon-b"].Spec.Tolerations, func(t corev1.Toleration) bool { return t.Key == "x" }) {
		t.Errorf("mon b was not rebuilt from the new placement: %v", after["rook-ceph-mon-b"].Spec.Tolerations)
	}
	if _, err := ops.reconcilePods(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(pods())); !slices.Equal(got, []string{"rook-ceph-mon-c"}) {
		t.Errorf("pods without a CephCluster %v, want the ignored one only", got)
	}
}
