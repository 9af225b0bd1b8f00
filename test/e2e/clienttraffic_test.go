package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ClientTrafficPolicy behaviour through the real Envoy. Each test runs one
// Envoy whose Gateway has one listener per case, each on its own port with
// its own policy (sectionName), so the cases share a process but not their
// settings.

// ctpListeners renders a Gateway "gw" with one plain HTTP listener per
// name on the given ports, routes from all namespaces.
func ctpGateway(names []string, ports []int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
`)
	for i, n := range names {
		fmt.Fprintf(&b, "  - {name: %s, protocol: HTTP, port: %d, allowedRoutes: {namespaces: {from: All}}}\n", n, ports[i])
	}
	return b.String()
}

// clientIPRoute sends every request of the Gateway's listeners to echo,
// telling it the client address Envoy settled on (after X-Forwarded-For,
// a custom header or PROXY protocol) in x-client-ip.
const clientIPRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-client-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}]
    backendRefs: [{name: echo, port: 8080}]
`

func ctpPolicy(name, listener, spec string) string {
	return fmt.Sprintf(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: %s, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: %s}]
%s`, name, listener, indent(2, spec))
}

// getOn sends GET path to 127.0.0.1:port with header pairs.
func getOn(t *testing.T, port int, path string, kv ...string) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "www.example.com"
	setHeaders(t, req, kv)
	return Do(t, httpClient, req)
}

// TestClientTrafficHTTPListener: client IP detection (none, X-Forwarded-For
// with trusted hops, trusted CIDRs, a custom header that fails closed),
// early and late headers, Envoy's own headers, headers with underscores,
// escaped slashes, request IDs and the health check path.
func TestClientTrafficHTTPListener(t *testing.T) {
	envoyTest(t)
	names := []string{"plain", "hops", "cidrs", "header"}
	ports := []int{FreePort(t), FreePort(t), FreePort(t), FreePort(t)}
	manifests := "{{ gatewayClass }}---\n" + ctpGateway(names, ports) + "---\n{{ service \"echo\" .Echo }}---\n" + clientIPRoute + "---\n" +
		ctpPolicy("hops", "hops", `clientIPDetection:
  xForwardedFor: {numTrustedHops: 2}
headers:
  enableEnvoyHeaders: true
  withUnderscoresAction: Allow
  earlyRequestHeaders:
    set: [{name: x-early, value: early}]
    remove: [x-drop-me]
  lateResponseHeaders:
    set: [{name: x-late, value: late}]
healthCheck: {path: /healthz}
`) + "---\n" + ctpPolicy("cidrs", "cidrs", `clientIPDetection:
  xForwardedFor: {trustedCIDRs: ["127.0.0.0/8", "10.0.0.0/8"]}
headers:
  requestID: Preserve
`) + "---\n" + ctpPolicy("header", "header", `clientIPDetection:
  customHeader: {name: X-Real-IP, failClosed: true}
path:
  escapedSlashesAction: RejectRequest
`)
	data := map[string]any{"Echo": StartEchoBasic(t, "echo").Port}
	p := StartProxy(t, DeployOptions{}, RenderManifests(t, manifests, data), ports...)
	plain, hops, cidrs, header := ports[0], ports[1], ports[2], ports[3]

	clientIP := func(r *Response) string { return joined(r.Echo(t).Header("x-client-ip")) }
	xff := "198.51.100.1, 203.0.113.7"

	// No policy: the peer is the client, whatever X-Forwarded-For says.
	if got := clientIP(getOn(t, plain, "/", "X-Forwarded-For", xff)); got != "127.0.0.1" {
		t.Errorf("no policy: backend saw client %q, want the peer 127.0.0.1", got)
	}
	// numTrustedHops 2: the second address from the right.
	if got := clientIP(getOn(t, hops, "/", "X-Forwarded-For", xff)); got != "198.51.100.1" {
		t.Errorf("numTrustedHops 2: backend saw client %q, want 198.51.100.1", got)
	}
	// Trusted CIDRs: the peer (127.0.0.1) and 10.1.2.3 are trusted, so the
	// client is the first untrusted address from the right.
	if got := clientIP(getOn(t, cidrs, "/", "X-Forwarded-For", "192.0.2.1, 203.0.113.9, 10.1.2.3")); got != "203.0.113.9" {
		t.Errorf("trustedCIDRs: backend saw client %q, want 203.0.113.9", got)
	}
	// Custom header: taken from it, and without it the request is refused.
	if got := clientIP(getOn(t, header, "/", "X-Real-IP", "192.0.2.44")); got != "192.0.2.44" {
		t.Errorf("customHeader: backend saw client %q, want 192.0.2.44", got)
	}
	getOn(t, header, "/").ExpectStatus(t, http.StatusForbidden)

	// Early request headers are set (and removed) before routing; late
	// response headers are set on every response; Envoy's own headers are
	// only added where asked.
	r := getOn(t, hops, "/", "X-Drop-Me", "secret")
	e := r.Echo(t)
	if got := joined(e.Header("x-early")); got != "early" {
		t.Errorf("earlyRequestHeaders: backend saw x-early %q, want early", got)
	}
	if got := joined(e.Header("x-drop-me")); got != "" {
		t.Errorf("earlyRequestHeaders remove: backend saw x-drop-me %q", got)
	}
	if got := r.Header.Get("x-late"); got != "late" {
		t.Errorf("lateResponseHeaders: client saw x-late %q, want late", got)
	}
	if r.Header.Get("x-envoy-upstream-service-time") == "" {
		t.Errorf("enableEnvoyHeaders: no x-envoy-upstream-service-time in %v", r.Header)
	}
	if r := getOn(t, plain, "/"); r.Header.Get("x-envoy-upstream-service-time") != "" || r.Header.Get("x-late") != "" {
		t.Errorf("listener without policy got another listener's headers: %v", r.Header)
	}

	// Headers with underscores: refused by default, let through when
	// allowed.
	getOn(t, plain, "/", "x_under", "1").ExpectStatus(t, http.StatusBadRequest)
	if got := joined(getOn(t, hops, "/", "x_under", "1").Echo(t).Header("x_under")); got != "1" {
		t.Errorf("withUnderscoresAction Allow: backend saw x_under %q, want 1", got)
	}

	// Escaped slashes: redirected by default, refused when asked.
	if r := getOn(t, plain, "/a%2Fb"); r.Status == http.StatusBadRequest {
		t.Errorf("default escaped slashes action refused the request: %s", r)
	}
	getOn(t, header, "/a%2Fb", "X-Real-IP", "192.0.2.44").ExpectStatus(t, http.StatusBadRequest)

	// Request IDs: generated afresh by default, the client's kept when asked.
	if got := joined(getOn(t, plain, "/", "X-Request-Id", "client-id").Echo(t).Header("x-request-id")); got == "client-id" || got == "" {
		t.Errorf("default request ID: backend saw %q, want a fresh one", got)
	}
	if got := joined(getOn(t, cidrs, "/", "X-Request-Id", "client-id").Echo(t).Header("x-request-id")); got != "client-id" {
		t.Errorf("requestID Preserve: backend saw %q, want client-id", got)
	}

	// The health check path is answered by Envoy, not the backend.
	hc := getOn(t, hops, "/healthz").ExpectStatus(t, http.StatusOK)
	if strings.Contains(string(hc.Body), `"pod"`) {
		t.Errorf("/healthz reached the backend: %s", hc.Body)
	}
	if e := getOn(t, plain, "/healthz").Echo(t); e.Path != "/healthz" {
		t.Errorf("listener without policy: /healthz not proxied: %+v", e)
	}
	_ = p
}

// TestClientTrafficProxyProtocol: with proxyProtocol the listener reads the
// PROXY header first and takes its source as the client; a connection
// without one is refused.
func TestClientTrafficProxyProtocol(t *testing.T) {
	envoyTest(t)
	ports := []int{FreePort(t)}
	manifests := "{{ gatewayClass }}---\n" + ctpGateway([]string{"pp"}, ports) + "---\n{{ service \"echo\" .Echo }}---\n" + clientIPRoute + "---\n" +
		ctpPolicy("pp", "pp", "proxyProtocol: {}\n")
	StartProxy(t, DeployOptions{}, RenderManifests(t, manifests, map[string]any{"Echo": StartEchoBasic(t, "echo").Port}), ports...)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])

	req := "GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"
	status, body := rawExchange(t, addr, "PROXY TCP4 192.0.2.77 127.0.0.1 40000 80\r\n"+req)
	var e EchoResponse
	if status != http.StatusOK || json.Unmarshal([]byte(body), &e) != nil || joined(e.Header("x-client-ip")) != "192.0.2.77" {
		t.Fatalf("with a PROXY header: status %d, want 200 with client 192.0.2.77 at the backend:\n%s", status, body)
	}
	if status, body := rawExchange(t, addr, req); status != 0 {
		t.Fatalf("without a PROXY header: got status %d, want the connection closed:\n%s", status, body)
	}
}

// rawExchange writes payload on a fresh connection and reads the response
// until the connection closes; status 0 means no HTTP response came.
func rawExchange(t *testing.T, addr, payload string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := io.WriteString(c, payload); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
