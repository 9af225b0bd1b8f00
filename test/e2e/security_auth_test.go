package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestSecurityPolicyAPIKeyAndBasicAuth: API keys from a header, a query
// parameter or a cookie, the client id forwarded and the key removed;
// basic auth with {SHA} htpasswd users and the username forwarded; a route
// without a policy stays open. The API key policy is Envoy Gateway's API
// key example as written.
func TestSecurityPolicyAPIKeyAndBasicAuth(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: keys, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [keys.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: basic, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [basic.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: open, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [open.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: v1
kind: Secret
metadata:
  name: apikey-secret
  namespace: default
stringData:
  client1: supersecret
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata:
  name: apikey-auth-example
  namespace: default
spec:
  targetRefs:
    - group: gateway.networking.k8s.io
      kind: HTTPRoute
      name: backend
  apiKeyAuth:
    credentialRefs:
    - group: ""
      kind: Secret
      name: apikey-secret
    extractFrom:
    - headers:
      - x-api-key
---
apiVersion: v1
kind: Secret
metadata: {name: more-keys, namespace: default}
stringData:
  alice: alice-key-1
  bob: bob-key-2
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: keys}]
  apiKeyAuth:
    credentialRefs: [{name: more-keys}]
    extractFrom:
    - headers: [x-api-key]
    - params: [api_key]
    - cookies: [apikey]
    forwardClientIDHeader: x-client-id
    sanitize: true
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
stringData:
  .htpasswd: |
    alice:{SHA}LnNEJV8jKtmfFq9Xj5SGUhsNZSU=
    bob:{SHA}oHryCTyM4ObJvET53dSBiRe/fXQ=
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: basic, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: basic}]
  basicAuth:
    users: {name: users}
    forwardUsernameHeader: x-user
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	t.Run("EG example: key in x-api-key", func(t *testing.T) {
		p.ExpectPod(t, "echo", "www.example.com", "/", "x-api-key", "supersecret")
		p.ExpectStatus(t, http.StatusUnauthorized, "www.example.com", "/")
		p.ExpectStatus(t, http.StatusUnauthorized, "www.example.com", "/", "x-api-key", "wrong")
		// A key of another policy is not a key here.
		p.ExpectStatus(t, http.StatusUnauthorized, "www.example.com", "/", "x-api-key", "alice-key-1")
	})
	t.Run("key sources, client id forwarded, key removed", func(t *testing.T) {
		e := p.ExpectPod(t, "echo", "keys.example.com", "/h", "x-api-key", "bob-key-2")
		if got := strings.Join(e.Header("x-client-id"), ","); got != "bob" {
			t.Errorf("backend saw x-client-id %q, want bob", got)
		}
		if got := e.Header("x-api-key"); len(got) != 0 {
			t.Errorf("sanitize: backend still saw x-api-key %q", got)
		}
		e = p.ExpectPod(t, "echo", "keys.example.com", "/q?api_key=alice-key-1")
		if got := strings.Join(e.Header("x-client-id"), ","); got != "alice" {
			t.Errorf("key from the query: backend saw x-client-id %q, want alice", got)
		}
		if strings.Contains(e.Path, "alice-key-1") {
			t.Errorf("sanitize: backend still saw the key in the path %q", e.Path)
		}
		e = p.ExpectPod(t, "echo", "keys.example.com", "/c", "Cookie", "apikey=alice-key-1")
		if got := strings.Join(e.Header("x-client-id"), ","); got != "alice" {
			t.Errorf("key from a cookie: backend saw x-client-id %q, want alice", got)
		}
		p.ExpectStatus(t, http.StatusUnauthorized, "keys.example.com", "/")
		p.ExpectStatus(t, http.StatusUnauthorized, "keys.example.com", "/", "x-api-key", "bob-key-3")
		p.ExpectStatus(t, http.StatusUnauthorized, "keys.example.com", "/?api_key=nope")
		// Keys are case sensitive.
		p.ExpectStatus(t, http.StatusUnauthorized, "keys.example.com", "/", "x-api-key", "BOB-KEY-2")
	})
	t.Run("basic auth", func(t *testing.T) {
		req := p.NewRequest(t, http.MethodGet, "basic.example.com", "/")
		req.SetBasicAuth("alice", "alice-password")
		e := Do(t, httpClient, req).Echo(t)
		if got := strings.Join(e.Header("x-user"), ","); got != "alice" {
			t.Errorf("backend saw x-user %q, want alice", got)
		}
		for _, c := range []struct{ user, pass string }{{"alice", "bob-password"}, {"bob", "alice-password"}, {"carol", "x"}, {"alice", ""}} {
			req := p.NewRequest(t, http.MethodGet, "basic.example.com", "/")
			req.SetBasicAuth(c.user, c.pass)
			Do(t, httpClient, req).ExpectStatus(t, http.StatusUnauthorized)
		}
		p.ExpectStatus(t, http.StatusUnauthorized, "basic.example.com", "/")
		// A forged username header does not get through on its own.
		p.ExpectStatus(t, http.StatusUnauthorized, "basic.example.com", "/", "x-user", "alice")
	})
	t.Run("route without a policy", func(t *testing.T) {
		e := p.ExpectPod(t, "echo", "open.example.com", "/", "x-api-key", "supersecret")
		if got := strings.Join(e.Header("x-api-key"), ","); got != "supersecret" {
			t.Errorf("open route: backend saw x-api-key %q, want it untouched", got)
		}
	})
}
