package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestClientTrafficTimeoutsAndLimits: the HTTP idle timeout closes a quiet
// keep-alive connection, the request timeout answers 408 to a request whose
// body never finishes, and a connection limit of one refuses a second
// connection while the first is open. A listener without policy keeps its
// idle connection and lets many in.
func TestClientTrafficTimeoutsAndLimits(t *testing.T) {
	envoyTest(t)
	names := []string{"plain", "timeouts", "limit"}
	ports := []int{FreePort(t), FreePort(t), FreePort(t)}
	manifests := "{{ gatewayClass }}---\n" + ctpGateway(names, ports) + "---\n{{ service \"echo\" .Echo }}---\n" + clientIPRoute + "---\n" +
		ctpPolicy("timeouts", "timeouts", `timeout:
  http: {idleTimeout: 1s, requestReceivedTimeout: 1s}
`) + "---\n" + ctpPolicy("limit", "limit", `connection:
  connectionLimit: {value: 1}
`)
	StartProxy(t, DeployOptions{}, RenderManifests(t, manifests, map[string]any{"Echo": StartEchoBasic(t, "echo").Port}), ports...)
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	get := "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"

	// Idle timeout: after one request the connection is closed by Envoy
	// about a second later; without the policy it stays open.
	c := dialExchange(t, addr(1), get)
	start := time.Now()
	if err := waitClosed(c, 10*time.Second); err != nil {
		t.Errorf("idleTimeout 1s: %v", err)
	} else if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("idleTimeout 1s: closed after %s, too early for the timeout to be the cause", d)
	}
	c = dialExchange(t, addr(0), get)
	if err := waitClosed(c, 3*time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("no policy: idle connection: %v, want it still open after 3s", err)
	}

	// Request timeout: headers arrive, the body never completes.
	c = dial(t, addr(1))
	start = time.Now()
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 100\r\n\r\npartial")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	switch {
	case err != nil:
		t.Errorf("requestReceivedTimeout 1s: no response: %v", err)
	case resp.StatusCode != http.StatusRequestTimeout:
		t.Errorf("requestReceivedTimeout 1s: status %d, want 408", resp.StatusCode)
	case time.Since(start) < 500*time.Millisecond:
		t.Errorf("requestReceivedTimeout 1s: 408 after %s, too early", time.Since(start))
	}

	// Connection limit 1: the first connection is served and kept open; a
	// second one is closed without an answer; once the first goes, a new
	// one is served.
	first := dialExchange(t, addr(2), get)
	if status, body := rawExchange(t, addr(2), get); status != 0 {
		t.Errorf("connectionLimit 1: second connection got status %d, want it closed:\n%s", status, body)
	}
	first.Close()
	Eventually(t, 10*time.Second, func() error {
		if status, body := rawExchange(t, addr(2), "GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"); status != http.StatusOK {
			return fmt.Errorf("after the first connection closed: status %d: %s", status, body)
		}
		return nil
	})
	// Without a limit, two connections are served side by side.
	a, b := dialExchange(t, addr(0), get), dialExchange(t, addr(0), get)
	a.Close()
	b.Close()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialExchange opens a connection, sends one keep-alive request, reads its
// 200 answer and returns the open connection.
func dialExchange(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	c := dial(t, addr)
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("%s: write: %v", addr, err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", addr, resp.StatusCode, body)
	}
	if br.Buffered() > 0 {
		t.Fatalf("%s: unexpected bytes after the response", addr)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

// waitClosed waits up to d for the peer to close c: nil when it did, the
// read error otherwise (os.ErrDeadlineExceeded when it stayed open).
func waitClosed(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			return fmt.Errorf("unexpected data %q", strings.TrimSpace(string(buf[:n])))
		}
		if err == io.EOF || errors.Is(err, net.ErrClosed) || isReset(err) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// TestClientTrafficSharedPort: plain HTTP listeners of one port share one
// Envoy filter chain and HTTP connection manager. A policy on one of them
// would also act on the other's traffic, so egctl refuses it: that
// listener fails closed (500), the other keeps the Gateway-wide policy and
// never gets the refused one's settings.
func TestClientTrafficSharedPort(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: a, protocol: HTTP, port: {{ .Port }}, hostname: a.example.com}
  - {name: b, protocol: HTTP, port: {{ .Port }}, hostname: b.example.com}
---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: gateway-wide, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  headers:
    lateResponseHeaders: {set: [{name: x-policy, value: gateway-wide}]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: only-a, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}]
  headers:
    lateResponseHeaders: {set: [{name: x-policy, value: only-a}]}
  healthCheck: {path: /healthz}
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	p.ExpectStatus(t, http.StatusInternalServerError, "a.example.com", "/")
	r := p.Get(t, "b.example.com", "/healthz")
	if e := r.Echo(t); e.Path != "/healthz" {
		t.Errorf("b: /healthz not proxied to the backend: %+v", e)
	}
	if got := r.Header.Get("x-policy"); got != "gateway-wide" {
		t.Errorf("b: x-policy %q, want gateway-wide (and never only-a)", got)
	}
	if !strings.Contains(p.Translate.Stderr, "ClientTrafficPolicy default/only-a: Accepted Invalid") ||
		!strings.Contains(p.Translate.Stderr, "multiple http (non https) listeners (default/gw/b)") {
		t.Errorf("egctl stderr does not explain the refusal:\n%s", p.Translate.Stderr)
	}
}

// TestClientTrafficRateLimitHeaders: a local rate limit answers with
// X-RateLimit-* headers; headers.disableRateLimitHeaders on the listener
// removes them, including on the 429, for every route of the listener.
func TestClientTrafficRateLimitHeaders(t *testing.T) {
	envoyTest(t)
	names := []string{"plain", "quiet"}
	ports := []int{FreePort(t), FreePort(t)}
	manifests := "{{ gatewayClass }}---\n" + ctpGateway(names, ports) + "---\n{{ service \"echo\" .Echo }}---\n" + clientIPRoute + `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: limit, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: all}]
  rateLimit:
    local:
      rules:
      - limit: {requests: 2, unit: Hour}
---
` + ctpPolicy("quiet", "quiet", `headers: {disableRateLimitHeaders: true}
`)
	StartProxy(t, DeployOptions{}, RenderManifests(t, manifests, map[string]any{"Echo": StartEchoBasic(t, "echo").Port}), ports...)
	for i, name := range names {
		var last *Response
		for range 3 {
			last = getOn(t, ports[i], "/")
		}
		if last.Status != http.StatusTooManyRequests {
			t.Fatalf("%s: third request answered %d, want 429 (the limit is 2 an hour)", name, last.Status)
		}
		got := last.Header.Get("X-Ratelimit-Limit")
		if quiet := name == "quiet"; (got == "") != quiet {
			t.Errorf("%s: X-RateLimit-Limit %q on the 429; want it only without disableRateLimitHeaders", name, got)
		}
	}
}
