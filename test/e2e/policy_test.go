package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnsupportedPolicyFailsClosed: a SecurityPolicy egctl cannot translate
// yet must not leave its route open. The route it targets answers 500, a
// route it does not target still reaches its backend, and egctl exits 1
// naming the policy.
func TestUnsupportedPolicyFailsClosed(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [admin.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: admin-auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: admin}]
  basicAuth: {users: {name: admin-users}}
`, map[string]any{"App": StartEchoBasic(t, "app").Port})

	for range 3 {
		p.ExpectStatus(t, http.StatusInternalServerError, "admin.example.com", "/secret")
	}
	p.ExpectPod(t, "app", "www.example.com", "/")
	if !strings.Contains(p.Translate.Stderr, "SecurityPolicy default/admin-auth: Accepted Invalid:") {
		t.Fatalf("egctl stderr does not name the policy:\n%s", p.Translate.Stderr)
	}
}
