package generators

import (
	"context"
	"strings"
	"testing"

	"github.com/stretch-dev/kubectl-stretch/internal/drill"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/kubespray"
)

// kube_proxy_mode follows the Kubernetes version: nftables from 1.33,
// iptables before; never the deprecated ipvs.
func TestKubeProxyModeFollowsTheVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, want string }{
		{"1.32.5", "kube_proxy_mode: iptables\n"},
		{"1.33.0", "kube_proxy_mode: nftables\n"},
		{"1.35.4", "kube_proxy_mode: nftables\n"},
	} {
		f, err := topology.Load("../testdata/topology.yaml")
		if err != nil {
			t.Fatal(err)
		}
		f.Topology.Spec.Kubernetes.Version = tc.version
		out, err := Render(context.Background(), f.Topology, Options{BaseDir: "../testdata"})
		if err != nil {
			t.Fatalf("%s: %v", tc.version, err)
		}
		for _, file := range out.Bundle.Files {
			if file.Path == "kubespray/group_vars/k8s_cluster/k8s-cluster.yml" && !strings.Contains(string(file.Data), tc.want) {
				t.Errorf("Kubernetes %s: k8s-cluster.yml lacks %q:\n%s", tc.version, tc.want, file.Data)
			}
		}
	}
	err := renderWithMixin(t, `{ kubespray+: { 'kubespray/group_vars/k8s_cluster/k8s-cluster.yml'+: { kube_proxy_mode: 'ipvs' } } }`)
	if want := `kube_proxy_mode "ipvs": Kubernetes 1.35.4 wants nftables`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error lacks %q:\n%v", want, err)
	}
}

// The bundle sets the node monitor grace period that drill assumes, so
// plan mode predicts recoveries with the cluster's own.
func TestNodeMonitorGracePeriodIsDrills(t *testing.T) {
	t.Parallel()
	f, err := topology.Load("../testdata/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, _, err := renderObjects(context.Background(), f.Topology, Options{BaseDir: "../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if v, ok := o.Typed.(*kubespray.ClusterVars); ok {
			if got, want := v.KubeControllerNodeMonitorGracePeriod, drill.DefaultNodeMonitorGracePeriod.String(); got != want {
				t.Errorf("kube_controller_node_monitor_grace_period %q, drill assumes %q", got, want)
			}
			return
		}
	}
	t.Fatal("no k8s-cluster.yml among the rendered objects")
}
