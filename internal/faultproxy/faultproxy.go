// Package faultproxy is a reverse proxy on loopback that injects faults in
// front of a Kubernetes API server: delayed answers, 429 Too Many Requests
// with Retry-After, 403 Forbidden on some resource paths, and an API
// server that is down (the proxy closed, so that connections are
// refused). It is test code: only tests import it, so that the shipped
// binary does not carry it.
//
// Clients talk plain HTTP to the proxy without credentials; the proxy
// reaches the API server with the credentials of the configuration it was
// given.
package faultproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// Fault is what the proxy does to a request a Rule matches.
type Fault int

// The faults.
const (
	// Delay holds the request for Proxy.Delay before passing it on, or
	// until the client gives up, whichever comes first.
	Delay Fault = iota + 1
	// TooManyRequests answers 429 with a Retry-After of Proxy.RetryAfter
	// seconds, as API Priority and Fairness does.
	TooManyRequests
	// Forbidden answers 403, as RBAC does.
	Forbidden
)

func (f Fault) String() string {
	switch f {
	case Delay:
		return "delay"
	case TooManyRequests:
		return "429"
	case Forbidden:
		return "403"
	}
	return "fault " + strconv.Itoa(int(f))
}

// Rule applies a fault to some requests.
type Rule struct {
	// Path selects the requests whose URL path contains it; empty selects
	// every request.
	Path string
	// Except keeps the requests whose URL path contains it from the rule
	// (for example "/version", to let a probe through).
	Except string
	// Fault is what happens to a selected request.
	Fault Fault
	// Every applies the fault to one selected request in Every, starting
	// with the first; 0 and 1 apply it to each.
	Every int
}

// Proxy is a fault-injecting reverse proxy on 127.0.0.1.
type Proxy struct {
	// URL is the proxy's address, http://127.0.0.1:PORT.
	URL string
	// Delay is how long the Delay fault holds a request.
	Delay time.Duration
	// RetryAfter is the Retry-After, in seconds, of the 429 answers.
	RetryAfter int

	mu     sync.Mutex
	rules  []Rule
	seen   []int // requests each rule selected
	faults map[Fault]int
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}
}

// New starts a proxy in front of the API server of target; it passes
// every request on until Set gives it rules.
func New(target *rest.Config) (*Proxy, error) {
	upstream, err := url.Parse(target.Host)
	if err != nil {
		return nil, fmt.Errorf("API server address: %w", err)
	}
	if upstream.Scheme == "" {
		upstream.Scheme = "https"
	}
	transport, err := rest.TransportFor(target)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), Delay: time.Hour, RetryAfter: 1,
		faults: map[Fault]int{}, ln: ln, done: make(chan struct{})}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport: transport,
		// Streaming answers (watches) are passed on as they come.
		FlushInterval: -1,
		// A client that gave up is the point of some faults, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: p.handler(rp), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Set replaces the rules; no rule passes every request on. The first rule
// that selects a request decides its fault.
func (p *Proxy) Set(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = rules
	p.seen = make([]int, len(rules))
}

// Injected returns how many requests got fault since New.
func (p *Proxy) Injected(f Fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults[f]
}

// Close takes the proxy down: it stops listening, so that new connections
// are refused, and ends the requests in flight.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	<-p.done
	return err
}

// fault returns the fault for r, or 0 to pass it on.
func (p *Proxy) fault(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, rule := range p.rules {
		if !strings.Contains(r.URL.Path, rule.Path) || rule.Except != "" && strings.Contains(r.URL.Path, rule.Except) {
			continue
		}
		n := p.seen[i]
		p.seen[i]++
		if rule.Every > 1 && n%rule.Every != 0 {
			return 0
		}
		p.faults[rule.Fault]++
		return rule.Fault
	}
	return 0
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p.fault(r) {
		case Delay:
			t := time.NewTimer(p.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		case TooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
			writeStatus(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests,
				"too many requests: injected by the fault proxy")
			return
		case Forbidden:
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
				r.URL.Path+" is forbidden: injected by the fault proxy")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeStatus answers with a Status object, as the API server does.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, message string) {
	data, err := json.Marshal(&metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: message, Reason: reason, Code: int32(code),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
