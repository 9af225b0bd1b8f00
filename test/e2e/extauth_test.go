package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSecurityPolicyExtAuth: each route asks its own external
// authorization service, HTTP or gRPC, before the backend sees anything.
// The services allow, deny, see the headers and the body Envoy is told to
// send (bodyToExtAuth, EG 1.3), and hand headers to the backend; a service
// that is down lets requests through only with failOpen.
func TestSecurityPolicyExtAuth(t *testing.T) {
	envoyTest(t)
	httpAuth := startHTTPAuthServer(t)
	grpcAuth := startGRPCAuthServer(t)
	down := FreePort(t) // nothing listens here
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
{{ service "http-auth" .HTTPAuth }}---
{{ backend "grpc-auth" .GRPCAuth }}---
{{ service "dead-auth" .Down }}---
apiVersion: v1
kind: Secret
metadata: {name: ctx, namespace: default}
type: Opaque
stringData: {api-key: from-a-secret}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: routes, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: http
    matches: [{path: {type: PathPrefix, value: /http}}]
    backendRefs: [{name: app, port: 8080}]
  - name: grpc
    matches: [{path: {type: PathPrefix, value: /grpc}}]
    backendRefs: [{name: app, port: 8080}]
  - name: open
    matches: [{path: {type: PathPrefix, value: /open}}]
    backendRefs: [{name: app, port: 8080}]
  - name: closed
    matches: [{path: {type: PathPrefix, value: /closed}}]
    backendRefs: [{name: app, port: 8080}]
  - name: closed503
    matches: [{path: {type: PathPrefix, value: /closed503}}]
    backendRefs: [{name: app, port: 8080}]
  - name: public
    matches: [{path: {type: PathPrefix, value: /public}}]
    backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: http-auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: http}]
  extAuth:
    http:
      backendRefs: [{name: http-auth, port: 8080}]
      path: /check
      headersToBackend: [x-auth-user]
    headersToExtAuth: [x-decision]
    bodyToExtAuth: {maxRequestBytes: 32}
    timeout: 2s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: grpc-auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: grpc}]
  extAuth:
    grpc:
      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: grpc-auth}]
    bodyToExtAuth: {maxRequestBytes: 1024}
    contextExtensions:
    - {name: tenant, type: Value, value: acme}
    - {name: key, type: ValueRef, valueRef: {group: "", kind: Secret, name: ctx, key: api-key}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: open, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: open}]
  extAuth:
    http: {backendRefs: [{name: dead-auth, port: 8080}]}
    failOpen: true
    timeout: 1s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: closed, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: closed}]
  extAuth:
    http: {backendRefs: [{name: dead-auth, port: 8080}]}
    failOpen: false
    timeout: 1s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: closed503, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: closed503}]
  extAuth:
    grpc: {backendRefs: [{name: dead-auth, port: 8080}]}
    statusOnError: 503
    timeout: 1s
