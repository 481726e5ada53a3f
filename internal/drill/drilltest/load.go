package drilltest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// fieldManager names the writer of the loaded objects.
const fieldManager = "kubectl-stretch-drilltest"

// Loader writes a generated cluster through a real API server, as
// Kubespray, the kubelets and the workload controllers would have: no
// scheduler or controller runs, so it creates the ReplicaSets and pods
// itself and writes the nodes' and pods' status.
type Loader struct {
	client kubernetes.Interface
	// parallel bounds the requests in flight.
	parallel int
	// requests counts the requests sent.
	requests atomic.Int64
	// uids maps "Kind/namespace/name" to the UID the API server gave a
	// controller, for its dependents' owner references.
	mu   sync.Mutex
	uids map[string]types.UID
}

// NewLoader returns a Loader for the API server at cfg, with parallel
// requests in flight at most, protobuf and no client-side rate limit
// (loading is setup, not what is measured).
func NewLoader(cfg *rest.Config, parallel int) (*Loader, error) {
	l := &Loader{parallel: max(1, parallel), uids: map[string]types.UID{}}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countRT{rt, &l.requests} })
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	l.client = client
	return l, nil
}

// Requests is the number of requests the loader has sent.
func (l *Loader) Requests() int64 { return l.requests.Load() }

// countRT counts the requests that go through it.
type countRT struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// Load creates every object of c: namespaces and their default service
// accounts, nodes (Ready), Deployments, StatefulSets, DaemonSets,
// ReplicaSets, then the pods (Running and Ready).
func (l *Loader) Load(ctx context.Context, c *Cluster) error {
	namespaces := []string{"kube-system"}
	for _, ns := range c.Namespaces {
		if _, err := l.client.CoreV1().Namespaces().Create(ctx, &ns, metav1.CreateOptions{FieldManager: fieldManager}); err != nil {
			return fmt.Errorf("namespace %s: %w", ns.Name, err)
		}
		namespaces = append(namespaces, ns.Name)
	}
	for _, ns := range namespaces {
		// kube-controller-manager would create them; pods are not admitted
		// without.
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
		if _, err := l.client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("service account %s/default: %w", ns, err)
		}
	}
	if err := l.each("node", len(c.Nodes), func(i int) error { return l.node(ctx, &c.Nodes[i]) }); err != nil {
		return err
	}
	if err := l.each("Deployment", len(c.Deployments), func(i int) error {
		d := c.Deployments[i].DeepCopy()
		d.UID = ""
		created, err := l.client.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{FieldManager: fieldManager})
		return l.created("Deployment", d.Namespace, d.Name, created, err)
	}); err != nil {
		return err
	}
	if err := l.each("StatefulSet", len(c.StatefulSets), func(i int) error {
		s := c.StatefulSets[i].DeepCopy()
		s.UID = ""
		created, err := l.client.AppsV1().StatefulSets(s.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: fieldManager})
		return l.created("StatefulSet", s.Namespace, s.Name, created, err)
	}); err != nil {
		return err
	}
	if err := l.each("DaemonSet", len(c.DaemonSets), func(i int) error {
		d := c.DaemonSets[i].DeepCopy()
		d.UID = ""
		created, err := l.client.AppsV1().DaemonSets(d.Namespace).Create(ctx, d, metav1.CreateOptions{FieldManager: fieldManager})
		return l.created("DaemonSet", d.Namespace, d.Name, created, err)
	}); err != nil {
		return err
	}
	if err := l.each("ReplicaSet", len(c.ReplicaSets), func(i int) error {
		rs := c.ReplicaSets[i].DeepCopy()
		rs.UID = ""
		l.owners(&rs.ObjectMeta)
		created, err := l.client.AppsV1().ReplicaSets(rs.Namespace).Create(ctx, rs, metav1.CreateOptions{FieldManager: fieldManager})
		return l.created("ReplicaSet", rs.Namespace, rs.Name, created, err)
	}); err != nil {
		return err
	}
	return l.LoadPods(ctx, c.Pods)
}

