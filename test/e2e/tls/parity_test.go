package tls_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// Behaviour of upstream TLS in Envoy Gateway's spelling (a transport socket
// match per TLS backend, trust anchors as SDS validation secrets, the HTTP
// protocol chosen by ALPN): see docs/backend.md and docs/egcompat.md.

// TestBackendTLSALPN: with every backend of a cluster on TLS, ALPN picks
// the protocol: a backend that offers h2 gets HTTP/2, one that offers only
// http/1.1 gets HTTP/1.1. An HTTP/2 backend (appProtocol kubernetes.io/h2c)
// behind a BackendTLSPolicy gets h2 although the TLS context lists no ALPN:
// Envoy offers the cluster's protocol itself.
func TestBackendTLSALPN(t *testing.T) {
	t.Parallel()
	ca := e2e.NewCA(t, "alpn backend CA")
	cert := ca.Issue(t, e2e.ECDSAKey, false, "backend.example.com")
	h2 := startBackend(t, describe("h2"), &tls.Config{Certificates: []tls.Certificate{cert.Pair}, NextProtos: []string{"h2", "http/1.1"}}, nil)
	h1 := startBackend(t, describe("h1"), &tls.Config{Certificates: []tls.Certificate{cert.Pair}, NextProtos: []string{"http/1.1"}}, nil)
	// Only h2: a connection that does not negotiate it fails the handshake
	// instead of falling back to HTTP/1.1.
	h2only := startBackend(t, describe("h2only"), &tls.Config{Certificates: []tls.Certificate{cert.Pair}, NextProtos: []string{"h2"},
		VerifyConnection: requireALPN("h2")}, nil)
	port := e2e.FreePort(t)
	policy := `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: backend.example.com}`
	deploy(t, 0, gatewayClass+caConfigMap("ca", ca)+
		service("h2", "", h2.port)+service("h1", "", h1.port)+service("h2only", "kubernetes.io/h2c", h2only.port)+
		btlsPolicy("h2", "h2", policy)+btlsPolicy("h1", "h1", policy)+btlsPolicy("h2only", "h2only", policy)+`
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
  rules:
  - {matches: [{path: {type: PathPrefix, value: /h2only}}], backendRefs: [{name: h2only, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /h2}}], backendRefs: [{name: h2, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /h1}}], backendRefs: [{name: h1, port: 8080}]}
`, map[string]any{"Port": port})
	client := plainClient(port)
	for path, want := range map[string]string{
		"/h2":     "backend=h2 proto=HTTP/2.0 tls=true sni=backend.example.com",
		"/h1":     "backend=h1 proto=HTTP/1.1 tls=true sni=backend.example.com",
		"/h2only": "backend=h2only proto=HTTP/2.0 tls=true sni=backend.example.com",
	} {
		if err := check200(t, client, "http://app.example.com"+path, want); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// requireALPN fails a handshake that did not negotiate proto.
func requireALPN(proto string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if cs.NegotiatedProtocol != proto {
			return &alpnError{got: cs.NegotiatedProtocol, want: proto}
		}
		return nil
	}
}

type alpnError struct{ got, want string }

func (e *alpnError) Error() string { return "ALPN negotiated " + e.got + ", want " + e.want }

// TestBackendTLSMixedCluster: one rule splits traffic between a TLS
// backend, a plain one and a TLS backend whose certificate its policy's CA
// does not sign. They share one cluster (Envoy Gateway's
// httproute-with-tls-and-http): each endpoint picks its own transport
// socket, so the TLS backend is reached over TLS with its SNI, the plain
// one in plain text, and the wrongly signed one fails (503) without its
// failure or its TLS leaking to the others.
func TestBackendTLSMixedCluster(t *testing.T) {
	t.Parallel()
	ca := e2e.NewCA(t, "mixed backend CA")
	other := e2e.NewCA(t, "mixed other CA")
	secure := startBackend(t, describe("secure"), &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, e2e.ECDSAKey, false, "secure.example.com").Pair}}, nil)
	wrong := startBackend(t, describe("wrong"), &tls.Config{Certificates: []tls.Certificate{other.Issue(t, e2e.ECDSAKey, false, "wrong.example.com").Pair}}, nil)
	plain := startBackend(t, describe("plain"), nil, nil)
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+caConfigMap("ca", ca)+
		service("secure", "", secure.port)+service("plain", "", plain.port)+service("wrong", "", wrong.port)+
		btlsPolicy("secure", "secure", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: secure.example.com}`)+
		btlsPolicy("wrong", "wrong", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: wrong.example.com}`)+`
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
  rules:
  - backendRefs:
    - {name: secure, port: 8080}
    - {name: plain, port: 8080}
    - {name: wrong, port: 8080}
`, map[string]any{"Port": port})
	client := plainClient(port)
	seen := map[string]string{}
	failed := 0
	deadline := time.Now().Add(30 * time.Second)
	// Least-request balancing over three equal localities: every share is
	// met within a few dozen requests.
	for (seen["secure"] == "" || seen["plain"] == "" || failed == 0) && time.Now().Before(deadline) {
		code, body, err := get(t, client, "http://app.example.com/")
		switch {
		case err != nil:
			t.Fatalf("GET: %v", err)
		case code == 503:
			failed++
		case code == 200 && strings.HasPrefix(body, "backend=secure "):
			seen["secure"] = body
		case code == 200 && strings.HasPrefix(body, "backend=plain "):
			seen["plain"] = body
		default:
			t.Fatalf("GET: %d %q, want 200 from secure or plain, or 503 for wrong", code, body)
		}
	}
	if !strings.Contains(seen["secure"], "tls=true sni=secure.example.com") {
		t.Errorf("secure backend saw %q, want TLS with SNI secure.example.com", seen["secure"])
	}
	if !strings.Contains(seen["plain"], "tls=false") {
		t.Errorf("plain backend saw %q, want plain text", seen["plain"])
	}
	if failed == 0 {
		t.Errorf("no request to the wrongly signed backend failed")
	}
}
