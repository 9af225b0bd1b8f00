package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const filterHost = "filters.example.com"

// joined returns a header's values as one comma-separated string, so a
// test does not depend on whether Envoy appended a value to the existing
// line or sent a second line (both mean the same in HTTP).
func joined(values []string) string { return strings.Join(values, ",") }

func TestHTTPRouteFilterRequestHeaderModifier(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reqhdr, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [filters.example.com]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - {name: X-Overwrite, value: set-by-gateway}
        - {name: X-Set-New, value: fresh}
        add:
        - {name: X-Append, value: added}
        - {name: X-Add-New, value: new}
        remove: [X-Remove-Me]
    backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	e := p.Get(t, filterHost, "/",
		"X-Overwrite", "from-client",
		"X-Append", "from-client",
		"X-Remove-Me", "secret",
		"X-Untouched", "kept",
	).Echo(t)
	checks := []struct{ name, want string }{
		{"X-Overwrite", "set-by-gateway"},
		{"X-Set-New", "fresh"},
		{"X-Append", "from-client,added"},
		{"X-Add-New", "new"},
		{"X-Remove-Me", ""},
		{"X-Untouched", "kept"},
	}
	for _, c := range checks {
		if got := joined(e.Header(c.name)); got != c.want {
			t.Errorf("upstream saw %s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestHTTPRouteFilterResponseHeaderModifier(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: resphdr, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [filters.example.com]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Upstream-Set, value: gateway}]
        add: [{name: X-Upstream-Add, value: gateway}, {name: X-Gateway-New, value: hello}]
        remove: [X-Upstream-Secret]
    backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	// echo-basic sets the response headers listed in X-Echo-Set-Header, so
	// the upstream answer carries headers for the filter to change.
	r := p.Get(t, filterHost, "/",
		"X-Echo-Set-Header", "X-Upstream-Set:upstream,X-Upstream-Add:upstream,X-Upstream-Secret:hidden,X-Upstream-Keep:kept",
	).ExpectStatus(t, http.StatusOK)
	checks := []struct{ name, want string }{
		{"X-Upstream-Set", "gateway"},
		{"X-Upstream-Add", "upstream,gateway"},
		{"X-Gateway-New", "hello"},
		{"X-Upstream-Secret", ""},
		{"X-Upstream-Keep", "kept"},
	}
	for _, c := range checks {
		if got := joined(r.Header.Values(c.name)); got != c.want {
			t.Errorf("response %s: %q, want %q\n%s", c.name, got, c.want, r)
		}
	}
}

const redirectRoute = `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [redirect.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
        hostname: new.example.com
        port: 8443
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
        statusCode: 301
  - matches: [{path: {type: PathPrefix, value: /moved}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: other.example.com
        statusCode: 302
  - matches: [{path: {type: PathPrefix, value: /secure}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
  - matches: [{path: {type: Exact, value: /page}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        path: {type: ReplaceFullPath, replaceFullPath: /elsewhere}
  - matches: [{path: {type: Exact, value: /to-default-port}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
        hostname: tls.example.com
        port: 443
`

type redirectCase struct {
	host, path string
	status     int
	location   string
}

func checkRedirects(t *testing.T, p *Proxy, cases []redirectCase) {
	t.Helper()
	for _, c := range cases {
		r := p.ExpectStatus(t, c.status, c.host, c.path)
		if got := r.Header.Get("Location"); got != c.location {
			t.Errorf("GET %s%s: Location %q, want %q", c.host, c.path, got, c.location)
		}
	}
}

// TestHTTPRouteFilterRequestRedirect: redirects answer without reaching a
// backend, with the status and Location the filter asks for.
func TestHTTPRouteFilterRequestRedirect(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, redirectRoute, nil)
	const host = "redirect.example.com"
	// A real client names a non-default port in Host.
	hostPort := fmt.Sprintf("%s:%d", host, p.Port)
	checkRedirects(t, p, []redirectCase{
		{host, "/old/page", 301, "https://new.example.com:8443/new/page"},
		{hostPort, "/old", 301, "https://new.example.com:8443/new"},
		{hostPort, "/old/a/b?q=1", 301, "https://new.example.com:8443/new/a/b?q=1"},
		// The default status is 302; the path is replaced whole.
		{hostPort, "/page", 302, fmt.Sprintf("http://%s/elsewhere", hostPort)},
	})
}

// TestHTTPRouteFilterRequestRedirectPortDerivation: with no port in the
// filter, Gateway API says the Location port MUST be the listener's when no
// scheme is given, and the scheme's well-known port when one is; a port
// that is the scheme's well-known one SHOULD NOT appear in Location.
func TestHTTPRouteFilterRequestRedirectPortDerivation(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, redirectRoute, nil)
	const host = "redirect.example.com"
	hostPort := fmt.Sprintf("%s:%d", host, p.Port)
	checkRedirects(t, p, []redirectCase{
		{hostPort, "/moved/x", 302, fmt.Sprintf("http://other.example.com:%d/moved/x", p.Port)},
		{hostPort, "/secure/x", 302, "https://redirect.example.com/secure/x"},
		// An explicit well-known port for the scheme is left out.
		{hostPort, "/to-default-port", 302, "https://tls.example.com/to-default-port"},
		// Even a client that leaves the port out of Host.
		{host, "/page", 302, fmt.Sprintf("http://%s/elsewhere", hostPort)},
	})
}

func TestHTTPRouteFilterURLRewrite(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: rewrite, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [rewrite.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        hostname: upstream.internal
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /strip}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /full}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplaceFullPath, replaceFullPath: /replaced}
    backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	const host = "rewrite.example.com"
	cases := []struct{ path, wantPath, wantHost string }{
		{"/api/users", "/v2/users", "upstream.internal"},
		{"/api", "/v2", "upstream.internal"},
		{"/api/users?id=1", "/v2/users?id=1", "upstream.internal"},
		// Replacing a prefix with "/" must not leave a double slash.
		{"/strip/users", "/users", host},
		{"/strip", "/", host},
		{"/full/any/thing", "/replaced", host},
		{"/full", "/replaced", host},
	}
	for _, c := range cases {
		e := p.Get(t, host, c.path).Echo(t)
		if e.Path != c.wantPath || e.Host != c.wantHost {
			t.Errorf("GET %s: upstream saw host %q path %q, want host %q path %q", c.path, e.Host, e.Path, c.wantHost, c.wantPath)
		}
	}
}

