package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestHTTPRouteWeights sends 200 requests to a rule splitting 80/20 between
// two echo-basic pods, with a third backend at weight 0.
func TestHTTPRouteWeights(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "a" .A }}---
{{ service "b" .B }}---
{{ service "zero" .Zero }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: weights, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [weights.example.com]
  rules:
  - backendRefs:
    - {name: a, port: 8080, weight: 80}
    - {name: b, port: 8080, weight: 20}
    - {name: zero, port: 8080, weight: 0}
`, map[string]any{
		"A":    StartEchoBasic(t, "a").Port,
		"B":    StartEchoBasic(t, "b").Port,
		"Zero": StartEchoBasic(t, "zero").Port,
	})

	const n = 200
	seen := map[string]int{}
	for range n {
		seen[p.Get(t, "weights.example.com", "/").Echo(t).Pod]++
	}
	t.Logf("split over %d requests: %v", n, seen)
	if seen["zero"] != 0 {
		t.Errorf("the weight-0 backend got %d requests, want 0", seen["zero"])
	}
	if seen["a"]+seen["b"] != n {
		t.Errorf("requests reached unexpected pods: %v", seen)
	}
	// Expected 160 for a, standard deviation about 5.7: ±30 is over five
	// deviations, so a correct split essentially never fails, while 50/50
	// (100) or a missing weight (200 or 0) always does.
	if a := seen["a"]; a < 130 || a > 190 {
		t.Errorf("pod a got %d of %d requests, want about 160 (80%%), accepted 130..190", a, n)
	}
}

// TestHTTPRouteAllWeightsZero: a rule whose every backend has weight 0 has
// nowhere to send traffic and answers 500.
func TestHTTPRouteAllWeightsZero(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "a" .A }}---
{{ service "b" .B }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: zero, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [weights.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /zero}}]
    backendRefs:
    - {name: a, port: 8080, weight: 0}
    - {name: b, port: 8080, weight: 0}
  - backendRefs: [{name: a, port: 8080}]
`, map[string]any{"A": StartEchoBasic(t, "a").Port, "B": StartEchoBasic(t, "b").Port})

	for range 5 {
		p.ExpectStatus(t, http.StatusInternalServerError, "weights.example.com", "/zero")
	}
	// The other rule of the same route is unaffected.
	p.ExpectPod(t, "a", "weights.example.com", "/other")
}

// TestHTTPRouteInvalidBackendRef: a rule whose only backendRef names a
// Service that does not exist answers 500 (fail closed), the route's other
// rule still works, and egctl exits 1 naming the route.
func TestHTTPRouteInvalidBackendRef(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "good" .Good }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [invalid.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: does-not-exist, port: 8080}]
  - backendRefs: [{name: good, port: 8080}]
`, map[string]any{"Good": StartEchoBasic(t, "good").Port})

	for range 3 {
		p.ExpectStatus(t, http.StatusInternalServerError, "invalid.example.com", "/missing")
	}
	p.ExpectPod(t, "good", "invalid.example.com", "/fine")
	if !strings.Contains(p.Translate.Stderr, "default/broken") || !strings.Contains(p.Translate.Stderr, "does-not-exist") {
		t.Errorf("stderr does not name the route default/broken and its missing Service does-not-exist:\n%s", p.Translate.Stderr)
	}
}

// TestBackendKindIPEndpoint routes to an Envoy Gateway Backend object with
// an ip endpoint instead of a Service.
func TestBackendKindIPEndpoint(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ backend "ip-backend" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-kind, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [backend.example.com]
  rules:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: ip-backend, port: {{ .Echo }}}
`, map[string]any{"Echo": StartEchoBasic(t, "ip-pod").Port})

	if e := p.ExpectPod(t, "ip-pod", "backend.example.com", "/via/backend"); e.Path != "/via/backend" {
		t.Errorf("upstream saw path %q, want /via/backend", e.Path)
	}
}
