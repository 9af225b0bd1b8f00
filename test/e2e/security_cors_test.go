package e2e

import (
	"net/http"
	"slices"
	"testing"
)

// TestSecurityPolicyCORSAndCSRF: a SecurityPolicy's CORS answers
// preflights for allowed origins (a "*." wildcard included) and decorates
// actual requests; a route's own Gateway API CORS filter takes precedence.
// CSRF refuses mutating requests from foreign origins and lets through the
// destination's own origin, the additional origins, and safe methods.
func TestSecurityPolicyCORSAndCSRF(t *testing.T) {
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
  - backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /own}}]
    filters:
    - type: CORS
      cors: {allowOrigins: ["https://own.example.org"], allowMethods: [GET]}
    backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: cors, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cors}]
  cors:
    allowOrigins: ["https://*.example.com", "http://localhost:3000"]
    allowMethods: [GET, POST, PUT]
    allowHeaders: [x-custom, content-type]
    exposeHeaders: [x-request-id]
    maxAge: 15m
    allowCredentials: true
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: forms, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [forms.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: csrf, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: forms}]
  csrf:
    additionalOrigins: ["https://trusted.example.org", "https://*.partner.example.net"]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	preflight := func(path, origin string) *Response {
		req := p.NewRequest(t, http.MethodOptions, "cors.example.com", path)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "x-custom")
		return Do(t, httpClient, req)
	}
	t.Run("preflight", func(t *testing.T) {
		for _, origin := range []string{"https://app.example.com", "https://a.b.example.com", "http://localhost:3000"} {
			r := preflight("/x", origin)
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("preflight from %s: %s", origin, r)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("preflight from %s: Access-Control-Allow-Origin %q", origin, got)
			}
			if got := headerList(r.Header, "Access-Control-Allow-Methods"); !slices.Contains(got, "PUT") {
				t.Errorf("Access-Control-Allow-Methods %v, want PUT", got)
			}
			if got := headerList(r.Header, "Access-Control-Allow-Headers"); !slices.Contains(got, "x-custom") {
				t.Errorf("Access-Control-Allow-Headers %v, want x-custom", got)
			}
			if got := r.Header.Get("Access-Control-Max-Age"); got != "900" {
				t.Errorf("Access-Control-Max-Age %q, want 900", got)
			}
			if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Access-Control-Allow-Credentials %q, want true", got)
			}
		}
		// The wildcard stands for labels of example.com, nothing else.
		for _, origin := range []string{"https://example.com", "https://evil.com", "http://app.example.com", "https://app.example.com.evil.com", "http://localhost:3001"} {
			if got := preflight("/x", origin).Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("preflight from %s was allowed (%q)", origin, got)
			}
		}
	})
	t.Run("actual request", func(t *testing.T) {
		r := p.Get(t, "cors.example.com", "/x", "Origin", "https://app.example.com").ExpectStatus(t, http.StatusOK)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
		if got := headerList(r.Header, "Access-Control-Expose-Headers"); !slices.Contains(got, "x-request-id") {
			t.Errorf("Access-Control-Expose-Headers %v, want x-request-id", got)
		}
		r = p.Get(t, "cors.example.com", "/x", "Origin", "https://evil.com").ExpectStatus(t, http.StatusOK)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("foreign origin got Access-Control-Allow-Origin %q", got)
		}
	})
	t.Run("route's own CORS filter wins", func(t *testing.T) {
		if got := preflight("/own", "https://own.example.org").Header.Get("Access-Control-Allow-Origin"); got != "https://own.example.org" {
			t.Errorf("Gateway API CORS filter: allow origin %q", got)
		}
		if got := preflight("/own", "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("the policy's origins leaked onto the route with its own filter: %q", got)
		}
	})
	t.Run("csrf", func(t *testing.T) {
		post := func(origin string) int {
			req := p.NewRequest(t, http.MethodPost, "forms.example.com", "/submit")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			return Do(t, httpClient, req).Status
		}
		for origin, want := range map[string]int{
			"https://evil.example.com":          http.StatusForbidden,
			"https://trusted.example.org":       http.StatusOK,
			"http://trusted.example.org":        http.StatusOK, // Envoy compares host and port only
			"https://a.partner.example.net":     http.StatusOK,
			"https://partner.example.net":       http.StatusForbidden,
			"https://trusted.example.org.evil":  http.StatusForbidden,
			"http://forms.example.com":          http.StatusOK, // the destination itself
			"":                                  http.StatusForbidden,
			"https://forms.example.com.evil.io": http.StatusForbidden,
		} {
			if got := post(origin); got != want {
				t.Errorf("POST with Origin %q: %d, want %d", origin, got, want)
			}
		}
		// Safe methods are not checked.
		p.ExpectPod(t, "echo", "forms.example.com", "/read", "Origin", "https://evil.example.com")
	})
}
