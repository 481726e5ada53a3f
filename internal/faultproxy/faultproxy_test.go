package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestProxy(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "upstream "+r.URL.Path)
	}))
	defer upstream.Close()
	p, err := New(&rest.Config{Host: upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, path string) (int, string, http.Header, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header, err
	}

	if code, body, _, err := get(t.Context(), "/api/v1/pods"); err != nil || code != 200 || body != "upstream /api/v1/pods" {
		t.Fatalf("no rule: %d %q %v", code, body, err)
	}

	p.Set(Rule{Path: "/pods", Fault: TooManyRequests, Every: 2}, Rule{Fault: Forbidden, Except: "/version"})
	var codes []int
	for range 4 {
		code, _, h, err := get(t.Context(), "/api/v1/pods")
		if err != nil {
			t.Fatal(err)
		}
		if code == 429 && h.Get("Retry-After") != "1" {
			t.Errorf("429 with Retry-After %q", h.Get("Retry-After"))
		}
		codes = append(codes, code)
	}
	if want := []int{429, 200, 429, 200}; !slices.Equal(codes, want) {
		t.Errorf("every second request: %v, want %v", codes, want)
	}
	if code, _, _, _ := get(t.Context(), "/version"); code != 200 {
		t.Errorf("/version is excepted, got %d", code)
	}
	// client-go reads the 403 as the API server's own.
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != "/api/v1/nodes is forbidden: injected by the fault proxy" {
		t.Errorf("403: %v", err)
	}
	if p.Injected(TooManyRequests) != 2 || p.Injected(Forbidden) != 1 {
		t.Errorf("injected %d 429, %d 403", p.Injected(TooManyRequests), p.Injected(Forbidden))
	}

	// A delayed request ends when the client gives up.
	p.Set(Rule{Fault: Delay})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, _, err := get(ctx, "/api/v1/pods"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed: %v", err)
	}

	// Down: connections are refused.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := get(t.Context(), "/version"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("down: %v", err)
	}
}
