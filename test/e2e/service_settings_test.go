package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestExtServiceBackendSettings: the backendSettings of external services
// shape the clusters Envoy calls them through, as a BackendTrafficPolicy's
// shape a route's. Each case is one the service's answer shows:
//   - a fallback authorization service takes the checks when an active
//     health check finds the primary one dead;
//   - a gRPC health check the service does not answer (it serves no
//     grpc.health.v1) leaves no healthy endpoint with panicThreshold 0, so
//     the check fails and the request is refused, where the same service
//     without settings allows it;
//   - a circuit breaker of 0 requests on an HTTP authorization service
//     rejects every check before it is sent (statusOnError);
//   - an external processor's fallback backend processes the request when
//     the primary is dead.
func TestExtServiceBackendSettings(t *testing.T) {
	envoyTest(t)
	httpAuth := startHTTPAuthServer(t)
	grpcAuth := startGRPCAuthServer(t)
	proc := startExtProcessor(t)
	down := FreePort(t) // nothing listens here
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
{{ service "http-auth" .HTTPAuth }}---
{{ backend "grpc-auth" .GRPCAuth }}---
{{ backend "dead" .Down }}---
{{ backend "proc" .Proc }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: routes, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: fallback
    matches: [{path: {type: PathPrefix, value: /fallback}}]
    backendRefs: [{name: app, port: 8080}]
  - name: plain
    matches: [{path: {type: PathPrefix, value: /plain}}]
    backendRefs: [{name: app, port: 8080}]
  - name: unhealthy
    matches: [{path: {type: PathPrefix, value: /unhealthy}}]
    backendRefs: [{name: app, port: 8080}]
  - name: breaker
    matches: [{path: {type: PathPrefix, value: /breaker}}]
    backendRefs: [{name: app, port: 8080}]
  - name: processed
    matches: [{path: {type: PathPrefix, value: /processed}}]
    backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: fallback, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: fallback}]
  extAuth:
    grpc:
      backendRefs:
      - {group: gateway.envoyproxy.io, kind: Backend, name: dead}
      - {group: gateway.envoyproxy.io, kind: Backend, name: grpc-auth, fallback: true}
      backendSettings:
        healthCheck: {active: {type: TCP, tcp: {}, interval: 1s}}
        timeout: {tcp: {connectTimeout: 1s}}
    timeout: 2s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: plain, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: plain}]
  extAuth:
    grpc: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: grpc-auth}]}
    timeout: 2s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: unhealthy, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: unhealthy}]
  extAuth:
    grpc:
      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: grpc-auth}]
      backendSettings:
        healthCheck:
          active: {type: GRPC, interval: 1s}
          panicThreshold: 0
    statusOnError: 503
    timeout: 2s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: breaker, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: breaker}]
  extAuth:
    http:
      backendRefs: [{name: http-auth, port: 8080}]
      backendSettings:
        circuitBreaker: {maxPendingRequests: 0, maxParallelRequests: 0}
    statusOnError: 503
    timeout: 2s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: processed, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: routes, sectionName: processed}]
  extProc:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: dead}
    - {group: gateway.envoyproxy.io, kind: Backend, name: proc, fallback: true}
    backendSettings:
      healthCheck: {active: {type: TCP, tcp: {}, interval: 1s}}
    processingMode: {request: {}}
    messageTimeout: 2s
`, map[string]any{"App": StartEchoBasic(t, "svc-app").Port, "HTTPAuth": httpAuth.Port, "GRPCAuth": grpcAuth.Port,
		"Down": down, "Proc": proc.Port})

	const host = "www.example.com"
	// Envoy waits for the first health checks before it serves, so the
	// dead primary is known dead from the first request; Eventually only
	// covers a check still in flight when the listener opens.
	Eventually(t, 10*time.Second, func() error {
		r := p.Get(t, host, "/fallback")
		if r.Status != http.StatusOK {
			return fmt.Errorf("/fallback: %s, want 200 (the fallback service allows)", r)
		}
		if got := joined(r.Echo(t).Header("X-Auth-User")); got != "bob" {
			return fmt.Errorf("/fallback: backend got X-Auth-User %q, want bob from the gRPC service", got)
		}
		return nil
	})

	// The same service without settings allows; with a gRPC health check
	// it does not answer, it has no healthy endpoint and the check fails.
	p.ExpectStatus(t, http.StatusOK, host, "/plain")
	before := len(grpcAuth.Checks())
	p.ExpectStatus(t, http.StatusServiceUnavailable, host, "/unhealthy")
	if got := len(grpcAuth.Checks()); got != before {
		t.Errorf("/unhealthy: the service got %d checks, want none (its only endpoint is unhealthy)", got-before)
	}

	// A circuit breaker of 0 requests: the check never reaches the
	// service.
	before = len(httpAuth.Checks())
	p.ExpectStatus(t, http.StatusServiceUnavailable, host, "/breaker")
	if got := len(httpAuth.Checks()); got != before {
		t.Errorf("/breaker: the HTTP service got %d checks, want none (the circuit breaker rejects them)", got-before)
	}

	// The processor behind the dead primary adds its header.
	Eventually(t, 10*time.Second, func() error {
		r := p.Get(t, host, "/processed")
		if r.Status != http.StatusOK {
			return fmt.Errorf("/processed: %s, want 200 (the fallback processor serves)", r)
		}
		if got := joined(r.Echo(t).Header("X-Ext-Proc")); got != "request" {
			return fmt.Errorf("/processed: backend got X-Ext-Proc %q, want request from the processor", got)
		}
		return nil
	})
}
