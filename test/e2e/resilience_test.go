package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestHTTPRouteTimeoutRequest: a backend slower than rules[].timeouts.request
// gets the client a 504 as soon as the timeout passes, not when the backend
// answers.
func TestHTTPRouteTimeoutRequest(t *testing.T) {
	envoyTest(t)
	slow := StartHTTPBackend(t, SlowHandler())
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "slow" .Slow }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: timeout, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [timeout.example.com]
  rules:
  - timeouts: {request: 500ms}
    backendRefs: [{name: slow, port: 8080}]
`, map[string]any{"Slow": slow.Port})

	p.ExpectStatus(t, http.StatusOK, "timeout.example.com", "/?sleep=50ms")
	r := p.ExpectStatus(t, http.StatusGatewayTimeout, "timeout.example.com", "/?sleep=10s")
	if r.Took < 400*time.Millisecond || r.Took > 4*time.Second {
		t.Errorf("504 came after %s, want close to the 500ms timeout", r.Took)
	}
}

// TestHTTPRouteRetry: a backend failing twice with 503 then succeeding is
// retried by Envoy and the client sees a single 200.
func TestHTTPRouteRetry(t *testing.T) {
	envoyTest(t)
	flaky := StartHTTPBackend(t, FlakyHandler(2, http.StatusServiceUnavailable))
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "flaky" .Flaky }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: retry, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [retry.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /retried}}]
    retry:
      codes: [503]
      attempts: 3
      backoff: 10ms
    backendRefs: [{name: flaky, port: 8080}]
  - backendRefs: [{name: flaky, port: 8080}]
`, map[string]any{"Flaky": flaky.Port})

	attempts := func(key string) int {
		n := 0
		for _, h := range flaky.Hits() {
			if h.Header.Get("X-Request-Key") == key {
				n++
			}
		}
		return n
	}
	for i := range 3 {
		key := fmt.Sprintf("retry-%d", i)
		p.ExpectStatus(t, http.StatusOK, "retry.example.com", "/retried", "X-Request-Key", key)
		if n := attempts(key); n != 3 {
			t.Errorf("request %s reached the backend %d times, want 3 (2 failures + 1 success)", key, n)
		}
	}
	// Without a retry policy the first 503 reaches the client.
	p.ExpectStatus(t, http.StatusServiceUnavailable, "retry.example.com", "/plain", "X-Request-Key", "no-retry")
	if n := attempts("no-retry"); n != 1 {
		t.Errorf("rule without retry reached the backend %d times, want 1", n)
	}
}
