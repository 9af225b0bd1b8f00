package tls_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

// TestHTTPSCertificatePerSNIAndKeyType: one listener serves an RSA and an
// ECDSA certificate and Envoy picks by what the client supports (an
// RSA-only TLS 1.2 client gets the RSA one); another listener on the same
// port serves its own certificate by SNI.
func TestHTTPSCertificatePerSNIAndKeyType(t *testing.T) {
	ca := e2e.NewCA(t, "frontend CA")
	aRSA := ca.Issue(t, e2e.RSAKey, false, "a.example.com")
	aEC := ca.Issue(t, e2e.ECDSAKey, false, "a.example.com")
	b := ca.Issue(t, e2e.ECDSAKey, false, "b.example.com")
	be := startBackend(t, describe("web"), nil, nil)
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("a-rsa", aRSA)+tlsSecret("a-ec", aEC)+tlsSecret("b", b)+service("web", "", be.port)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: a
    protocol: HTTPS
    port: {{ .Port }}
    hostname: a.example.com
    # Envoy picks the key type from the ClientHello; with TLS 1.3 enabled
    # it trusts the signature algorithms alone, which Go clients always
    # offer for ECDSA, so this listener caps at 1.2 to let cipher suites
    # decide (as for real TLS 1.2 clients).
    tls: {certificateRefs: [{name: a-rsa}, {name: a-ec}], options: {egctl.io/tls-max-version: "1.2"}}
  - name: b
    protocol: HTTPS
    port: {{ .Port }}
    hostname: b.example.com
    tls: {certificateRefs: [{name: b}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`, map[string]any{"Port": port})

	cases := []struct {
		name, sni string
		suites    []uint16
		want      *e2e.Cert
	}{
		{"RSA-only client", "a.example.com", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, aRSA},
		{"ECDSA-only client", "a.example.com", []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, aEC},
		{"other SNI", "b.example.com", nil, b},
	}
	for _, c := range cases {
		cfg := &tls.Config{ServerName: c.sni, RootCAs: ca.Pool, CipherSuites: c.suites}
		if c.suites != nil {
			cfg.MaxVersion = tls.VersionTLS12 // TLS 1.3 suites do not name the key type
		}
		conn, err := dialTLS(port, cfg)
		if err != nil {
			t.Errorf("%s: handshake: %v", c.name, err)
			continue
		}
		got := conn.ConnectionState().PeerCertificates[0].Raw
		conn.Close()
		if !bytes.Equal(got, c.want.Leaf.Raw) {
			t.Errorf("%s: served certificate is not the expected one", c.name)
		}
		if err := check200(t, httpsClient(port, cfg), "https://"+c.sni+"/", "backend=web"); err != nil {
			t.Errorf("%s: GET: %v", c.name, err)
		}
	}
}

// TestHTTPSTLSOptions: egctl's tls.options keys set the minimum version and
// the ALPN protocols Envoy offers.
func TestHTTPSTLSOptions(t *testing.T) {
	ca := e2e.NewCA(t, "frontend CA")
	cert := ca.Issue(t, e2e.ECDSAKey, false, "opts.example.com")
	be := startBackend(t, describe("web"), nil, nil)
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("opts", cert)+service("web", "", be.port)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: https
    protocol: HTTPS
    port: {{ .Port }}
    tls:
      certificateRefs: [{name: opts}]
      options:
        egctl.io/tls-min-version: "1.3"
        egctl.io/tls-alpn-protocols: http/1.1
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`, map[string]any{"Port": port})

	if c, err := dialTLS(port, &tls.Config{ServerName: "opts.example.com", RootCAs: ca.Pool, MaxVersion: tls.VersionTLS12}); err == nil {
		c.Close()
		t.Errorf("a TLS 1.2 client was accepted; min version is 1.3")
	}
	c, err := dialTLS(port, &tls.Config{ServerName: "opts.example.com", RootCAs: ca.Pool, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatalf("TLS 1.3 client: %v", err)
	}
	st := c.ConnectionState()
	c.Close()
	if st.Version != tls.VersionTLS13 || st.NegotiatedProtocol != "http/1.1" {
		t.Errorf("negotiated version %x ALPN %q, want TLS 1.3 and http/1.1 (h2 not offered)", st.Version, st.NegotiatedProtocol)
	}
}

// TestFrontendClientCertificateValidation: spec.tls.frontend asks clients
// for a certificate signed by the CA in a ConfigMap. AllowValidOnly (the
// perPort entry) refuses a client without one; AllowInsecureFallback (the
// default) lets it in.
func TestFrontendClientCertificateValidation(t *testing.T) {
	serverCA := e2e.NewCA(t, "server CA")
	clientCA := e2e.NewCA(t, "client CA")
	otherCA := e2e.NewCA(t, "untrusted CA")
	srv := serverCA.Issue(t, e2e.ECDSAKey, false, "mtls.example.com")
	good := clientCA.Issue(t, e2e.ECDSAKey, true, "good-client")
	bad := otherCA.Issue(t, e2e.ECDSAKey, true, "bad-client")
	be := startBackend(t, describe("web"), nil, nil)
	strict, lax := e2e.FreePort(t), e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("srv", srv)+caConfigMap("client-ca", clientCA)+service("web", "", be.port)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]
          mode: AllowInsecureFallback
      perPort:
      - port: {{ .Strict }}
        tls:
          validation:
            caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]
  listeners:
  - {name: strict, protocol: HTTPS, port: {{ .Strict }}, tls: {certificateRefs: [{name: srv}]}}
  - {name: lax, protocol: HTTPS, port: {{ .Lax }}, tls: {certificateRefs: [{name: srv}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`, map[string]any{"Strict": strict, "Lax": lax})

	cfg := func(c *e2e.Cert) *tls.Config {
		out := &tls.Config{ServerName: "mtls.example.com", RootCAs: serverCA.Pool}
		if c != nil {
			out.Certificates = []tls.Certificate{c.Pair}
		}
		return out
	}
	cases := []struct {
		name   string
		port   int
		client *e2e.Cert
		ok     bool
	}{
		{"AllowValidOnly with a valid certificate", strict, good, true},
		{"AllowValidOnly without a certificate", strict, nil, false},
		{"AllowValidOnly with an untrusted certificate", strict, bad, false},
		{"AllowInsecureFallback with a valid certificate", lax, good, true},
		{"AllowInsecureFallback without a certificate", lax, nil, true},
		{"AllowInsecureFallback with an untrusted certificate", lax, bad, true},
	}
	for _, c := range cases {
		code, body, err := get(t, httpsClient(c.port, cfg(c.client)), "https://mtls.example.com/")
		switch {
		case c.ok && (err != nil || code != 200 || !strings.Contains(body, "backend=web")):
			t.Errorf("%s: got %d %q %v, want 200 from web", c.name, code, body, err)
		case !c.ok && err == nil:
			t.Errorf("%s: got %d, want the handshake refused", c.name, code)
		}
	}
}

// TestMisdirectedRequest: a connection whose SNI chose one HTTPS listener
// must not serve a Host owned by another listener on the same port: 421.
func TestMisdirectedRequest(t *testing.T) {
	ca := e2e.NewCA(t, "CA")
	a := ca.Issue(t, e2e.ECDSAKey, false, "a.example.com")
	b := ca.Issue(t, e2e.ECDSAKey, false, "b.example.com")
	beA := startBackend(t, describe("a"), nil, nil)
	beB := startBackend(t, describe("b"), nil, nil)
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("a", a)+tlsSecret("b", b)+service("svc-a", "", beA.port)+service("svc-b", "", beB.port)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: a, protocol: HTTPS, port: {{ .Port }}, hostname: a.example.com, tls: {certificateRefs: [{name: a}]}}
  - {name: b, protocol: HTTPS, port: {{ .Port }}, hostname: b.example.com, tls: {certificateRefs: [{name: b}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: a}]
  rules: [{backendRefs: [{name: svc-a, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: b}]
  rules: [{backendRefs: [{name: svc-b, port: 8080}]}]
`, map[string]any{"Port": port})

	cfgA := &tls.Config{ServerName: "a.example.com", RootCAs: ca.Pool}
	if err := check200(t, httpsClient(port, cfgA), "https://a.example.com/", "backend=a"); err != nil {
		t.Fatalf("SNI a, Host a: %v", err)
	}
	// SNI a.example.com, Host b.example.com: the TLS client sends the URL
	// host as SNI, so the request is built by hand.
	client := httpsClient(port, cfgA)
	req, err := newRequest("https://a.example.com/", "b.example.com")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("SNI a, Host b: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 421 {
		t.Errorf("SNI a, Host b: status %d, want 421 Misdirected Request", resp.StatusCode)
	}
}

// TestHTTPToHTTPSRedirect: a route on the plain listener redirecting to
// https sends clients to the same host without a port (443).
func TestHTTPToHTTPSRedirect(t *testing.T) {
	ca := e2e.NewCA(t, "CA")
	cert := ca.Issue(t, e2e.ECDSAKey, false, "shop.example.com")
	be := startBackend(t, describe("web"), nil, nil)
	httpPort, httpsPort := e2e.FreePort(t), e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("shop", cert)+service("web", "", be.port)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: {{ .HTTP }}, hostname: shop.example.com}
  - {name: https, protocol: HTTPS, port: {{ .HTTPS }}, hostname: shop.example.com, tls: {certificateRefs: [{name: shop}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-https, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`, map[string]any{"HTTP": httpPort, "HTTPS": httpsPort})

	for _, host := range []string{"shop.example.com", fmt.Sprintf("shop.example.com:%d", httpPort)} {
		req, err := newRequest(fmt.Sprintf("http://%s/cart?x=1", host), "")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := plainClient(httpPort).Do(req)
		if err != nil {
			t.Fatalf("Host %s: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://shop.example.com/cart?x=1" {
			t.Errorf("Host %s: %d Location %q, want 301 https://shop.example.com/cart?x=1", host, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	cfg := &tls.Config{ServerName: "shop.example.com", RootCAs: ca.Pool}
	if err := check200(t, httpsClient(httpsPort, cfg), "https://shop.example.com/cart", "backend=web"); err != nil {
		t.Errorf("HTTPS: %v", err)
	}
}
