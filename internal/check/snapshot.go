package check

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
	"github.com/stretch-dev/kubectl-stretch/internal/topology"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/calico"
	"github.com/stretch-dev/kubectl-stretch/internal/upstream/rook"
)

// Defaults of Options and of the client.
const (
	// DefaultChunkSize is the page size of every LIST. It is larger than
	// kubectl's 500 so that the number of requests stays the number of
	// kinds on all but huge clusters (20,000 pods are two pages), while
	// the API server still never builds one unbounded response.
	DefaultChunkSize = 10000
	// DefaultParallel is how many kinds are listed at once.
	DefaultParallel = 4
	// DefaultRequestTimeout bounds each request when the client
	// configuration sets no timeout, so that a hung API server gives an
	// error instead of a hang.
	DefaultRequestTimeout = 30 * time.Second
	// ProbeTimeout bounds Probe, the one request that says whether the
	// API server can be reached at all (or the request timeout, when
	// that is shorter).
	ProbeTimeout = 10 * time.Second
	// snapshotTimeouts is how many request timeouts the whole snapshot
	// may take: each page (with client-go's retries after 429 and
	// Retry-After) has one request timeout, and the snapshot as a whole
	// twice that, whatever the API server does.
	snapshotTimeouts = 2
	// defaultQPS and defaultBurst replace client-go's client-side rate
	// limit (5 and 10) when the configuration sets none: a snapshot is a
	// short burst of LISTs, and throttling it would only add latency.
	defaultQPS   = 50
	defaultBurst = 100
)

// Snapshot is what verify knows about the cluster: every object of each
// kind, from one paginated LIST per kind, sorted by namespace and name.
// A kind that could not be listed has no objects and an error in Errors.
type Snapshot struct {
	Nodes               []corev1.Node
	Pods                []corev1.Pod
	Deployments         []appsv1.Deployment
	StatefulSets        []appsv1.StatefulSet
	ReplicaSets         []appsv1.ReplicaSet
	DaemonSets          []appsv1.DaemonSet
	HPAs                []autoscalingv2.HorizontalPodAutoscaler
	PDBs                []policyv1.PodDisruptionBudget
	PVCs                []corev1.PersistentVolumeClaim
	StorageClasses      []storagev1.StorageClass
	CSIDrivers          []storagev1.CSIDriver
	CephClusters        []rook.CephCluster
	CephBlockPools      []rook.CephBlockPool
	FelixConfigurations []calico.FelixConfiguration
	Services            []corev1.Service
	// PersistentVolumes are listed only when Options.Kinds asks for them
	// (drill).
	PersistentVolumes []corev1.PersistentVolume
	// Edge is what verify saw outside the API's objects (ReadEdge); nil
	// when it was not looked at.
	Edge *Edge

	// Errors holds, by Kind, why a kind could not be listed (nil when it
	// was). Tests set it to simulate a kind that cannot be read.
	Errors [kindCount]error
	// Requests is the number of HTTP requests the snapshot took.
	Requests int64

	indexMu  sync.Mutex
	idx      *index
	idxModel *topology.Model
}

