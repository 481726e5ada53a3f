package chartrepo

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/stretch-dev/kubectl-stretch/internal/sim"
)

// TestHelmAdoptsTheSimulatedCSIDriver installs the ceph-csi-drivers
// stand-in with Helm's install action (what helm-controller runs) into a
// real kube-apiserver where the simulated operators already registered
// the release's CSIDriver: Helm must adopt it, as it will when Flux's
// helm-controller installs the chart after the simulated operators saw the
// HelmRelease. A CSIDriver without Helm's ownership metadata is refused,
// which is why the simulation writes it.
func TestHelmAdoptsTheSimulatedCSIDriver(t *testing.T) {
	dir, _ := buildRepo(t)
	ch, err := loader.Load(dir + "/ceph-csi-drivers-" + CSIStandInVersion + ".tgz")
	if err != nil {
		t.Fatal(err)
	}
	_, _, values := bundleRelease(t, "helmrelease-ceph-csi-drivers.yaml")
	cp := sim.StartForTest(t)
	ctx := t.Context()
	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	const ns = "rook-ceph"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	release := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "ceph-csi-drivers", "namespace": ns},
	}}
	driver := "rook-ceph.rbd.csi.ceph.com"

	install := func(name string) error {
		t.Helper()
		kubeconfig, namespace := cp.Kubeconfig(), ns
		flags := genericclioptions.NewConfigFlags(false)
		flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
		cfg := &action.Configuration{}
		if err := cfg.Init(flags, ns, "memory", t.Logf); err != nil {
			t.Fatal(err)
		}
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace = name, ns
		_, err := in.RunWithContext(ctx, ch, values)
		return err
	}

	// Without Helm's metadata (the object as the simulation wrote it before)
	// Helm refuses to take the CSIDriver over.
	if _, err := client.StorageV1().CSIDrivers().Create(ctx, sim.CSIDriverObject(driver), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := install("ceph-csi-drivers"); err == nil || !strings.Contains(err.Error(), "exists and cannot be imported") {
		t.Fatalf("installing over an unowned CSIDriver: %v, want Helm's ownership conflict", err)
	}
	if err := client.StorageV1().CSIDrivers().Delete(ctx, driver, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// As the simulated operators write it now, Helm adopts it.
	if _, err := client.StorageV1().CSIDrivers().Create(ctx, sim.CSIDriverObjectFor(driver, release), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := install("ceph-csi-drivers"); err != nil {
		t.Fatalf("Helm does not adopt the simulated CSIDriver: %v", err)
	}
	got, err := client.StorageV1().CSIDrivers().Get(ctx, driver, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["app.kubernetes.io/instance"] != "ceph-csi-drivers" || got.Labels[sim.LabelSimulated] != "true" {
		t.Errorf("the adopted CSIDriver's labels are %v, want the chart's", got.Labels)
	}
	if _, err := client.AppsV1().Deployments(ns).Get(ctx, driver+"-ctrlplugin", metav1.GetOptions{}); err != nil {
		t.Errorf("the controller plugin Deployment: %v", err)
	}
}