`, map[string]any{"App": StartEchoBasic(t, "ext-app").Port, "HTTPAuth": httpAuth.Port, "GRPCAuth": grpcAuth.Port, "Down": down})

	const host = "www.example.com"
	post := func(path, body string, headerKV ...string) *Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", p.Port, path), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		setHeaders(t, req, headerKV)
		return Do(t, httpClient, req)
	}

	// HTTP service: allowed, with its header handed to the backend (and
	// only the one listed in headersToBackend); the check went to the
	// path prefix, carried the listed header and the body.
	e := post("/http/items", "small body", "X-Decision", "allow", "X-Trace", "t1").Echo(t)
	if got := e.Header("X-Auth-User"); joined(got) != "alice" {
		t.Errorf("backend got X-Auth-User %q, want alice from the service", got)
	}
	if got := e.Header("X-Not-Forwarded"); len(got) > 0 {
		t.Errorf("backend got X-Not-Forwarded %q: not in headersToBackend", got)
	}
	checks := httpAuth.Checks()
	if len(checks) != 1 {
		t.Fatalf("HTTP service got %d checks, want 1", len(checks))
	}
	c := checks[0]
	if c.Path != "/check/http/items" || c.Headers["x-decision"] != "allow" || c.Body != "small body" {
		t.Errorf("HTTP check: path %q x-decision %q body %q; want /check/http/items, allow, the request body", c.Path, c.Headers["x-decision"], c.Body)
	}
	if _, ok := c.Headers["x-trace"]; ok {
		t.Errorf("HTTP check carried x-trace, which headersToExtAuth does not list")
	}
	// Denied: the service's answer is the client's; the backend never sees it.
	r := post("/http/items", "", "X-Decision", "deny").ExpectStatus(t, http.StatusForbidden)
	if string(r.Body) != "no entry" {
		t.Errorf("denied answer body %q, want the service's", r.Body)
	}
	// A body above maxRequestBytes is refused before any check.
	n := len(httpAuth.Checks())
	post("/http/items", strings.Repeat("x", 100), "X-Decision", "allow").ExpectStatus(t, http.StatusRequestEntityTooLarge)
	if len(httpAuth.Checks()) != n {
		t.Errorf("a body above maxRequestBytes was sent to the service")
	}

	// gRPC service: all headers, the body, and the context extensions.
	e = post("/grpc/x", `{"order":42}`, "X-Decision", "allow").Echo(t)
	if got := e.Header("X-Auth-User"); joined(got) != "bob" {
		t.Errorf("backend got X-Auth-User %q, want bob from the gRPC service", got)
	}
	gc := grpcAuth.last(t, "x-decision", "allow")
	if gc.Path != "/grpc/x" || gc.Body != `{"order":42}` {
		t.Errorf("gRPC check: path %q body %q", gc.Path, gc.Body)
	}
	if gc.Context["tenant"] != "acme" || gc.Context["key"] != "from-a-secret" {
		t.Errorf("gRPC check context extensions %v, want tenant=acme and key from the Secret", gc.Context)
	}
	r = post("/grpc/x", "", "X-Decision", "deny").ExpectStatus(t, http.StatusForbidden)
	if string(r.Body) != "no entry (gRPC)" {
		t.Errorf("gRPC denied body %q", r.Body)
	}

	// The service is down: failOpen lets the request through, otherwise
	// it is refused (403, or statusOnError).
	p.ExpectPod(t, "ext-app", host, "/open")
	p.ExpectStatus(t, http.StatusForbidden, host, "/closed")
	p.ExpectStatus(t, http.StatusServiceUnavailable, host, "/closed503")

	// A rule no policy covers is not checked: the listener's ext_authz
	// filters are disabled unless a route enables its own.
	n = len(httpAuth.Checks()) + len(grpcAuth.Checks())
	p.ExpectPod(t, "ext-app", host, "/public", "X-Decision", "deny")
	if len(httpAuth.Checks())+len(grpcAuth.Checks()) != n {
		t.Errorf("a route without a policy was checked")
	}
}

// TestSecurityPolicyExtAuthFailsClosed: a policy whose service does not
// resolve is refused, its route answers 500 and egctl exits 1 naming
// it; a route it does not cover keeps working.
func TestSecurityPolicyExtAuthFailsClosed(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: guarded, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [guarded.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [public.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: missing-service, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  extAuth:
    http: {backendRefs: [{name: no-such-auth, port: 8080}]}
    failOpen: true
`, map[string]any{"App": StartEchoBasic(t, "ext-closed-app").Port})
	for range 3 {
		p.ExpectStatus(t, http.StatusInternalServerError, "guarded.example.com", "/")
	}
	p.ExpectPod(t, "ext-closed-app", "public.example.com", "/")
	want := "SecurityPolicy default/missing-service: Accepted Invalid: spec.extAuth.http.backendRefs[0]: Service default/no-such-auth not found"
	if !strings.Contains(p.Translate.Stderr, want) {
		t.Fatalf("egctl stderr does not say why:\n%s\nwant: %s", p.Translate.Stderr, want)
	}
}