// missing returns the kinds of needs that could not be listed, in the
// order of needs.
func (s *Snapshot) missing(needs []Kind) []Kind {
	var out []Kind
	for _, k := range needs {
		if s.Errors[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// Unavailable returns, in kind order, why kinds could not be listed: one
// entry per kind, except that the custom resources of one API group whose
// CRDs are missing share one entry, and so do the kinds that the
// snapshot's time ran out for.
func (s *Snapshot) Unavailable() []v1alpha1.VerifyUnavailable {
	var groups [][]Kind
	at := map[string]int{} // group key -> index in groups
	for _, k := range DrillKinds() {
		err := s.Errors[k]
		if err == nil {
			continue
		}
		key := ""
		switch info := k.Info(); {
		case info.CRD && apierrors.IsNotFound(err):
			key = "crd " + info.Group
		case errors.Is(err, errOutOfTime):
			key = "out of time"
		}
		if i, ok := at[key]; ok && key != "" {
			groups[i] = append(groups[i], k)
			continue
		}
		if key != "" {
			at[key] = len(groups)
		}
		groups = append(groups, []Kind{k})
	}
	out := make([]v1alpha1.VerifyUnavailable, len(groups))
	for i, kinds := range groups {
		names := make([]string, len(kinds))
		for j, k := range kinds {
			names[j] = k.String()
		}
		out[i] = v1alpha1.VerifyUnavailable{Kinds: names, Message: describeListError(kinds, s.Errors[kinds[0]])}
	}
	return out
}

// Options configures Take.
type Options struct {
	// Timeout bounds the whole snapshot; kinds not listed when it ends
	// are recorded as such in Snapshot.Errors. Zero means twice the
	// client's request timeout.
	Timeout time.Duration
	// ChunkSize is the page size of each LIST (the limit parameter).
	// Zero means DefaultChunkSize; a negative value lists each kind in
	// one request.
	ChunkSize int64
	// Parallel bounds how many kinds are listed at once. Zero means
	// DefaultParallel.
	Parallel int
	// Kinds are the kinds to list; nil means verify's (Kinds).
	Kinds []Kind
}

// Client lists the kinds verify reads and counts its HTTP requests.
type Client struct {
	core kubernetes.Interface
	raw  rest.Interface
	host string
	// timeout bounds each request (with client-go's retries).
	timeout time.Duration
	// requests counts the HTTP requests sent, answered those that got an
	// HTTP response (of any status).
	requests, answered *atomic.Int64
}

// NewClient returns a Client for the cluster at cfg. Built-in kinds are
// read as protobuf, custom resources as JSON. cfg is copied; when it sets
// no rate limit or timeout, the client uses 50 QPS (burst 100) and
// DefaultRequestTimeout.
func NewClient(cfg *rest.Config) (*Client, error) {
	counter, answered := &atomic.Int64{}, &atomic.Int64{}
	base := rest.CopyConfig(cfg)
	if base.QPS == 0 && base.RateLimiter == nil {
		base.QPS, base.Burst = defaultQPS, defaultBurst
	}
	if base.Timeout == 0 {
		base.Timeout = DefaultRequestTimeout
	}
	base.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{next: rt, n: counter, answered: answered}
	})

	protoCfg := rest.CopyConfig(base)
	protoCfg.ContentType = runtime.ContentTypeProtobuf
	protoCfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	core, err := kubernetes.NewForConfig(protoCfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	jsonCfg := rest.CopyConfig(base)
	jsonCfg.ContentType = runtime.ContentTypeJSON
	jsonCfg.AcceptContentTypes = runtime.ContentTypeJSON
	jsonCfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	raw, err := rest.UnversionedRESTClientFor(jsonCfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Client{core: core, raw: raw, host: base.Host, timeout: base.Timeout, requests: counter, answered: answered}, nil
}

// Requests returns the number of HTTP requests the client has sent.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Probe asks the API server for its version once, without retries, and
// returns an error wrapping ErrUnreachable when no HTTP answer came within
// ProbeTimeout (or the request timeout, when shorter). Any answer, even an
// error status, means that the server can be reached: the snapshot then
// says what it may not read.
func (c *Client) Probe(ctx context.Context) error {
	timeout := min(ProbeTimeout, c.timeout)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := c.raw.Get().AbsPath("/version").MaxRetries(0).Do(pctx).Error()
	var status apierrors.APIStatus
	var netErr net.Error
	switch {
	case err == nil || errors.As(err, &status):
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("probe: %w", ctx.Err())
	case pctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%w at %s: no answer to GET /version within %s", ErrUnreachable, c.host, timeout)
	}
	return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.host, err)
}

// countingTransport counts the requests that go through it, and those
// that got an answer.
type countingTransport struct {
	next        http.RoundTripper
	n, answered *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		t.answered.Add(1)
	}
	return resp, err
}

// WrappedRoundTripper lets client-go reach the transport below, to cancel
// a request that timed out (utilnet.RoundTripperWrapper); without it,
// client-go logs "unable to cancel request" for each one.
func (t *countingTransport) WrappedRoundTripper() http.RoundTripper { return t.next }

// ErrUnreachable wraps the error of a snapshot that could not list
// anything because the API server could not be reached.
var ErrUnreachable = errors.New("cannot reach the API server")

// errOutOfTime is the error of a kind that the snapshot's time ran out
// for (Options.Timeout).
var errOutOfTime = errors.New("the snapshot's time ran out")

// Take lists every kind of opts.Kinds once (paginated, a few kinds at a time) and returns
// the snapshot. Kinds that cannot be listed are recorded in
// Snapshot.Errors. Each page, with client-go's retries, is bounded by the
// client's request timeout, and the whole snapshot by opts.Timeout. The
// error is non-nil only when no kind could be listed and no answer came
// from the API server at all (ErrUnreachable), or when ctx ended.
func Take(ctx context.Context, c *Client, opts Options) (*Snapshot, error) {
	chunk := opts.ChunkSize
	switch {
	case chunk == 0:
		chunk = DefaultChunkSize
	case chunk < 0:
		chunk = 0
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	total := opts.Timeout
	if total <= 0 {
		total = snapshotTimeouts * c.timeout
	}
	outOfTime := fmt.Errorf("%w (%s, twice the request timeout)", errOutOfTime, total)
	if opts.Timeout > 0 {
		outOfTime = fmt.Errorf("%w (%s)", errOutOfTime, total)
	}
	sctx, cancel := context.WithTimeoutCause(ctx, total, outOfTime)
	defer cancel()
	before, answered := c.Requests(), c.answered.Load()
	snap := &Snapshot{}
	work := make(chan Kind)
	var wg sync.WaitGroup
	kinds := opts.Kinds
	if kinds == nil {
		kinds = Kinds()
	}
	for range min(parallel, len(kinds)) {
		wg.Go(func() {
			for k := range work {
				err := context.Cause(sctx)
				if err == nil {
					err = listKind(sctx, c, snap, k, chunk)
					if err != nil && sctx.Err() != nil {
						err = context.Cause(sctx)
					}
				}
				snap.Errors[k] = err
			}
		})
	}
	for _, k := range kinds {
		work <- k
	}
	close(work)
	wg.Wait()
	snap.Requests = c.Requests() - before
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if c.answered.Load() > answered {
		return snap, nil
	}
	for _, k := range kinds {
		var status apierrors.APIStatus
		if err := snap.Errors[k]; err == nil || errors.As(err, &status) {
			return snap, nil
		}
	}
	return nil, fmt.Errorf("%w: list %s: %w", ErrUnreachable, kinds[0], snap.Errors[kinds[0]])
}

// listKind lists one kind into its field of snap and returns the API's
// error as it came (describeListError words it). Each kind has its own
// field, so concurrent calls for different kinds do not race.
func listKind(ctx context.Context, c *Client, snap *Snapshot, k Kind, chunk int64) error {
	var err error
	all := metav1.NamespaceAll
	switch k {
	case KindNodes:
		snap.Nodes, err = pages(ctx, c.timeout, chunk, c.core.CoreV1().Nodes().List, func(l *corev1.NodeList) []corev1.Node { return l.Items })
	case KindPods:
		snap.Pods, err = pages(ctx, c.timeout, chunk, c.core.CoreV1().Pods(all).List, func(l *corev1.PodList) []corev1.Pod { return l.Items })
	case KindDeployments:
		snap.Deployments, err = pages(ctx, c.timeout, chunk, c.core.AppsV1().Deployments(all).List, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items })
	case KindStatefulSets:
		snap.StatefulSets, err = pages(ctx, c.timeout, chunk, c.core.AppsV1().StatefulSets(all).List, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items })
	case KindReplicaSets:
		snap.ReplicaSets, err = pages(ctx, c.timeout, chunk, c.core.AppsV1().ReplicaSets(all).List, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items })
	case KindDaemonSets:
		snap.DaemonSets, err = pages(ctx, c.timeout, chunk, c.core.AppsV1().DaemonSets(all).List, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items })
	case KindHPAs:
		snap.HPAs, err = pages(ctx, c.timeout, chunk, c.core.AutoscalingV2().HorizontalPodAutoscalers(all).List,
			func(l *autoscalingv2.HorizontalPodAutoscalerList) []autoscalingv2.HorizontalPodAutoscaler {
				return l.Items
			})
	case KindPDBs:
		snap.PDBs, err = pages(ctx, c.timeout, chunk, c.core.PolicyV1().PodDisruptionBudgets(all).List,
			func(l *policyv1.PodDisruptionBudgetList) []policyv1.PodDisruptionBudget { return l.Items })
	case KindPVCs:
		snap.PVCs, err = pages(ctx, c.timeout, chunk, c.core.CoreV1().PersistentVolumeClaims(all).List,
			func(l *corev1.PersistentVolumeClaimList) []corev1.PersistentVolumeClaim { return l.Items })
	case KindStorageClasses:
		snap.StorageClasses, err = pages(ctx, c.timeout, chunk, c.core.StorageV1().StorageClasses().List,
			func(l *storagev1.StorageClassList) []storagev1.StorageClass { return l.Items })
	case KindCSIDrivers:
		snap.CSIDrivers, err = pages(ctx, c.timeout, chunk, c.core.StorageV1().CSIDrivers().List,
			func(l *storagev1.CSIDriverList) []storagev1.CSIDriver { return l.Items })
	case KindCephClusters:
		snap.CephClusters, err = pages(ctx, c.timeout, chunk, rawList[rook.CephCluster](c, k), rawItems[rook.CephCluster])
	case KindCephBlockPools:
		snap.CephBlockPools, err = pages(ctx, c.timeout, chunk, rawList[rook.CephBlockPool](c, k), rawItems[rook.CephBlockPool])
	case KindFelixConfigurations:
		snap.FelixConfigurations, err = pages(ctx, c.timeout, chunk, rawList[calico.FelixConfiguration](c, k), rawItems[calico.FelixConfiguration])
	case KindServices:
		snap.Services, err = pages(ctx, c.timeout, chunk, c.core.CoreV1().Services(all).List, func(l *corev1.ServiceList) []corev1.Service { return l.Items })
	case KindPersistentVolumes:
		snap.PersistentVolumes, err = pages(ctx, c.timeout, chunk, c.core.CoreV1().PersistentVolumes().List,
			func(l *corev1.PersistentVolumeList) []corev1.PersistentVolume { return l.Items })
	default:
		return fmt.Errorf("unknown kind %d", k)
	}
	return err
}

