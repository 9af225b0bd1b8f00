package tls_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

// btlsPolicy is a BackendTLSPolicy for Service svc.
func btlsPolicy(name, svc, validation string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: %s, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: %s}]
  validation: %s
---
`, name, svc, validation)
}

// TestBackendTLSPolicy: Envoy talks TLS to a backend that requires it,
// sends the policy's hostname as SNI, checks the backend certificate
// against the policy's CA and names, and presents the Gateway's client
// certificate. A wrong CA, a name mismatch or an untrusted system store
// fail with 503 rather than falling back to plain text.
func TestBackendTLSPolicy(t *testing.T) {
	backendCA := e2e.NewCA(t, "backend CA")
	otherCA := e2e.NewCA(t, "other CA")
	clientCA := e2e.NewCA(t, "gateway client CA")
	srvCert := backendCA.Issue(t, e2e.ECDSAKey, false, "backend.example.com")
	gwClient := clientCA.Issue(t, e2e.ECDSAKey, true, "gateway-client")
	be := startBackend(t, describe("secure"), &tls.Config{
		Certificates: []tls.Certificate{srvCert.Pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool,
		NextProtos:   []string{"http/1.1"},
	}, nil)
	port := e2e.FreePort(t)
	svcs := ""
	for _, s := range []string{"good", "wrongca", "badsan", "sanok", "system"} {
		svcs += service(s, "", be.port)
	}
	deploy(t, 0, gatewayClass+svcs+tlsSecret("gw-client", gwClient)+
		caConfigMap("backend-ca", backendCA)+caConfigMap("other-ca", otherCA)+
		btlsPolicy("good", "good", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}], hostname: backend.example.com}`)+
		btlsPolicy("wrongca", "wrongca", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: other-ca}], hostname: backend.example.com}`)+
		btlsPolicy("badsan", "badsan", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}], hostname: backend.example.com, subjectAltNames: [{type: Hostname, hostname: other.example.com}]}`)+
		btlsPolicy("sanok", "sanok", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}], hostname: sni.internal, subjectAltNames: [{type: Hostname, hostname: backend.example.com}]}`)+
		btlsPolicy("system", "system", `{wellKnownCACertificates: System, hostname: backend.example.com}`)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  tls:
    backend:
      clientCertificateRef: {name: gw-client}
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - {matches: [{path: {type: PathPrefix, value: /good}}], backendRefs: [{name: good, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /wrongca}}], backendRefs: [{name: wrongca, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /badsan}}], backendRefs: [{name: badsan, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /sanok}}], backendRefs: [{name: sanok, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /system}}], backendRefs: [{name: system, port: 8080}]}
`, map[string]any{"Port": port})

	client := plainClient(port)
	code, body, err := get(t, client, "http://app.example.com/good")
	if err != nil || code != 200 {
		t.Fatalf("/good: %d %q %v, want 200", code, body, err)
	}
	for _, want := range []string{"backend=secure", "tls=true", "sni=backend.example.com", "client=gateway-client", "proto=HTTP/1.1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/good: backend saw %q, want %s", body, want)
		}
	}
	if err := check200(t, client, "http://app.example.com/sanok", "sni=sni.internal"); err != nil {
		t.Errorf("/sanok: %v (certificate checked against subjectAltNames)", err)
	}
	for _, path := range []string{"/wrongca", "/badsan", "/system"} {
		if code, body, err := get(t, client, "http://app.example.com"+path); err != nil || code != 503 {
			t.Errorf("%s: %d %q %v, want 503 (backend certificate must not verify)", path, code, body, err)
		}
	}
}

// TestBackendTLSPolicyInvalidFailsClosed: a policy whose only CA reference
// is missing makes its Service's share fail (5xx); nothing goes out in
// plain text to a backend that asked for TLS.
func TestBackendTLSPolicyInvalidFailsClosed(t *testing.T) {
	var plainHits atomic.Int32
	be := startBackend(t, httpHandlerFunc(func() { plainHits.Add(1) }), nil, nil)
	port := e2e.FreePort(t)
	deploy(t, 1, gatewayClass+service("svc", "", be.port)+
		btlsPolicy("broken", "svc", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: missing}], hostname: backend.example.com}`)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
`, map[string]any{"Port": port})
	code, _, err := get(t, plainClient(port), "http://app.example.com/")
	if err != nil || code < 500 {
		t.Errorf("GET: %d %v, want a 5xx", code, err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("the backend received %d plain-text requests", n)
	}
}
