package certgen_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/admin/admintest"
	"github.com/egctl/egctl/certgen"
)

// TestEnvoyAcceptsCertificates has a real Envoy (BoringSSL) serve with the
// generated keys: a Gateway listener certificate, and the xDS pair in
// mutual TLS (envoy-gateway as server, envoy as the client), for both key
// types.
func TestEnvoyAcceptsCertificates(t *testing.T) {
	admintest.RequireEnvoy(t)
	for _, kt := range []certgen.KeyType{certgen.KeyECDSA, certgen.KeyRSA} {
		t.Run(string(kt), func(t *testing.T) {
			s := certgen.Settings{KeyType: kt}
			cp, err := certgen.GenerateControlPlane(certgen.ControlPlaneOptions{Settings: s})
			if err != nil {
				t.Fatal(err)
			}
			lc, err := certgen.GenerateListener(certgen.ListenerOptions{Hostnames: []string{"www.example.com"}, Settings: s})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if _, err := certgen.WriteFiles(dir, cp.Files(), false); err != nil {
				t.Fatal(err)
			}
			if _, err := certgen.WriteFiles(filepath.Join(dir, "listener"), lc.Files(), false); err != nil {
				t.Fatal(err)
			}
			e := admintest.StartBootstrap(t, tlsBootstrap(dir))

			// Listener certificate, verified against its CA by name.
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(lc.CA.CertPEM)
			get(t, admintest.ListenerAddr(t, e.AdminAddr, "listener"), &tls.Config{RootCAs: roots, ServerName: "www.example.com"}, true)

			// xDS-style mutual TLS.
			cpRoots := x509.NewCertPool()
			cpRoots.AppendCertsFromPEM(cp.CA.CertPEM)
			envoyCert, err := tls.X509KeyPair(cp.Envoy.CertPEM, cp.Envoy.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			xds := admintest.ListenerAddr(t, e.AdminAddr, "xds")
			server := "envoy-gateway.envoy-gateway-system.svc.cluster.local"
			get(t, xds, &tls.Config{RootCAs: cpRoots, ServerName: server, Certificates: []tls.Certificate{envoyCert}}, true)
			// Without a client certificate the server must refuse.
			get(t, xds, &tls.Config{RootCAs: cpRoots, ServerName: server}, false)
			// Envoy enforces extended key usage: the server-only
			// envoy-gateway certificate, same CA, cannot act as a client.
			get(t, xds, &tls.Config{RootCAs: cpRoots, ServerName: server, Certificates: []tls.Certificate{mustPair(t, cp.EnvoyGateway)}}, false)
			// A certificate from another CA is refused too.
			get(t, xds, &tls.Config{RootCAs: cpRoots, ServerName: server, Certificates: []tls.Certificate{mustPair(t, lc.Leaf)}}, false)
		})
	}
}

func mustPair(t *testing.T, kp certgen.KeyPair) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, addr string, cfg *tls.Config, wantOK bool) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + addr + "/")
	if !wantOK {
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: request succeeded, want a TLS refusal", addr)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("%s: %d %q", addr, resp.StatusCode, b)
	}
}

func tlsBootstrap(dir string) string {
	listener := func(name, cert, key, ca string) string {
		validation := ""
		if ca != "" {
			validation = fmt.Sprintf(`
            validation_context:
              trusted_ca: {filename: %s}`, ca)
		}
		return fmt.Sprintf(`
  - name: %s
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: %v
          common_tls_context:
            tls_certificates:
            - certificate_chain: {filename: %s}
              private_key: {filename: %s}%s
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: %[1]s
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                direct_response: {status: 200, body: {inline_string: ok}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}`,
			name, ca != "", cert, key, validation)
	}
	p := func(parts ...string) string { return filepath.Join(append([]string{dir}, parts...)...) }
	var b strings.Builder
	b.WriteString("admin:\n  address: {socket_address: {address: 127.0.0.1, port_value: 0}}\nstatic_resources:\n  listeners:")
	b.WriteString(listener("listener", p("listener", "tls.crt"), p("listener", "tls.key"), ""))
	b.WriteString(listener("xds", p("envoy-gateway", "tls.crt"), p("envoy-gateway", "tls.key"), p("envoy-gateway", "ca.crt")))
	b.WriteString("\n")
	return b.String()
}
