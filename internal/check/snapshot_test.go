package check

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/stretch-dev/kubectl-stretch/internal/api/v1alpha1"
)

// hung is a handler that never answers: it waits until the client gives
// up (or the test server closes).
func hung(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// within fails the test when f has not returned within bound: the code
// under test must never hang, whatever the server does.
func within[T any](t *testing.T, bound time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(bound):
		t.Fatalf("did not return within %s", bound)
	}
	panic("unreachable")
}

// A request that times out is cancelled through the counting transport:
// client-go reaches the transport below it (utilnet.RoundTripperWrapper)
// and logs no "unable to cancel request" warning, which --request-timeout
// printed once per request. Not parallel: it captures the process's
// stderr, where client-go logs.
func TestTimeoutCancelsQuietly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hung))
	defer srv.Close()
	// A token and a user agent, as kubeconfigs have: client-go wraps
	// the transport in round trippers that pass cancellation down.
	c, err := NewClient(&rest.Config{Host: srv.URL, Timeout: 100 * time.Millisecond, BearerToken: "t", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	// client-go's requests race a context deadline against the HTTP
	// client's timeout of the same length; the warning comes when the
	// timeout wins. Here it always does: the request has no deadline,
	// so net/http asks the transport chain to cancel.
	hc := c.raw.(*rest.RESTClient).Client
	err = within(t, 10*time.Second, func() error {
		resp, err := hc.Get(srv.URL + "/version")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	os.Stderr = stderr
	if cerr := w.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	logged, rerr := io.ReadAll(r)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("a server that never answers gave no error")
	}
	if strings.Contains(string(logged), "cancel") {
		t.Errorf("client-go could not cancel the request through the counting transport:\n%s", logged)
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	// Nothing listens on a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	slow := httptest.NewServer(http.HandlerFunc(hung))
	t.Cleanup(slow.Close)
	status := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		name, host string
		want       string // "" for no error
	}{
		{"refused", refused, "cannot reach the API server at " + refused + ": Get \"" + refused + "/version?timeout=300ms\": dial tcp " + l.Addr().String() + ": connect: connection refused"},
		{"no answer", slow.URL, "cannot reach the API server at " + slow.URL + ": no answer to GET /version within 300ms"},
		// Any answer means the server can be reached; a 429 is not
		// retried (Retry-After: 30 would hold the probe).
		{"forbidden", status(http.StatusForbidden), ""},
		{"rate-limited", status(http.StatusTooManyRequests), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(&rest.Config{Host: tc.host, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = within(t, 10*time.Second, func() error { return c.Probe(t.Context()) })
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("probe: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, ErrUnreachable)):
				t.Errorf("probe: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// A server that answers one kind and then stops answering: each page is
// bounded by the request timeout and the snapshot by Options.Timeout;
// the kinds the time ran out for share one cause.
func TestTakeBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/nodes" {
			hung(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[]}`)
	}))
	defer srv.Close()
	c, err := NewClient(&rest.Config{Host: srv.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		snap *Snapshot
		err  error
	}
	res := within(t, 20*time.Second, func() result {
		s, err := Take(t.Context(), c, Options{Timeout: time.Second, Parallel: 1})
		return result{s, err}
	})
	if res.err != nil {
		t.Fatalf("a server that answered once gave no snapshot: %v", res.err)
	}
	s := res.snap
	if s.Errors[KindNodes] != nil {
		t.Errorf("nodes: %v", s.Errors[KindNodes])
	}
	pods := describeListError([]Kind{KindPods}, s.Errors[KindPods])
	if !strings.HasPrefix(pods, "cannot list pods: the API server did not answer in time (") {
		t.Errorf("pods: %s", pods)
	}
	if !errors.Is(s.Errors[KindFelixConfigurations], errOutOfTime) {
		t.Errorf("felixconfigurations: %v, want the snapshot's time to have run out", s.Errors[KindFelixConfigurations])
	}
	u := s.Unavailable()
	last := u[len(u)-1]
	if !slices.Contains(last.Kinds, "felixconfigurations.crd.projectcalico.org") || len(last.Kinds) < 2 ||
		!strings.HasPrefix(last.Message, "cannot list "+strings.Join(last.Kinds, ", ")+": the snapshot's time ran out (1s) before they were listed: retry, or raise --request-timeout") {
		t.Errorf("unavailable: %+v", u)
	}
	for _, e := range u[:len(u)-1] {
		if len(e.Kinds) != 1 || !strings.Contains(e.Message, "did not answer in time") {
			t.Errorf("unavailable: %+v", e)
		}
	}
}

// A custom resource kind that the API server refuses carries the server's
// message, as built-in kinds do (the JSON client said "unknown").
func TestCustomResourceStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",`+
			`"message":"`+r.URL.Path+` is forbidden","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	c, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Take(t.Context(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindPods, KindCephClusters, KindFelixConfigurations} {
		want := "cannot list " + k.String() + ": forbidden by RBAC (" + k.Info().path() + " is forbidden): bind this user"
		if got := describeListError([]Kind{k}, s.Errors[k]); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s\nwant: %s", k, got, want)
		}
	}
}

// TestTakeKinds: Take lists verify's kinds by default and drill's, the
// PersistentVolumes too, when asked; a kind not listed has no error.
func TestTakeKinds(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	c, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kinds []Kind
		pvs   bool
	}{{nil, false}, {DrillKinds(), true}} {
		mu.Lock()
		clear(paths)
		mu.Unlock()
		s, err := Take(t.Context(), c, Options{Kinds: tc.kinds})
		if err != nil {
			t.Fatal(err)
		}
		want := len(Kinds())
		if tc.pvs {
			want++
		}
		mu.Lock()
		listed, pvs := len(paths), paths["/api/v1/persistentvolumes"]
		mu.Unlock()
		if listed != want || (pvs > 0) != tc.pvs || (s.Errors[KindPersistentVolumes] != nil) != tc.pvs || s.Requests != int64(want) {
			t.Errorf("kinds %v: %d paths listed in %d requests (persistentvolumes %d times, error %v), want %d",
				tc.kinds, listed, s.Requests, pvs, s.Errors[KindPersistentVolumes], want)
		}
		u := s.Unavailable()
		if len(u) != want || slices.ContainsFunc(u, func(x v1alpha1.VerifyUnavailable) bool { return slices.Contains(x.Kinds, "persistentvolumes") }) != tc.pvs {
			t.Errorf("kinds %v: unavailable %+v", tc.kinds, u)
		}
	}
}