// objectMeta is what sorting and trimming need of an object.
type objectMeta interface {
	GetNamespace() string
	GetName() string
	SetManagedFields([]metav1.ManagedFieldsEntry)
}

// pages lists every page of a kind and returns the items sorted by
// namespace and name. Each page, with client-go's retries, must come
// within timeout. When a continue token has expired (410 Gone), it lists
// the kind again in one request, as client-go's pager does.
func pages[T any, PT interface {
	*T
	objectMeta
}, L interface{ GetContinue() string }](ctx context.Context, timeout time.Duration, chunk int64,
	list func(context.Context, metav1.ListOptions) (L, error), items func(L) []T) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: chunk}
	for {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		l, err := list(pctx, opts)
		cancel()
		if err != nil {
			if opts.Continue != "" && apierrors.IsResourceExpired(err) {
				out, opts = nil, metav1.ListOptions{}
				continue
			}
			return nil, err
		}
		page := items(l)
		// No check reads managed fields, and on pods they are most of
		// the object: drop them so the snapshot holds what matters.
		for i := range page {
			PT(&page[i]).SetManagedFields(nil)
		}
		out = append(out, page...)
		opts.Continue = l.GetContinue()
		if opts.Continue == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b T) int {
		am, bm := PT(&a), PT(&b)
		return cmp.Or(cmp.Compare(am.GetNamespace(), bm.GetNamespace()), cmp.Compare(am.GetName(), bm.GetName()))
	})
	return out, nil
}

