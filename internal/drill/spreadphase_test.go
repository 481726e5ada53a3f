package drill

import (
	"bytes"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// TestSpreadReturnPhase runs the phase drill --execute --spread-return
// adds after the restore, on a fake client (pure logic; the live
// measurement is TestSpreadReturnsWithDescheduler): only the workloads that
// lost pods are measured; a balanced spread is recorded, a skewed one is
// reported as still skewed when the wait ends, which is not an error.
func TestSpreadReturnPhase(t *testing.T) {
	t.Parallel()
	n1, n2 := zoneNode("sto1-a", "sto1"), zoneNode("sto2-a", "sto2")
	a, b := spreadPod("a", "sto1-a"), spreadPod("b", "sto2-a")
	dep := func(name string) *appsv1.Deployment {
		p := spreadPod("template", "")
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "storefront"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.Labels}, Spec: p.Spec},
			},
		}
	}
	report := func() *Report {
		return &Report{DrillReport: v1alpha1.DrillReport{Workloads: []v1alpha1.DrillWorkload{
			{Kind: "Deployment", Namespace: "shop", Name: "storefront", PodsLost: 1},
			{Kind: "Deployment", Namespace: "shop", Name: "untouched"},
		}}}
	}

	var progress bytes.Buffer
	r := report()
	client := fake.NewClientset(&n1, &n2, &a, &b, dep("storefront"), dep("untouched"))
	if err := SpreadReturnPhase(client, 5*time.Second, &progress).Run(t.Context(), r); err != nil {
		t.Fatalf("balanced: %v", err)
	}
	if got := r.Workloads[0].SpreadReturnSeconds; got == nil {
		t.Errorf("balanced: storefront not recorded; progress:\n%s", progress.String())
	}
	if got := r.Workloads[1].SpreadReturnSeconds; got != nil {
		t.Errorf("untouched lost no pod but was measured: %d", *got)
	}
	if !strings.Contains(progress.String(), "Deployment shop/storefront spread back within maxSkew") {
		t.Errorf("balanced: progress %q", progress.String())
	}

	progress.Reset()
	r = report()
	b.Spec.NodeName = "sto1-a"
	client = fake.NewClientset(&n1, &n2, &a, &b, dep("storefront"))
	if err := SpreadReturnPhase(client, 200*time.Millisecond, &progress).Run(t.Context(), r); err != nil {
		t.Fatalf("skewed: the wait ending is not an error: %v", err)
	}
	if got := r.Workloads[0].SpreadReturnSeconds; got != nil {
		t.Errorf("skewed: recorded %d, want nil", *got)
	}
	if !strings.Contains(progress.String(), "still skewed") {
		t.Errorf("skewed: progress %q", progress.String())
	}
}
