package tls_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

// describeTLS answers like describe, adding the TLS version.
func describeTLS(name string) http.Handler {
	d := describe(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("X-TLS-Version", tls.VersionName(r.TLS.Version))
		}
		d.ServeHTTP(w, r)
	})
}

// egBackend is an Envoy Gateway Backend named name with one endpoint
// 127.0.0.1:port (and a hostname when given) and the spec.tls given.
func egBackend(name string, port int, hostname, tlsSpec string) string {
	h := ""
	if hostname != "" {
		h = "hostname: " + hostname + ", "
	}
	t := ""
	if tlsSpec != "" {
		t = "\n  tls: " + tlsSpec
	}
	return fmt.Sprintf(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: %s, namespace: default}
spec:
  endpoints: [{%sip: {address: 127.0.0.1, port: %d}}]%s
---
`, name, h, port, t)
}

// TestBackendKindTLS: TLS to an Envoy Gateway Backend from its spec.tls
// and from a BackendTLSPolicy targeting it, against a real TLS backend
// that requires a client certificate. The right CA is accepted and a
// wrong one refused; the SNI is the fixed one, the request's Host or the
// endpoint hostname, each checked against the certificate; verification
// can be skipped; TLS parameters and ALPN reach the handshake.
func TestBackendKindTLS(t *testing.T) {
	backendCA := e2e.NewCA(t, "backend CA")
	otherCA := e2e.NewCA(t, "other CA")
	clientCA := e2e.NewCA(t, "client CA")
	srvCert := backendCA.Issue(t, e2e.ECDSAKey, false, "backend.example.com")
	client := clientCA.Issue(t, e2e.ECDSAKey, true, "backend-client")
	be := startBackend(t, describeTLS("secure"), &tls.Config{
		Certificates: []tls.Certificate{srvCert.Pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil)
	cert := `clientCertificateRef: {name: backend-client}`
	ca := `caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}]`
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("backend-client", client)+
		caConfigMap("backend-ca", backendCA)+caConfigMap("other-ca", otherCA)+
		egBackend("fixed", be.port, "", "{"+ca+", sni: backend.example.com, "+cert+"}")+
		egBackend("wrongca", be.port, "", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: other-ca}], sni: backend.example.com, `+cert+"}")+
		egBackend("wrongsni", be.port, "", "{"+ca+", sni: other.example.com, "+cert+"}")+
		egBackend("byhost", be.port, "", "{"+ca+", "+cert+"}")+
		egBackend("byendpoint", be.port, "backend.example.com", "{"+ca+", autoSNIFromEndpointHostname: true, "+cert+"}")+
		egBackend("skip", be.port, "", `{insecureSkipVerify: true, sni: whatever.example.org, `+cert+"}")+
		egBackend("tls13", be.port, "", "{"+ca+", sni: backend.example.com, minVersion: \"1.3\", "+cert+"}")+
		egBackend("tls12", be.port, "", "{"+ca+", sni: backend.example.com, maxVersion: \"1.2\", "+cert+"}")+
		egBackend("h2", be.port, "", "{"+ca+", sni: backend.example.com, alpnProtocols: [h2, http/1.1], "+cert+"}")+
		egBackend("policy", be.port, "", "{"+cert+"}")+`
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: for-backend, namespace: default}
spec:
  targetRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: policy}]
  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}], hostname: backend.example.com}
---
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
`+routeRules(be.port, "fixed", "wrongca", "wrongsni", "byhost", "byendpoint", "skip", "tls13", "tls12", "h2", "policy"), map[string]any{"Port": port})

	c := plainClient(port)
	for _, tc := range []struct{ path, host, want string }{
		{"/fixed", "", "sni=backend.example.com client=backend-client"},
		{"/byhost", "backend.example.com", "sni=backend.example.com"},
		{"/byendpoint", "app.example.com", "sni=backend.example.com"},
		{"/skip", "", "sni=whatever.example.org"},
		{"/policy", "", "sni=backend.example.com client=backend-client"},
		{"/h2", "", "proto=HTTP/2.0"},
		// Without alpnProtocols ALPN still picks the protocol (Envoy
		// Gateway's auto_config): this backend offers h2.
		{"/tls13", "", "proto=HTTP/2.0"},
		{"/tls12", "", "proto=HTTP/2.0"},
	} {
		host := tc.host
		if host == "" {
			host = "app.example.com"
		}
		req, _ := newRequest("http://"+host+tc.path, host)
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		var body strings.Builder
		fmt.Fprint(&body, readAll(resp))
		if resp.StatusCode != 200 || !strings.Contains(body.String(), tc.want) {
			t.Errorf("%s (Host %s): %d %q, want 200 with %q", tc.path, host, resp.StatusCode, body.String(), tc.want)
		}
		// Envoy offers at most TLS 1.2 to upstreams unless told otherwise;
		// egctl asks for 1.3 without a maxVersion, as Envoy Gateway does.
		if tc.path == "/tls13" && resp.Header.Get("X-TLS-Version") != "TLS 1.3" {
			t.Errorf("/tls13: backend negotiated %q, want TLS 1.3 (minVersion)", resp.Header.Get("X-TLS-Version"))
		}
		if tc.path == "/fixed" && resp.Header.Get("X-TLS-Version") != "TLS 1.3" {
			t.Errorf("/fixed: backend negotiated %q, want TLS 1.3 (no maxVersion: up to 1.3, as Envoy Gateway)", resp.Header.Get("X-TLS-Version"))
		}
		if tc.path == "/tls12" && resp.Header.Get("X-TLS-Version") != "TLS 1.2" {
			t.Errorf("/tls12: backend negotiated %q, want TLS 1.2 (maxVersion)", resp.Header.Get("X-TLS-Version"))
		}
	}
	// Refused: a CA that did not sign the backend, a fixed SNI the
	// certificate does not carry, a Host the certificate does not carry.
	for _, tc := range []struct{ path, host string }{
		{"/wrongca", "app.example.com"}, {"/wrongsni", "app.example.com"}, {"/byhost", "app.example.com"},
	} {
		code, body, err := get(t, c, "http://"+tc.host+tc.path)
		if err != nil || code != 503 {
			t.Errorf("%s (Host %s): %d %q %v, want 503: the backend certificate must not verify", tc.path, tc.host, code, body, err)
		}
	}
}

// routeRules is one rule per Backend name, matched by "/name".
func routeRules(_ int, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  - {matches: [{path: {type: PathPrefix, value: /%s}}], backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: %s, port: 443}]}\n", n, n)
	}
	return b.String()
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil || b.Len() > 1<<16 {
			return b.String()
		}
	}
}
