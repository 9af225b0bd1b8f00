package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// btpRoute is an HTTPRoute on host <name>.example.com to Service svc with a
// BackendTrafficPolicy of spec body on it.
func btpRoute(name, svc, body string) string {
	return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %[1]s, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [%[1]s.example.com]
  rules: [{backendRefs: [{name: %[2]s, port: 8080}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: %[1]s, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: %[1]s}]
%[3]s`, name, svc, body)
}

// compressible is a response body compressors shrink a lot.
var compressible = strings.Repeat("egctl compiles Gateway API to Envoy. ", 200)

// TestBackendTrafficRequests: what a BackendTrafficPolicy does to requests,
// seen through the real Envoy: retries counted at the backend, timeouts,
// faults, compression, response overrides, request buffering, circuit
// breaking and the route's stat name.
func TestBackendTrafficRequests(t *testing.T) {
	envoyTest(t)
	flaky := StartHTTPBackend(t, FlakyHandler(2, http.StatusServiceUnavailable))
	slow := StartHTTPBackend(t, SlowHandler())
	text := StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, compressible)
	}))
	statuses := StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		if code == 0 {
			code = 200
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		fmt.Fprintf(w, "backend says %d", code)
	}))
	release := newGate(t)
	var inFlight, maxInFlight atomic.Int32
	busy := StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		release.wait(r.Context())
		_, _ = io.WriteString(w, "done")
	}))
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "flaky" .Flaky }}---
{{ service "slow" .Slow }}---
{{ service "text" .Text }}---
{{ service "statuses" .Statuses }}---
{{ service "busy" .Busy }}---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-found, namespace: default}
data: {response.body: "nothing here, says egctl"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: raw, namespace: default}
binaryData: {response.body: AAEC/w==}
`+btpRoute("retry", "flaky", `  retry:
    numRetries: 3
    perRetry: {backOff: {baseInterval: 10ms}}
    retryOn: {triggers: [retriable-status-codes], httpStatusCodes: [503]}
`)+btpRoute("per-try", "slow", `  retry:
    numRetries: 2
    retryOn: {triggers: [reset]}
    perRetry: {timeout: 200ms}
`)+btpRoute("timeout", "slow", `  timeout: {http: {requestTimeout: 400ms}}
`)+btpRoute("abort", "text", `  faultInjection: {abort: {httpStatus: 418}}
`)+btpRoute("delay", "text", `  faultInjection: {delay: {fixedDelay: 600ms}}
`)+btpRoute("compress", "text", `  compressor:
  - {type: Gzip, gzip: {}}
  - {type: Brotli, brotli: {}}
  - {type: Zstd, zstd: {}}
`)+btpRoute("override", "statuses", `  responseOverride:
  - match: {statusCodes: [{value: 404}]}
    response:
      contentType: text/plain
      body: {type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: not-found}}
  - match: {statusCodes: [{type: Range, range: {start: 500, end: 599}}]}
    response:
      statusCode: 502
      contentType: application/json
      body: {inline: '{"error": "upstream failed"}'}
  - match: {statusCodes: [{value: 410}]}
    response:
      contentType: application/octet-stream
      body: {type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: raw}}
`)+btpRoute("buffer", "text", `  requestBuffer: {limit: 1Ki}
`)+btpRoute("breaker", "busy", `  circuitBreaker: {maxConnections: 1, maxPendingRequests: 1, maxParallelRequests: 1}
`)+btpRoute("stats", "text", `  telemetry: {metrics: {routeStatName: "%ROUTE_KIND%-%ROUTE_NAME%"}}
`), map[string]any{"Flaky": flaky.Port, "Slow": slow.Port, "Text": text.Port, "Statuses": statuses.Port, "Busy": busy.Port})

	t.Run("retry: failures are retried and counted at the backend", func(t *testing.T) {
		for i := range 3 {
			key := fmt.Sprintf("retry-%d", i)
			p.ExpectStatus(t, http.StatusOK, "retry.example.com", "/", "X-Request-Key", key)
			n := 0
			for _, h := range flaky.Hits() {
				if h.Header.Get("X-Request-Key") == key {
					n++
				}
			}
			if n != 3 {
				t.Errorf("%s reached the backend %d times, want 3 (two 503s retried, then 200)", key, n)
			}
		}
	})

	t.Run("retry: each attempt has its own timeout", func(t *testing.T) {
		before := len(slow.Hits())
		r := p.Get(t, "per-try.example.com", "/?sleep=5s")
		if r.Status != http.StatusGatewayTimeout {
			t.Fatalf("want 504 after every attempt timed out, got %s", r)
		}
		// 3 attempts of 200ms (plus back-off) long before the backend's 5s.
		if r.Took > 3*time.Second {
			t.Errorf("took %s", r.Took)
		}
		if n := len(slow.WaitHits(t, before+3, 2*time.Second, nil)) - before; n != 3 {
			t.Errorf("backend saw %d attempts, want 3 (1 + numRetries 2)", n)
		}
	})

	t.Run("timeout: the request timeout answers 504", func(t *testing.T) {
		p.ExpectStatus(t, http.StatusOK, "timeout.example.com", "/?sleep=10ms")
		r := p.ExpectStatus(t, http.StatusGatewayTimeout, "timeout.example.com", "/?sleep=10s")
		if r.Took < 350*time.Millisecond || r.Took > 4*time.Second {
			t.Errorf("504 after %s, want close to 400ms", r.Took)
		}
	})

	t.Run("fault: abort answers without the backend", func(t *testing.T) {
		before := len(text.Hits())
		p.ExpectStatus(t, http.StatusTeapot, "abort.example.com", "/")
		p.ExpectStatus(t, http.StatusTeapot, "abort.example.com", "/")
		if n := len(text.Hits()) - before; n != 0 {
			t.Errorf("aborted requests reached the backend %d times", n)
		}
	})

	t.Run("fault: delay holds the request", func(t *testing.T) {
		r := p.ExpectStatus(t, http.StatusOK, "delay.example.com", "/")
		if r.Took < 550*time.Millisecond {
			t.Errorf("answered after %s, want at least the 600ms delay", r.Took)
		}
	})

	t.Run("compression: gzip, brotli and zstd bodies decode to the original", func(t *testing.T) {
		decoders := map[string]func(io.Reader) (io.Reader, error){
			"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
			"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
			"zstd": func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) },
		}
		for enc, dec := range decoders {
			r := p.ExpectStatus(t, http.StatusOK, "compress.example.com", "/", "Accept-Encoding", enc)
			if got := r.Header.Get("Content-Encoding"); got != enc {
				t.Fatalf("Accept-Encoding %s: Content-Encoding %q", enc, got)
			}
			if len(r.Body) >= len(compressible)/4 {
				t.Errorf("%s: %d bytes for %d, not compressed", enc, len(r.Body), len(compressible))
			}
			zr, err := dec(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatalf("%s: %v", enc, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || string(plain) != compressible {
				t.Fatalf("%s: decoded %d bytes (%v), want the original %d", enc, len(plain), err, len(compressible))
			}
		}
		// The backend is asked for identity: Envoy compresses, not it.
		for _, h := range text.Hits() {
			if h.Host == "compress.example.com" && h.Header.Get("Accept-Encoding") != "" {
				t.Errorf("backend saw Accept-Encoding %q", h.Header.Get("Accept-Encoding"))
			}
		}
		r := p.ExpectStatus(t, http.StatusOK, "compress.example.com", "/", "Accept-Encoding", "identity")
		if r.Header.Get("Content-Encoding") != "" || string(r.Body) != compressible {
			t.Errorf("identity: Content-Encoding %q, %d bytes", r.Header.Get("Content-Encoding"), len(r.Body))
		}
	})

	t.Run("responseOverride: a 404 gets the ConfigMap's body, a 5xx another status, a 410 binary bytes", func(t *testing.T) {
		r := p.ExpectStatus(t, http.StatusNotFound, "override.example.com", "/404")
		if string(r.Body) != "nothing here, says egctl" || r.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("404: %s", r)
		}
		r = p.ExpectStatus(t, http.StatusBadGateway, "override.example.com", "/503")
		if string(r.Body) != `{"error": "upstream failed"}` || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("503: %s", r)
		}
		r = p.ExpectStatus(t, http.StatusGone, "override.example.com", "/410")
		if !bytes.Equal(r.Body, []byte{0, 1, 2, 0xff}) || r.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("410: body %q, %s", r.Body, r)
		}
		r = p.ExpectStatus(t, http.StatusOK, "override.example.com", "/200")
		if string(r.Body) != "backend says 200" {
			t.Errorf("200 was overridden: %s", r)
		}
		r = p.ExpectStatus(t, http.StatusConflict, "override.example.com", "/409")
		if string(r.Body) != "backend says 409" {
			t.Errorf("409 was overridden: %s", r)
		}
	})

	t.Run("requestBuffer: a body over the limit is refused with 413", func(t *testing.T) {
		post := func(n int) *Response {
			req := p.NewRequest(t, http.MethodPost, "buffer.example.com", "/")
			req.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", n)))
			req.ContentLength = int64(n)
			return Do(t, httpClient, req)
		}
		post(512).ExpectStatus(t, http.StatusOK)
		post(4096).ExpectStatus(t, http.StatusRequestEntityTooLarge)
	})

	t.Run("circuitBreaker: requests over the limits overflow with 503", func(t *testing.T) {
		const n = 8
		type result struct {
			status int
			body   string
			err    error
		}
		results := make(chan result, n)
		for range n {
			go func() {
				resp, err := httpClient.Do(p.NewRequest(t, http.MethodGet, "breaker.example.com", "/"))
				if err != nil {
					results <- result{err: err}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				results <- result{status: resp.StatusCode, body: string(b)}
			}()
		}
		// One request is active on the one connection, one pending; the
		// rest overflow at once, while the backend still holds the first.
		deadline := time.After(10 * time.Second)
		for overflow := 0; overflow < n-2; overflow++ {
			select {
			case r := <-results:
				if r.err != nil || r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "overflow") {
					t.Fatalf("while the backend is busy: %d %q %v, want a 503 overflow", r.status, r.body, r.err)
				}
			case <-deadline:
				t.Fatalf("%d overflows after 10s, want %d", overflow, n-2)
			}
		}
		release.open()
		// The pending request may have overflowed too, had it arrived
		// while the first still waited for its connection.
		overflows, ok := n-2, 0
		for range 2 {
			switch r := <-results; {
			case r.err == nil && r.status == http.StatusOK:
				ok++
			case r.err == nil && r.status == http.StatusServiceUnavailable && strings.Contains(r.body, "overflow"):
				overflows++
			default:
				t.Errorf("after release: %d %q %v", r.status, r.body, r.err)
			}
		}
		if ok == 0 {
			t.Errorf("no request got through the breaker")
		}
		if m := maxInFlight.Load(); m != 1 {
			t.Errorf("backend saw %d requests at once, want 1", m)
		}
		if st := p.Admin(t, "/stats?filter=breaker.*pending_overflow"); !strings.Contains(st, fmt.Sprintf("upstream_rq_pending_overflow: %d", overflows)) {
			t.Errorf("want %d overflows in the stats:\n%s", overflows, st)
		}
	})

	t.Run("telemetry: the route's stats carry its stat name", func(t *testing.T) {
		p.ExpectStatus(t, http.StatusOK, "stats.example.com", "/")
		stats := p.Admin(t, "/stats?filter=route.HTTPRoute-stats")
		if !strings.Contains(stats, ".route.HTTPRoute-stats.upstream_rq_") {
			t.Errorf("no route stats under HTTPRoute-stats:\n%s", stats)
		}
	})
}
