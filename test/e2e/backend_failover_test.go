package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// namedServer is an in-test HTTP server answering its name, that the test
// can stop and start again on the same port (a backend going down and
// coming back).
type namedServer struct {
	name string
	port int

	mu  sync.Mutex
	srv *http.Server
}

func startNamedServer(t *testing.T, name string) *namedServer {
	t.Helper()
	s := &namedServer{name: name, port: FreePort(t)}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

func (s *namedServer) start(t *testing.T) {
	t.Helper()
	var l net.Listener
	var err error
	// The port was just released by stop (or handed out by FreePort);
	// binding may briefly fail while the kernel lets it go.
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s: listening on %d: %v", s.name, s.port, err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, s.name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// stop closes the listener and every connection: new connections are
// refused, as from a crashed backend.
func (s *namedServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// who sends one request and returns the status and the name of the
// server that answered ("" when none did).
func who(t *testing.T, p *Proxy, host, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req := p.NewRequest(t, http.MethodGet, host, path).WithContext(ctx)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, string(body)
}

// expectAll sends n requests and fails unless every one is answered by
// server want.
func expectAll(t *testing.T, p *Proxy, host, path, want string, n int) {
	t.Helper()
	counts := map[string]int{}
	for range n {
		code, name := who(t, p, host, path)
		counts[fmt.Sprintf("%d %s", code, name)]++
	}
	if counts["200 "+want] != n {
		t.Fatalf("%d requests to %s%s: answers %v, want all from %s", n, host, path, counts, want)
	}
}

// waitFor sends requests until server want answers one (others and errors
// are allowed meanwhile), failing after d. It returns how many other
// answers came first.
func waitFor(t *testing.T, p *Proxy, host, path, want string, d time.Duration) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(d)
	for {
		code, name := who(t, p, host, path)
		if name == want {
			return seen
		}
		seen[fmt.Sprintf("%d %s", code, name)]++
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s within %s; got %v", want, d, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBackendFallbackFailover: a rule with a primary Backend and a
// fallback one. While the primary is up it takes every request (without
// priorities the standby would take half); when it stops, the fallback
// takes over after the first failed request (egctl's default outlier
// detection ejects the refused endpoint); when it returns, it gets the
// traffic back once its ejection ends.
func TestBackendFallbackFailover(t *testing.T) {
	envoyTest(t)
	primary := startNamedServer(t, "primary")
	standby := startNamedServer(t, "standby")
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: primary, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .Primary }}}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: standby, namespace: default}
spec:
  fallback: true
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .Standby }}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ha, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [ha.example.com]
  rules:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: primary, port: {{ .Primary }}}
    - {group: gateway.envoyproxy.io, kind: Backend, name: standby, port: {{ .Standby }}}
`, map[string]any{"Primary": primary.port, "Standby": standby.port})

	const host = "ha.example.com"
	expectAll(t, p, host, "/", "primary", 30)

	primary.stop()
	// One failed request ejects the primary; a second may already be on
	// its way to it.
	if other := waitFor(t, p, host, "/", "standby", 10*time.Second); other["503 "] > 2 || len(other) > 1 {
		t.Errorf("before the fallback answered: %v, want at most two 503s", other)
	}
	expectAll(t, p, host, "/", "standby", 20)

	primary.start(t)
	// The ejection lasts 10s, checked every 2s.
	waitFor(t, p, host, "/", "primary", 20*time.Second)
	expectAll(t, p, host, "/", "primary", 20)
	// The failover was the outlier detection's doing.
	stat := p.Admin(t, "/stats?filter=^cluster.httproute/default/ha/rule/0.outlier_detection.ejections_enforced_consecutive_local_origin_failure$")
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(stat[strings.LastIndex(stat, ":")+1:]), "%d", &n); err != nil || n < 1 {
		t.Errorf("Envoy counts %q local-origin ejections, want at least 1", strings.TrimSpace(stat))
	}
}