// rawPage is one page of a custom resource list, decoded from JSON.
type rawPage[T any] struct {
	Metadata metav1.ListMeta `json:"metadata"`
	Items    []T             `json:"items"`
}

// GetContinue returns the page's continue token.
func (p *rawPage[T]) GetContinue() string { return p.Metadata.Continue }

func rawItems[T any](p *rawPage[T]) []T { return p.Items }

// rawList returns a LIST of a custom resource kind through the JSON REST
// client, decoded into T (fields T does not know are ignored).
func rawList[T any](c *Client, k Kind) func(context.Context, metav1.ListOptions) (*rawPage[T], error) {
	info := k.Info()
	return func(ctx context.Context, opts metav1.ListOptions) (*rawPage[T], error) {
		req := c.raw.Get().AbsPath(info.path())
		if opts.Limit > 0 {
			req = req.Param("limit", strconv.FormatInt(opts.Limit, 10))
		}
		if opts.Continue != "" {
			req = req.Param("continue", opts.Continue)
		}
		res := req.Do(ctx)
		data, err := res.Raw()
		if err != nil {
			// Error decodes the API server's Status from the body; Raw
			// alone says "unknown" instead of the server's message.
			return nil, res.Error()
		}
		page := &rawPage[T]{}
		if err := json.Unmarshal(data, page); err != nil {
			return nil, fmt.Errorf("decode %s: %w", info.groupVersion(), err)
		}
		return page, nil
	}
}

