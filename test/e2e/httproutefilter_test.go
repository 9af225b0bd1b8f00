package e2e

import "testing"

// Envoy Gateway HTTPRouteFilters through the real Envoy: direct responses
// (inline, and from a ConfigMap with command operators), a regular
// expression path rewrite, host rewrites from a header and from the
// backend's endpoint hostname, credential injection seen by the backend,
// and cookie matches that send a request to another backend.
func TestHTTPRouteFilterExtensions(t *testing.T) {
	envoyTest(t)
	main, canary := StartEchoBasic(t, "main"), StartEchoBasic(t, "canary")
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "main" .Main }}---
{{ service "canary" .Canary }}---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: named, namespace: default}
spec:
  endpoints: [{hostname: backend.internal, ip: {address: 127.0.0.1, port: {{ .Main }}}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: maintenance, namespace: default}
data:
  response.body: '{"error": "down for maintenance", "path": "%REQ(:path)%"}'
---
apiVersion: v1
kind: Secret
metadata: {name: upstream-token, namespace: default}
type: Opaque
stringData: {credential: Bearer s3cr3t}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: teapot, namespace: default}
spec:
  directResponse:
    statusCode: 418
    contentType: text/teapot
    body: {type: Inline, inline: "short and stout, 100%% tea"}
    header:
      set: [{name: x-brewed-by, value: egctl}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: maintenance, namespace: default}
spec:
  directResponse:
    statusCode: 503
    contentType: application/json
    body: {type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: maintenance}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: regex, namespace: default}
spec:
  urlRewrite:
    path:
      type: ReplaceRegexMatch
      replaceRegexMatch: {pattern: '^/service/([^/]+)(/.*)$', substitution: '\2/instance/\1'}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: host-from-header, namespace: default}
spec:
  urlRewrite:
    hostname: {type: Header, header: x-target-host}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: host-from-backend, namespace: default}
spec:
  urlRewrite:
    hostname: {type: Backend}
    appendXForwardedHost: false
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: token, namespace: default}
spec:
  credentialInjection:
    credential: {valueRef: {name: upstream-token}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: token-overwrite, namespace: default}
spec:
  credentialInjection:
    header: X-Api-Key
    overwrite: true
    credential: {valueRef: {name: upstream-token}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: canary-cookie, namespace: default}
spec:
  matches:
  - cookies: [{name: canary, value: "yes"}]
  - cookies: [{name: tester, type: RegularExpression, value: "qa-.*"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ext, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [ext.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /teapot}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: teapot}}]
  - matches: [{path: {type: PathPrefix, value: /maintenance}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: maintenance}}]
    backendRefs: [{name: main, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /service}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: regex}}]
    backendRefs: [{name: main, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /by-header}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: host-from-header}}]
    backendRefs: [{name: main, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /by-backend}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: host-from-backend}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: named, port: {{ .Main }}}]
  - matches: [{path: {type: PathPrefix, value: /token}}]
    filters:
    - {type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: token}}
    backendRefs: [{name: main, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /key}}]
    filters:
    - {type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: token-overwrite}}
    backendRefs: [{name: main, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /split}}]
    backendRefs:
    - {name: main, port: 8080}
    - name: canary
      port: 8080
      filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: token}}]
  - matches: [{path: {type: PathPrefix, value: /app}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: canary-cookie}}]
    backendRefs: [{name: canary, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /app}}]
    backendRefs: [{name: main, port: 8080}]
