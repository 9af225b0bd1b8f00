package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestHTTPRoutePrecedence checks the Gateway API order between rules of
// different HTTPRoutes: an Exact match beats any prefix, and the longest
// matching prefix wins, whichever route holds it.
func TestHTTPRoutePrecedence(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "root" .Root }}---
{{ service "api" .API }}---
{{ service "api-v2" .APIv2 }}---
{{ service "exact" .Exact }}---
# Created first and holding the broadest match, so that neither creation
# order nor rule order inside one route can explain the results.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broad, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [prec.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: root, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api/v2}}]
    backendRefs: [{name: api-v2, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: narrow, namespace: default, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [prec.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 8080}]
  - matches: [{path: {type: Exact, value: /api/v2/exact}}]
    backendRefs: [{name: exact, port: 8080}]
`, map[string]any{
		"Root":  StartEchoBasic(t, "root").Port,
		"API":   StartEchoBasic(t, "api").Port,
		"APIv2": StartEchoBasic(t, "api-v2").Port,
		"Exact": StartEchoBasic(t, "exact").Port,
	})

	const host = "prec.example.com"
	for path, pod := range map[string]string{
		"/":                  "root",
		"/other":             "root",
		"/apix":              "root",
		"/api":               "api",
		"/api/users":         "api",
		"/api/v2":            "api-v2",
		"/api/v2/users":      "api-v2",
		"/api/v2/exact":      "exact",
		"/api/v2/exact/more": "api-v2",
		"/api/v2exact":       "api",
	} {
		p.ExpectPod(t, pod, host, path)
	}
}

// TestHTTPRouteHostnames routes two HTTPRoutes with different hostnames
// through one wildcard listener; a host neither route (or the listener)
// accepts gets 404.
func TestHTTPRouteHostnames(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: wildcard
    protocol: HTTP
    port: {{ .Port }}
    hostname: "*.example.com"
---
{{ service "a" .A }}---
{{ service "b" .B }}---
{{ service "any" .Any }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com]
  rules:
  - backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [b.example.com, b.other.org]
  rules:
  - backendRefs: [{name: b, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: any, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.wild.example.com"]
  rules:
  - backendRefs: [{name: any, port: 8080}]
`, map[string]any{
		"A":   StartEchoBasic(t, "a").Port,
		"B":   StartEchoBasic(t, "b").Port,
		"Any": StartEchoBasic(t, "any").Port,
	})

	if e := p.ExpectPod(t, "a", "a.example.com", "/x"); e.Host != "a.example.com" {
		t.Errorf("upstream saw Host %q, want a.example.com", e.Host)
	}
	p.ExpectPod(t, "b", "b.example.com", "/")
	// Hostnames are case-insensitive.
	p.ExpectPod(t, "a", "A.Example.COM", "/")
	p.ExpectPod(t, "any", "x.wild.example.com", "/")
	p.ExpectPod(t, "any", "x.y.wild.example.com", "/")
	for _, host := range []string{
		"c.example.com",      // under the listener's wildcard, but no route claims it
		"b.other.org",        // the route claims it, the listener does not
		"wild.example.com",   // a wildcard needs at least one label in front
		"a.example.com.evil", // not a suffix match
	} {
		p.ExpectStatus(t, http.StatusNotFound, host, "/")
	}
}

// TestHTTPRouteNoMatchingRoute404: a request that no rule matches gets 404,
// and so does a host no route serves.
func TestHTTPRouteNoMatchingRoute404(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "only" .Only }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: only, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [only.example.com]
  rules:
  - matches: [{path: {type: Exact, value: /only}}]
    backendRefs: [{name: only, port: 8080}]
`, map[string]any{"Only": StartEchoBasic(t, "only").Port})

	p.ExpectPod(t, "only", "only.example.com", "/only")
	p.ExpectStatus(t, http.StatusNotFound, "only.example.com", "/other")
	p.ExpectStatus(t, http.StatusNotFound, "else.example.com", "/only")
}

// TestGatewayPrivilegedPortShift: a listener on a port below 1024 is bound
// at port+10000 so Envoy runs unprivileged, and still routes.
func TestGatewayPrivilegedPortShift(t *testing.T) {
	envoyTest(t)
	listenerPort := FreePrivilegedPort(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: low-port, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Port": listenerPort, "Echo": StartEchoBasic(t, "echo").Port})

	if p.Port != listenerPort+10000 {
		t.Fatalf("harness: proxy port %d, want %d", p.Port, listenerPort+10000)
	}
	p.ExpectPod(t, "echo", "low.example.com", "/")
}

// TestHTTPRouteCrossNamespaceReferenceGrant: a backendRef into another
// namespace needs a ReferenceGrant there. The granted Service is served;
// the one the grant does not name answers 500 and egctl exits 1.
func TestHTTPRouteCrossNamespaceReferenceGrant(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ serviceIn "other" "granted" .Granted }}---
{{ serviceIn "other" "ungranted" .Ungranted }}---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-default-routes, namespace: other}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}
  to:
  - {group: "", kind: Service, name: granted}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [cross.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /granted}}]
    backendRefs: [{name: granted, namespace: other, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /ungranted}}]
    backendRefs: [{name: ungranted, namespace: other, port: 8080}]
`, map[string]any{"Granted": StartEchoBasic(t, "granted").Port, "Ungranted": StartEchoBasic(t, "ungranted").Port})

	p.ExpectPod(t, "granted", "cross.example.com", "/granted")
	p.ExpectStatus(t, http.StatusInternalServerError, "cross.example.com", "/ungranted")
	if !strings.Contains(p.Translate.Stderr, "default/cross") || !strings.Contains(p.Translate.Stderr, "other/ungranted") {
		t.Errorf("stderr does not name the route default/cross with the unpermitted reference:\n%s", p.Translate.Stderr)
	}
}
