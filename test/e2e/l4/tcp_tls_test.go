package l4

import (
	"fmt"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

// TestTCPRouteOnTLSListener: TCPRoutes attached to terminating TLS
// listeners (as Envoy Gateway allows) reach plain TCP backends — Envoy
// ends TLS with the listener's certificate and proxies the stream. Two
// listeners share the port: the one with a hostname takes that server
// name, the one without takes every other name.
func TestTCPRouteOnTLSListener(t *testing.T) {
	t.Parallel()
	certDB, certAny := e2e.SelfSignedCert(t, "db.example.com"), e2e.SelfSignedCert(t, "shop.example.com")
	db, other := tcpEcho(t, "db"), tcpEcho(t, "other")
	port := e2e.FreePort(t)
	route := func(name, section, backend string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: %s, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: %s}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: %s}]}]
`, name, section, backend)
	}
	startEnvoy(t, gatewayYAML(fmt.Sprintf(`    - {name: db, protocol: TLS, port: %[1]d, hostname: db.example.com, tls: {mode: Terminate, certificateRefs: [{name: db}]}}
    - {name: any, protocol: TLS, port: %[1]d, tls: {certificateRefs: [{name: any}]}}`, port))+
		secretYAML("db", certDB)+secretYAML("any", certAny)+
		backendYAML("db", db)+backendYAML("other", other)+
		route("db", "db", "db")+route("other", "any", "other"), port)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	expectSNIAnswers(t, addr, []sniCase{
		{"db.example.com", certDB, "db: hello"},
		{"shop.example.com", certAny, "other: hello"},
	})
	// Plaintext is not proxied: the listener only speaks TLS.
	if got, err := tcpRoundTrip(addr, "hello"); err == nil && got != "" {
		t.Fatalf("plaintext on the TLS listener answered %q", got)
	}
}