`, map[string]any{"Main": main.Port, "Canary": canary.Port})
	const host = "ext.example.com"

	t.Run("direct response inline", func(t *testing.T) {
		r := p.ExpectStatus(t, 418, host, "/teapot")
		if string(r.Body) != "short and stout, 100% tea" { // %% is a literal %
			t.Errorf("body %q", r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/teapot" {
			t.Errorf("Content-Type %q, want text/teapot", ct)
		}
		if v := r.Header.Get("X-Brewed-By"); v != "egctl" {
			t.Errorf("X-Brewed-By %q, want egctl", v)
		}
	})
	t.Run("direct response from a ConfigMap", func(t *testing.T) {
		r := p.ExpectStatus(t, 503, host, "/maintenance/now?x=1")
		if want := `{"error": "down for maintenance", "path": "/maintenance/now?x=1"}`; string(r.Body) != want {
			t.Errorf("body %q, want %q (the command operator expanded)", r.Body, want)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
	})
	t.Run("regex path rewrite", func(t *testing.T) {
		if e := p.ExpectPod(t, "main", host, "/service/foo/v1/api"); e.Path != "/v1/api/instance/foo" {
			t.Errorf("upstream path %q, want /v1/api/instance/foo", e.Path)
		}
	})
	t.Run("host from a header", func(t *testing.T) {
		e := p.ExpectPod(t, "main", host, "/by-header", "X-Target-Host", "chosen.example.net")
		if e.Host != "chosen.example.net" {
			t.Errorf("upstream Host %q, want chosen.example.net", e.Host)
		}
		if got := joined(e.Header("X-Forwarded-Host")); got != host {
			t.Errorf("X-Forwarded-Host %q, want %q", got, host)
		}
	})
	t.Run("host from the backend", func(t *testing.T) {
		e := p.ExpectPod(t, "main", host, "/by-backend")
		if e.Host != "backend.internal" {
			t.Errorf("upstream Host %q, want the endpoint hostname backend.internal", e.Host)
		}
		if got := e.Header("X-Forwarded-Host"); len(got) != 0 {
			t.Errorf("X-Forwarded-Host %q with appendXForwardedHost: false", got)
		}
	})
	t.Run("credential injection", func(t *testing.T) {
		if got := joined(p.ExpectPod(t, "main", host, "/token").Header("Authorization")); got != "Bearer s3cr3t" {
			t.Errorf("backend saw Authorization %q, want the injected credential", got)
		}
		// Without overwrite a credential the client sent is kept.
		if got := joined(p.ExpectPod(t, "main", host, "/token", "Authorization", "Basic Y2xpZW50").Header("Authorization")); got != "Basic Y2xpZW50" {
			t.Errorf("backend saw Authorization %q, want the client's (overwrite is false)", got)
		}
		if got := joined(p.ExpectPod(t, "main", host, "/key", "X-Api-Key", "from-client").Header("X-Api-Key")); got != "Bearer s3cr3t" {
			t.Errorf("backend saw X-Api-Key %q, want the injected credential (overwrite)", got)
		}
		// On a backendRef, only that backend's requests carry it.
		pods := map[string]int{}
		for range 30 {
			e := p.Get(t, host, "/split").Echo(t)
			pods[e.Pod]++
			got, want := joined(e.Header("Authorization")), ""
			if e.Pod == "canary" {
				want = "Bearer s3cr3t"
			}
			if got != want {
				t.Fatalf("/split served by %s with Authorization %q, want %q", e.Pod, got, want)
			}
		}
		if len(pods) != 2 {
			t.Errorf("/split reached %v, want both backends", pods)
		}
		// Routes without the filter inject nothing.
		if got := p.ExpectPod(t, "main", host, "/service/x/y").Header("Authorization"); len(got) != 0 {
			t.Errorf("a route without the filter sent Authorization %q", got)
		}
	})
	t.Run("cookie matches", func(t *testing.T) {
		p.ExpectPod(t, "main", host, "/app")
		p.ExpectPod(t, "canary", host, "/app", "Cookie", "canary=yes")
		p.ExpectPod(t, "canary", host, "/app", "Cookie", "a=b; tester=qa-42")
		p.ExpectPod(t, "main", host, "/app", "Cookie", "canary=no; tester=dev")
	})
	// Deploy required egctl to exit 0: every filter was accepted.
}