func TestHTTPRouteFilterRequestMirror(t *testing.T) {
	envoyTest(t)
	mirror := StartHTTPBackend(t, OKHandler())
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
{{ service "mirror" .Mirror }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirror, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [mirror.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /mirrored}}]
    filters:
    - type: RequestMirror
      requestMirror:
        backendRef: {name: mirror, port: 8080}
    backendRefs: [{name: echo, port: 8080}]
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port, "Mirror": mirror.Port})

	// The client gets the primary backend's answer, not the mirror's.
	p.ExpectPod(t, "echo", "mirror.example.com", "/mirrored/one?x=1", "X-Mirror-Id", "m-1")
	hits := mirror.WaitHits(t, 1, 10*time.Second, func(h Hit) bool { return h.Header.Get("X-Mirror-Id") == "m-1" })
	if hits[0].Path != "/mirrored/one?x=1" || hits[0].Method != http.MethodGet {
		t.Errorf("mirror saw %s %s, want GET /mirrored/one?x=1", hits[0].Method, hits[0].Path)
	}

	// A rule without the filter mirrors nothing. Send it, then a mirrored
	// marker request: once the marker arrives, the unmirrored one would
	// have too.
	p.ExpectPod(t, "echo", "mirror.example.com", "/plain", "X-Mirror-Id", "m-2")
	p.ExpectPod(t, "echo", "mirror.example.com", "/mirrored/two", "X-Mirror-Id", "m-3")
	mirror.WaitHits(t, 1, 10*time.Second, func(h Hit) bool { return h.Header.Get("X-Mirror-Id") == "m-3" })
	for _, h := range mirror.Hits() {
		if h.Header.Get("X-Mirror-Id") == "m-2" {
			t.Errorf("mirror received a request from the rule without RequestMirror: %+v", h)
		}
	}
}

