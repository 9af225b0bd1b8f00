package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEnvoyPatchPolicy: one policy adds a response header to everything a
// route configuration serves, another (applied first, by priority) gives
// one route a timeout the route does not ask for; a third cannot apply and
// changes nothing, and egctl says so.
func TestEnvoyPatchPolicy(t *testing.T) {
	envoyTest(t)
	slow := StartHTTPBackend(t, SlowHandler())
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "slow" .Slow }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: patched, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [patched.example.com]
  rules:
  - backendRefs: [{name: slow, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: untouched, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [untouched.example.com]
  rules:
  - backendRefs: [{name: slow, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: header, namespace: default}
spec:
  type: JSONPatch
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/gw/http
    operation:
      op: add
      path: /response_headers_to_add
      value: [{header: {key: x-patched, value: envoypatchpolicy}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: timeout, namespace: default}
spec:
  type: JSONPatch
  priority: -1
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/gw/http
    operation:
      op: add
      jsonPath: "$.virtual_hosts[*].routes[?(@.name=='httproute/default/patched/rule/0/match/0/patched_example_com')].route"
      path: timeout
      value: 0.5s
---
# Half of it would apply; the listener it names does not exist, so none does.
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: broken, namespace: default}
spec:
  type: JSONPatch
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/gw/http
    operation:
      op: add
      path: /request_headers_to_add
      value: [{header: {key: x-broken, value: applied}}]
  - type: type.googleapis.com/envoy.config.listener.v3.Listener
    name: default/gw/nope
    operation: {op: remove, path: /per_connection_buffer_limit_bytes}
`, map[string]any{"Slow": slow.Port})

	r := p.ExpectStatus(t, http.StatusOK, "untouched.example.com", "/?sleep=1s")
	if r.Header.Get("X-Patched") != "envoypatchpolicy" {
		t.Errorf("x-patched = %q on a route of the patched configuration", r.Header.Get("X-Patched"))
	}
	p.ExpectStatus(t, http.StatusOK, "patched.example.com", "/?sleep=10ms")
	r = p.ExpectStatus(t, http.StatusGatewayTimeout, "patched.example.com", "/?sleep=5s")
	if r.Took > 3*time.Second {
		t.Errorf("504 came after %s, want close to the patched 500ms timeout", r.Took)
	}
	for _, h := range slow.Hits() {
		if h.Header.Get("X-Broken") != "" {
			t.Fatal("a patch of the policy that could not apply reached the proxy")
		}
	}
	if !strings.Contains(p.Translate.Stderr, "EnvoyPatchPolicy default/broken: Programmed ResourceNotFound") {
		t.Errorf("egctl did not report the broken policy:\n%s", p.Translate.Stderr)
	}
}
