package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestClientTrafficTLS: HTTPS listeners sharing one port (told apart by
// SNI), each with its own ClientTrafficPolicy: a minimum and a maximum TLS
// version refuse clients outside them, ALPN offers only what the policy
// lists (nothing for an empty list), and client validation refuses a
// client without a certificate and tells the backend who the client is.
func TestClientTrafficTLS(t *testing.T) {
	envoyTest(t)
	server := SelfSignedCert(t, "*.example.com")
	clients := NewCA(t, "clients")
	clientCert := clients.Issue(t, ECDSAKey, true, "client.example.com")
	hosts := []string{"default", "v13", "v12", "h1", "noalpn", "mtls"}
	var listeners strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&listeners, `  - name: %[1]s
    protocol: HTTPS
    port: {{ .Port }}
    hostname: %[1]s.example.com
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: server}]}
`, h)
	}
	policy := func(listener, spec string) string {
		return "---\n" + ctpPolicy(listener, listener, spec)
	}
	manifests := `{{ gatewayClass }}---
{{ tlsSecret "server" .Server }}---
apiVersion: v1
kind: ConfigMap
metadata: {name: clients-ca, namespace: default}
data:
  ca.crt: |
{{ indent 4 .ClientsCA }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
` + listeners.String() + `---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
` + policy("v13", "tls: {minVersion: \"1.3\"}\n") +
		policy("v12", "tls: {maxVersion: \"1.2\"}\n") +
		policy("h1", "tls: {alpnProtocols: [http/1.1]}\n") +
		policy("noalpn", "tls: {alpnProtocols: []}\n") +
		policy("mtls", `tls:
  clientValidation:
    caCertificateRefs: [{kind: ConfigMap, name: clients-ca}]
headers:
  xForwardedClientCert: {mode: SanitizeSet, certDetailsToAdd: [Subject]}
`)
	p := Deploy(t, manifests, map[string]any{
		"Server": server, "ClientsCA": string(clients.CertPEM), "Echo": StartEchoBasic(t, "echo").Port,
	})
	addr := fmt.Sprintf("127.0.0.1:%d", p.Port)
	cfg := func(host string) *tls.Config {
		return &tls.Config{ServerName: host + ".example.com", RootCAs: server.Pool, NextProtos: []string{"h2", "http/1.1"}}
	}

	// Versions: the default listener speaks 1.3; v13 refuses a 1.2 client;
	// v12 refuses a 1.3-only client and speaks 1.2 to others.
	if st := tlsHandshake(t, addr, cfg("default")); st == nil || st.Version != tls.VersionTLS13 {
		t.Errorf("no policy: handshake %v, want TLS 1.3", st)
	}
	c := cfg("v13")
	c.MaxVersion = tls.VersionTLS12
	if st := tlsHandshake(t, addr, c); st != nil {
		t.Errorf("minVersion 1.3: a TLS 1.2 client got in (version %x)", st.Version)
	}
	c = cfg("v12")
	c.MinVersion = tls.VersionTLS13
	if st := tlsHandshake(t, addr, c); st != nil {
		t.Errorf("maxVersion 1.2: a TLS 1.3-only client got in")
	}
	if st := tlsHandshake(t, addr, cfg("v12")); st == nil || st.Version != tls.VersionTLS12 {
		t.Errorf("maxVersion 1.2: handshake %v, want TLS 1.2", st)
	}

	// ALPN: h2 by default, only http/1.1 when listed so, none for [].
	for host, want := range map[string]string{"default": "h2", "h1": "http/1.1", "noalpn": ""} {
		st := tlsHandshake(t, addr, cfg(host))
		if st == nil || st.NegotiatedProtocol != want {
			t.Errorf("%s: negotiated ALPN %v, want %q", host, st, want)
		}
	}
	// Without ALPN the connection still carries HTTP/1.1.
	if status, _ := tlsGet(t, addr, cfg("noalpn"), "noalpn.example.com"); status != http.StatusOK {
		t.Errorf("noalpn: GET over HTTP/1.1: status %d", status)
	}

	// Client validation: no certificate, no connection; a certificate from
	// the CA gets in, and the backend learns its subject.
	if status, body := tlsGet(t, addr, cfg("mtls"), "mtls.example.com"); status != 0 {
		t.Errorf("clientValidation: a client without certificate got status %d: %s", status, body)
	}
	withCert := cfg("mtls")
	withCert.Certificates = []tls.Certificate{clientCert.Pair}
	status, body := tlsGet(t, addr, withCert, "mtls.example.com")
	var e EchoResponse
	if status != http.StatusOK || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("clientValidation: client with a certificate: status %d: %s", status, body)
	}
	if xfcc := joined(e.Header("x-forwarded-client-cert")); !strings.Contains(xfcc, `Subject="CN=client.example.com"`) {
		t.Errorf("xForwardedClientCert SanitizeSet: backend saw %q, want the client's subject", xfcc)
	}
	// The other listeners do not ask for a certificate.
	if status, _ := tlsGet(t, addr, cfg("default"), "default.example.com"); status != http.StatusOK {
		t.Errorf("no policy: status %d without a client certificate", status)
	}
}

// tlsHandshake returns the connection state, or nil when the handshake
// fails.
func tlsHandshake(t *testing.T, addr string, cfg *tls.Config) *tls.ConnectionState {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil
	}
	defer c.Close()
	st := c.ConnectionState()
	return &st
}

// tlsGet sends one HTTP/1.1 GET over TLS and returns status and body;
// status 0 when the connection failed or closed without an answer (TLS 1.3
// reports a refused client certificate only on the first read).
func tlsGet(t *testing.T, addr string, cfg *tls.Config, host string) (int, string) {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	if strings.HasPrefix(host, "noalpn") {
		cfg.NextProtos = nil
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return 0, err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
