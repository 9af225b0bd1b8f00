package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecurityPolicyFailsClosed: a SecurityPolicy egctl cannot honour
// never leaves its routes open. A missing Secret, a key-set backend that
// does not exist, a field egctl does not translate, and keys that cannot
// tell clients apart each make their routes answer 500 and are reported
// (exit 1, one line per policy naming the field, no key in the message);
// authentication on a listener of TCP routes refuses their connections;
// a key-set server that is down at run time lets no token through. A
// route without a policy keeps working.
func TestSecurityPolicyFailsClosed(t *testing.T) {
	envoyTest(t)
	tcpBackend := lineEcho(t, "tcp")
	tcpPort := FreePort(t)
	down := FreePort(t) // nothing listens here
	iss := newSigner(t, "k")
	routes := ""
	for _, h := range []string{"missing-secret", "missing-jwks", "cel", "dup-keys", "jwks-down", "open"} {
		routes += `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ` + h + `, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [` + h + `.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
`
	}
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
  - {name: tcp, protocol: TCP, port: {{ .TCP }}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: tcp-echo, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .TCPBackend }}}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: tcp-echo}]
---
`+routes+`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: missing-secret, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: missing-secret}]
  basicAuth: {users: {name: no-such-secret}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: missing-jwks, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: missing-jwks}]
  jwt:
    providers:
    - name: p
      remoteJWKS:
        uri: https://keys.example.com/jwks.json
        backendRefs: [{name: no-such-service, port: 443}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: cel, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cel}]
  authorization:
    defaultAction: Allow
    rules:
    - action: Deny
      cel: "request.method == 'DELETE'"
---
apiVersion: v1
kind: Secret
metadata: {name: dup-keys, namespace: default}
stringData: {alice: topsecret-dup, bob: topsecret-dup, carol: carol-only-key}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: dup-keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: dup-keys}]
  apiKeyAuth:
    credentialRefs: [{name: dup-keys}]
    extractFrom: [{headers: [x-api-key]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: jwks-down, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwks-down}]
  jwt:
    providers:
    - name: p
      remoteJWKS:
        uri: http://127.0.0.1:{{ .Down }}/jwks.json
        failedRefetchDuration: 1s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: tcp-listener, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: tcp}]
  jwt:
    providers:
    - name: p
      localJWKS: {type: Inline, inline: '{{ .JWKS }}'}
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port, "TCP": tcpPort, "TCPBackend": tcpBackend, "Down": down, "JWKS": jwks(iss)})

	for _, h := range []string{"missing-secret", "missing-jwks", "cel", "dup-keys"} {
		for _, kv := range [][]string{nil, {"x-api-key", "topsecret-dup"}, {"x-api-key", "carol-only-key"}, {"Authorization", "Bearer " + iss.token(t, nil)}} {
			p.ExpectStatus(t, http.StatusInternalServerError, h+".example.com", "/", kv...)
		}
	}
	// Down at run time: no token gets through, and a retry later does not
	// open the route either.
	tok := iss.token(t, nil)
	for range 3 {
		if r := p.Get(t, "jwks-down.example.com", "/", "Authorization", "Bearer "+tok); r.Status == http.StatusOK {
			t.Fatalf("key-set server down: a token got through: %s", r)
		}
		time.Sleep(300 * time.Millisecond)
	}
	p.ExpectStatus(t, http.StatusUnauthorized, "jwks-down.example.com", "/")
	p.ExpectPod(t, "echo", "open.example.com", "/")

	if got, err := lineFrom("127.0.0.1", "127.0.0.1:"+strconv.Itoa(tcpPort), "hello"); err == nil {
		t.Errorf("TCP route behind a JWT policy: got %q, want the connection refused", got)
	}

	stderr := p.Translate.Stderr
	for _, want := range []string{
		"SecurityPolicy default/missing-secret: Accepted Invalid: spec.basicAuth.users: Secret default/no-such-secret does not exist",
		"SecurityPolicy default/missing-jwks: Accepted Invalid: spec.jwt.providers[0].remoteJWKS.backendRefs[0]: Service default/no-such-service not found",
		"SecurityPolicy default/cel: Accepted Invalid: spec.authorization.rules[0].cel: egctl does not translate CEL expressions yet",
		"SecurityPolicy default/dup-keys: Accepted Invalid: spec.apiKeyAuth.credentialRefs[0]: Secret default/dup-keys: clients \"alice\" and \"bob\" have the same API key",
		"SecurityPolicy default/tcp-listener: Accepted Invalid: spec.jwt cannot be enforced on TCP or TLS connections",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("egctl stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "jwks-down") {
		t.Errorf("a valid policy was reported:\n%s", stderr)
	}
	for _, secret := range []string{"topsecret-dup", "carol-only-key"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("egctl stderr shows a key:\n%s", stderr)
		}
	}
}
