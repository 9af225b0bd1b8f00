package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestWeightedBackendWithoutEndpoints splits a rule between a Service with
// a ready endpoint and one whose only endpoint is not ready. Gateway API
// says requests for a backend without ready endpoints get 503, and weights
// say how many requests that is: the empty backend's share answers 503
// (as with Envoy Gateway) instead of being redistributed to the live one.
func TestWeightedBackendWithoutEndpoints(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "live" .Live }}---
apiVersion: v1
kind: Service
metadata: {name: drained, namespace: default}
spec:
  ports: [{name: http, protocol: TCP, port: 8080, targetPort: 9}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: drained-1
  namespace: default
  labels: {kubernetes.io/service-name: drained}
addressType: IPv4
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: false}
ports: [{name: http, protocol: TCP, port: 9}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [split.example.com]
  rules:
  - backendRefs:
    - {name: live, port: 8080, weight: 1}
    - {name: drained, port: 8080, weight: 1}
`, map[string]any{"Live": StartEchoBasic(t, "live").Port})

	const n = 60
	got := map[int]int{}
	for range n {
		got[p.Get(t, "split.example.com", "/").Status]++
	}
	// Half the requests each way; 60 fair coin flips stay within 15..45
	// but once in ~10^5 runs.
	if got[http.StatusOK]+got[http.StatusServiceUnavailable] != n ||
		got[http.StatusServiceUnavailable] < 15 || got[http.StatusServiceUnavailable] > 45 {
		t.Fatalf("statuses of %d requests: %v; want about half 200 and half 503", n, got)
	}
}

// TestReadyListener checks Envoy Gateway's readiness listener, which egctl
// emits unless --lean: GET /ready answers 200 once Envoy serves, any
// other path 500. The harness binds it on a free port (--ready-port).
func TestReadyListener(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}`, nil)
	i := slices.Index(p.Translate.Args, "--ready-port")
	if i < 0 || i+1 >= len(p.Translate.Args) {
		t.Fatalf("the harness gave egctl no --ready-port: %v", p.Translate.Args)
	}
	port, err := strconv.Atoi(p.Translate.Args[i+1])
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]int{"/ready": 200, "/": 500, "/other": 500} {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatalf("GET %s on the readiness listener: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s on the readiness listener: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
