package e2e

import (
	"net/http"
	"testing"
)

// Each test routes to echo-basic pods whose names say which rule matched;
// a request no rule matches gets Envoy's 404.

const matchHost = "match.example.com"

func TestHTTPRouteMatchPathExact(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "exact" .Exact }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches: [{path: {type: Exact, value: /exact}}]
    backendRefs: [{name: exact, port: 8080}]
`, map[string]any{"Exact": StartEchoBasic(t, "exact").Port})

	p.ExpectPod(t, "exact", matchHost, "/exact")
	// The query string is not part of the path.
	if e := p.ExpectPod(t, "exact", matchHost, "/exact?q=1"); e.Path != "/exact?q=1" {
		t.Errorf("upstream saw path %q, want /exact?q=1", e.Path)
	}
	for _, path := range []string{"/exact/", "/exactly", "/exact/more", "/", "/EXACT"} {
		p.ExpectStatus(t, http.StatusNotFound, matchHost, path)
	}
}

func TestHTTPRouteMatchPathPrefixIsElementWise(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "foo" .Foo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: prefix, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /foo}}]
    backendRefs: [{name: foo, port: 8080}]
`, map[string]any{"Foo": StartEchoBasic(t, "foo").Port})

	for _, path := range []string{"/foo", "/foo/", "/foo/bar", "/foo/bar/baz", "/foo?x=1"} {
		p.ExpectPod(t, "foo", matchHost, path)
	}
	// A prefix matches whole path elements: /foobar does not start with
	// the element /foo.
	for _, path := range []string{"/foobar", "/fo", "/", "/bar/foo"} {
		p.ExpectStatus(t, http.StatusNotFound, matchHost, path)
	}
}

func TestHTTPRouteMatchPathRegularExpression(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "items" .Items }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: regex, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/items/[0-9]+"}}]
    backendRefs: [{name: items, port: 8080}]
`, map[string]any{"Items": StartEchoBasic(t, "items").Port})

	p.ExpectPod(t, "items", matchHost, "/items/42")
	p.ExpectPod(t, "items", matchHost, "/items/7?x=y")
	// The expression must match the whole path, not a part of it.
	for _, path := range []string{"/items/abc", "/items/", "/items/42/more", "/x/items/42"} {
		p.ExpectStatus(t, http.StatusNotFound, matchHost, path)
	}
}

func TestHTTPRouteMatchHeader(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "canary" .Canary }}---
{{ service "stable" .Stable }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: header, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches:
    - headers:
      - {name: X-Env, value: canary}
    - headers:
      - {name: X-Version, type: RegularExpression, value: "v2\\.[0-9]+"}
    backendRefs: [{name: canary, port: 8080}]
  - backendRefs: [{name: stable, port: 8080}]
`, map[string]any{"Canary": StartEchoBasic(t, "canary").Port, "Stable": StartEchoBasic(t, "stable").Port})

	p.ExpectPod(t, "canary", matchHost, "/", "X-Env", "canary")
	// Header names are case-insensitive.
	p.ExpectPod(t, "canary", matchHost, "/", "x-env", "canary")
	p.ExpectPod(t, "canary", matchHost, "/", "X-Version", "v2.13")
	// Header values are case-sensitive and matched whole.
	p.ExpectPod(t, "stable", matchHost, "/", "X-Env", "Canary")
	p.ExpectPod(t, "stable", matchHost, "/", "X-Env", "canary-2")
	p.ExpectPod(t, "stable", matchHost, "/", "X-Version", "v3.1")
	p.ExpectPod(t, "stable", matchHost, "/")
}

func TestHTTPRouteMatchQueryParam(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "canary" .Canary }}---
{{ service "stable" .Stable }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: query, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches:
    - queryParams:
      - {name: env, value: canary}
    backendRefs: [{name: canary, port: 8080}]
  - backendRefs: [{name: stable, port: 8080}]
`, map[string]any{"Canary": StartEchoBasic(t, "canary").Port, "Stable": StartEchoBasic(t, "stable").Port})

	p.ExpectPod(t, "canary", matchHost, "/?env=canary")
	p.ExpectPod(t, "canary", matchHost, "/some/path?a=b&env=canary")
	p.ExpectPod(t, "stable", matchHost, "/?env=stable")
	p.ExpectPod(t, "stable", matchHost, "/?env=canary2")
	p.ExpectPod(t, "stable", matchHost, "/?other=canary")
	p.ExpectPod(t, "stable", matchHost, "/")
}

func TestHTTPRouteMatchMethod(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "writer" .Writer }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: method, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches: [{method: POST}, {method: DELETE}]
    backendRefs: [{name: writer, port: 8080}]
`, map[string]any{"Writer": StartEchoBasic(t, "writer").Port})

	for _, m := range []string{http.MethodPost, http.MethodDelete} {
		e := Do(t, httpClient, p.NewRequest(t, m, matchHost, "/")).Echo(t)
		if e.Pod != "writer" || e.Method != m {
			t.Errorf("%s: served by %q with method %q, want writer and %s", m, e.Pod, e.Method, m)
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch} {
		Do(t, httpClient, p.NewRequest(t, m, matchHost, "/")).ExpectStatus(t, http.StatusNotFound)
	}
}

// TestHTTPRouteMatchCombined: the conditions inside one match are ANDed
// (path, header, query, method); separate matches are ORed.
func TestHTTPRouteMatchCombined(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "all" .All }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: combined, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api}
      method: GET
      headers: [{name: X-Env, value: canary}]
      queryParams: [{name: v, value: "2"}]
    - path: {type: Exact, value: /or}
    backendRefs: [{name: all, port: 8080}]
`, map[string]any{"All": StartEchoBasic(t, "all").Port})

	p.ExpectPod(t, "all", matchHost, "/api/x?v=2", "X-Env", "canary")
	p.ExpectPod(t, "all", matchHost, "/or")
	// Each condition alone missing is enough to miss.
	p.ExpectStatus(t, http.StatusNotFound, matchHost, "/other?v=2", "X-Env", "canary")
	p.ExpectStatus(t, http.StatusNotFound, matchHost, "/api/x", "X-Env", "canary")
	p.ExpectStatus(t, http.StatusNotFound, matchHost, "/api/x?v=2")
	Do(t, httpClient, func() *http.Request {
		r := p.NewRequest(t, http.MethodPost, matchHost, "/api/x?v=2")
		r.Header.Set("X-Env", "canary")
		return r
	}()).ExpectStatus(t, http.StatusNotFound)
}