// describeListError says why kinds could not be listed and what to do;
// err is the error of the first of them, and the others failed the same
// way.
func describeListError(kinds []Kind, err error) string {
	names := make([]string, len(kinds))
	resources := make([]string, len(kinds))
	for i, k := range kinds {
		names[i], resources[i] = k.String(), k.Info().Resource
	}
	info := kinds[0].Info()
	prefix := "cannot list " + strings.Join(names, ", ")
	var netErr net.Error
	switch {
	case errors.Is(err, errOutOfTime):
		return fmt.Sprintf("%s: %v before they were listed: retry, or raise --request-timeout", prefix, err)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("%s: forbidden by RBAC (%s): bind this user to the ClusterRole stretch-verify "+
			"(access/ in the bundle; members of the group stretch:verifiers have it)", prefix, statusMessage(err))
	case apierrors.IsNotFound(err) && info.CRD && len(kinds) > 1:
		return fmt.Sprintf("%s: the CRDs are not installed (the API server does not serve %s %s): install %s",
			prefix, info.groupVersion(), strings.Join(resources, ", "), info.Provider)
	case apierrors.IsNotFound(err) && info.CRD:
		return fmt.Sprintf("%s: the CRD is not installed (the API server does not serve %s %s): install %s",
			prefix, info.groupVersion(), info.Resource, info.Provider)
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("%s: the API server does not serve %s %s", prefix, info.groupVersion(), info.Resource)
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("%s: the API server refused the credentials (401): check the kubeconfig", prefix)
	case apierrors.IsTooManyRequests(err):
		return fmt.Sprintf("%s: the API server kept answering 429 Too Many Requests after client-go's retries (%s): retry later",
			prefix, statusMessage(err))
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("%s: the API server did not answer in time (%v): retry, or raise --request-timeout", prefix, err)
	}
	return fmt.Sprintf("%s: %v", prefix, err)
}

// statusMessage is the API server's message for an error it returned, or
// the error's text.
func statusMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}