// LoadPods creates pods and writes their status, as the kubelets would.
func (l *Loader) LoadPods(ctx context.Context, pods []corev1.Pod) error {
	return l.each("pod", len(pods), func(i int) error {
		p := pods[i].DeepCopy()
		status := p.Status
		p.UID, p.Status = "", corev1.PodStatus{}
		l.owners(&p.ObjectMeta)
		created, err := l.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil {
			return err
		}
		now := metav1.Now()
		created.Status = status
		created.Status.StartTime = &now
		for j := range created.Status.Conditions {
			created.Status.Conditions[j].LastTransitionTime = now
		}
		_, err = l.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
}

// node creates a node and writes its status.
func (l *Loader) node(ctx context.Context, n *corev1.Node) error {
	created, err := l.client.CoreV1().Nodes().Create(ctx, n.DeepCopy(), metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return err
	}
	now := metav1.Now()
	created.Status = *n.Status.DeepCopy()
	for j := range created.Status.Conditions {
		created.Status.Conditions[j].LastHeartbeatTime = now
		created.Status.Conditions[j].LastTransitionTime = now
	}
	updated, err := l.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: fieldManager})
	if err != nil {
		return err
	}
	// The TaintNodesByCondition admission plugin taints a new node
	// not-ready:NoSchedule; the node lifecycle controller removes the
	// taint once the node is Ready.
	if !slices.Equal(updated.Spec.Taints, n.Spec.Taints) {
		updated.Spec.Taints = n.Spec.Taints
		_, err = l.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager})
	}
	return err
}

// created records a controller's UID.
func (l *Loader) created(kind, ns, name string, obj metav1.Object, err error) error {
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.uids[kind+"/"+ns+"/"+name] = obj.GetUID()
	return nil
}

// owners points owner references at the UIDs the API server gave.
func (l *Loader) owners(m *metav1.ObjectMeta) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, o := range m.OwnerReferences {
		if id, ok := l.uids[o.Kind+"/"+m.Namespace+"/"+o.Name]; ok {
			m.OwnerReferences[i].UID = id
		}
	}
}

// each calls fn(0) ... fn(n-1) with l.parallel calls at a time and returns
// the first error, naming what was created.
func (l *Loader) each(what string, n int, fn func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(l.parallel, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("create %s %d: %w", what, i, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop handing out work
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// sortByName sorts each kind by namespace and name, as a LIST returns it.
func sortByName(c *Cluster) {
	sortObjects(c.Nodes)
	sortObjects(c.Pods)
	sortObjects(c.Deployments)
	sortObjects(c.ReplicaSets)
	sortObjects(c.StatefulSets)
	sortObjects(c.DaemonSets)
}

// sortObjects sorts objects by namespace and name through their indexes,
// without copying the (large) objects at each comparison.
func sortObjects[T any, P interface {
	*T
	metav1.Object
}](s []T) {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		x, y := P(&s[a]), P(&s[b])
		return cmp.Or(cmp.Compare(x.GetNamespace(), y.GetNamespace()), cmp.Compare(x.GetName(), y.GetName()))
	})
	sorted := make([]T, len(s))
	for i, j := range idx {
		sorted[i] = s[j]
	}
	copy(s, sorted)
}

// BarePods returns n more bare pods for c, named prefix-NNNNN, half in
// each data region, Running and Ready.
func BarePods(c *Cluster, prefix string, n int) []corev1.Pod {
	var workers [2][]string
	for _, node := range c.Model.Nodes {
		for r, region := range DataRegions {
			if node.Region == region && node.Worker && !node.ControlPlane && !node.Storage {
				workers[r] = append(workers[r], node.Name)
			}
		}
	}
	tmpl := template(prefix, "10m", "16Mi")
	tmpl.Spec.TopologySpreadConstraints = nil
	out := make([]corev1.Pod, n)
	for i := range out {
		region := workers[i%2]
		out[i] = podOf(tmpl, c.Namespaces[i%len(c.Namespaces)].Name, fmt.Sprintf("%s-%05d", prefix, i), region[i/2%len(region)], metav1.OwnerReference{})
	}
	return out
}
