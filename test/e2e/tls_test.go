package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestGatewayHTTPSTermination: two HTTPS listeners share one port, each with
// its own self-signed certificate in a kubernetes.io/tls Secret. Envoy must
// pick the certificate by SNI, terminate TLS and route the plain request.
func TestGatewayHTTPSTermination(t *testing.T) {
	envoyTest(t)
	certA := SelfSignedCert(t, "a.secure.example.com")
	certB := SelfSignedCert(t, "b.secure.example.com")
	p := Deploy(t, `{{ gatewayClass }}---
{{ tlsSecret "cert-a" .CertA }}---
{{ tlsSecret "cert-b" .CertB }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: https-a
    protocol: HTTPS
    port: {{ .Port }}
    hostname: a.secure.example.com
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: cert-a}]
  - name: https-b
    protocol: HTTPS
    port: {{ .Port }}
    hostname: b.secure.example.com
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: cert-b}]
---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: secure, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"CertA": certA, "CertB": certB, "Echo": StartEchoBasic(t, "secure-pod").Port})

	for host, cert := range map[string]*Cert{"a.secure.example.com": certA, "b.secure.example.com": certB} {
		// The client trusts only the certificate it expects for this SNI,
		// so a wrong pick fails the handshake.
		client := tlsClient(p.Port, host, cert)
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("https://%s/tls", host), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := Do(t, client, req)
		e := r.Echo(t)
		if e.Pod != "secure-pod" || e.Host != host || e.Path != "/tls" {
			t.Errorf("%s: upstream saw pod %q host %q path %q", host, e.Pod, e.Host, e.Path)
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			t.Fatalf("%s: response was not over TLS", host)
		}
		if !bytes.Equal(r.TLS.PeerCertificates[0].Raw, cert.Leaf.Raw) {
			t.Errorf("%s: server presented %q, want the certificate from its listener's Secret", host, r.TLS.PeerCertificates[0].Subject)
		}
	}

	// The plain-text protocol is not served on an HTTPS listener.
	if _, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/", p.Port)); err == nil {
		t.Errorf("plain HTTP to the HTTPS listener got an answer")
	}
}

// tlsClient dials the listener on loopback whatever the URL's host says,
// sends SNI serverName and trusts only cert.
func tlsClient(port int, serverName string, cert *Cert) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
			TLSClientConfig:   &tls.Config{ServerName: serverName, RootCAs: cert.Pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