func TestHTTPRouteFilterCORSPreflight(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cors, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [cors.example.com]
  rules:
  - filters:
    - type: CORS
      cors:
        allowOrigins: ["https://app.example.com"]
        allowMethods: [GET, POST]
        allowHeaders: [X-Custom]
        exposeHeaders: [X-Exposed]
        maxAge: 600
    backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	preflight := func(origin string) *Response {
		req := p.NewRequest(t, http.MethodOptions, "cors.example.com", "/resource")
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "X-Custom")
		return Do(t, httpClient, req)
	}

	r := preflight("https://app.example.com")
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("preflight from an allowed origin: want 200 or 204, got %s", r)
	}
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Access-Control-Allow-Origin %q, want https://app.example.com\n%s", got, r)
	}
	if got := headerList(r.Header, "Access-Control-Allow-Methods"); !slices.Contains(got, "POST") || !slices.Contains(got, "GET") {
		t.Errorf("Access-Control-Allow-Methods %v, want GET and POST", got)
	}
	if got := headerList(r.Header, "Access-Control-Allow-Headers"); !slices.ContainsFunc(got, func(h string) bool { return strings.EqualFold(h, "X-Custom") }) {
		t.Errorf("Access-Control-Allow-Headers %v, want X-Custom", got)
	}
	if got := r.Header.Get("Access-Control-Max-Age"); got != "600" {
		t.Errorf("Access-Control-Max-Age %q, want 600", got)
	}

	// An origin not on the list gets no permission.
	r = preflight("https://evil.example.com")
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("disallowed origin got Access-Control-Allow-Origin %q\n%s", got, r)
	}

	// A simple cross-origin request reaches the backend and carries the
	// allow-origin and expose headers on the way back.
	r = p.Get(t, "cors.example.com", "/resource", "Origin", "https://app.example.com").ExpectStatus(t, http.StatusOK)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("actual request: Access-Control-Allow-Origin %q, want https://app.example.com", got)
	}
	if got := headerList(r.Header, "Access-Control-Expose-Headers"); !slices.ContainsFunc(got, func(h string) bool { return strings.EqualFold(h, "X-Exposed") }) {
		t.Errorf("actual request: Access-Control-Expose-Headers %v, want X-Exposed", got)
	}
}

// headerList splits a comma-separated header into trimmed items.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// TestHTTPRouteBackendRefFilter: a filter on one backendRef applies only to
// requests sent to that backend.
func TestHTTPRouteBackendRefFilter(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "a" .A }}---
{{ service "b" .B }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: perbackend, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [filters.example.com]
  rules:
  - backendRefs:
    - name: a
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier:
          set: [{name: X-Backend, value: a}]
    - name: b
      port: 8080
`, map[string]any{"A": StartEchoBasic(t, "a").Port, "B": StartEchoBasic(t, "b").Port})

	seen := map[string]int{}
	for i := 0; i < 60 && (seen["a"] == 0 || seen["b"] == 0); i++ {
		e := p.Get(t, filterHost, "/").Echo(t)
		seen[e.Pod]++
		want := ""
		if e.Pod == "a" {
			want = "a"
		}
		if got := joined(e.Header("X-Backend")); got != want {
			t.Fatalf("request to pod %q carried X-Backend %q, want %q", e.Pod, got, want)
		}
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("equal weights but one backend got nothing in 60 requests: %v", seen)
	}
}
