// Package tls_test holds behaviour tests for TLS on both sides of the
// proxy: HTTPS listeners (certificates per SNI and key type, tls.options,
// client certificate validation, 421 for misdirected requests), TLS to
// backends (BackendTLSPolicy, the Gateway's client certificate) and the
// upstream protocols that ride on it (WebSocket, h2c). Manifests are
// compiled by the egctl binary, a real Envoy loads the bootstrap, and
// in-test servers on loopback are the backends. The harness is package
// e2e's.
package tls_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

const requestTimeout = 10 * time.Second

func TestMain(m *testing.M) {
	os.Exit(e2e.Main(m, e2e.MainOptions{}))
}

// deploy renders tmpl with data, compiles it with egctl and serves it with
// Envoy until the test ends, waiting for every port in data. wantCode is
// egctl's expected exit status (1 when the manifest has objects that are
// not accepted).
func deploy(t *testing.T, wantCode int, tmpl string, data map[string]any) {
	t.Helper()
	var ports []int
	for _, v := range data {
		if p, ok := v.(int); ok {
			ports = append(ports, p)
		}
	}
	e2e.StartProxy(t, e2e.DeployOptions{ExitCodes: []int{wantCode}}, e2e.RenderManifests(t, tmpl, data), ports...)
}

const gatewayClass = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
`

// tlsSecret is a kubernetes.io/tls Secret in namespace default.
func tlsSecret(name string, c *e2e.Cert) string {
	return e2e.TLSSecretYAML(name, c) + "---\n"
}

// caConfigMap holds a CA certificate under ca.crt.
func caConfigMap(name string, ca *e2e.CA) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: %s, namespace: default}
data:
  ca.crt: |
%s
---
`, name, indentPEM(4, ca.CertPEM))
}

func indentPEM(n int, p []byte) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(string(p), "\n"), "\n", "\n"+pad)
}

// service is a Service named name with one port (number 8080, name
// "port", optional appProtocol) whose only endpoint is 127.0.0.1:target.
func service(name, appProtocol string, target int) string {
	ap := ""
	if appProtocol != "" {
		ap = "\n    appProtocol: " + appProtocol
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: default}
spec:
  ports:
  - name: port
    port: 8080%[2]s
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-1
  namespace: default
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true}
ports:
- {name: port, port: %[3]d}
---
`, name, ap, target)
}

// dialTLS connects to 127.0.0.1:port with cfg (bounded in time).
func dialTLS(port int, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c, err := (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// httpsClient sends every request to 127.0.0.1:port over TLS with cfg.
func httpsClient(port int, cfg *tls.Config) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
			TLSClientConfig:   cfg,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// plainClient sends every request to 127.0.0.1:port in clear text.
func plainClient(port int) *http.Client { return httpsClient(port, nil) }

// get does GET url with client and returns status and body.
func get(t *testing.T, client *http.Client, url string) (int, string, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// check200 GETs url with client and returns an error unless the answer is
// 200 with a body containing want (what describe reports, e.g. "backend=web").
func check200(t *testing.T, client *http.Client, url, want string) error {
	t.Helper()
	code, body, err := get(t, client, url)
	if err != nil {
		return err
	}
	if code != 200 || !strings.Contains(body, want) {
		return fmt.Errorf("%d %q, want 200 with %q", code, body, want)
	}
	return nil
}

// backend is an in-test HTTP server on loopback.
type backend struct {
	port int
	srv  *http.Server
}

// startBackend serves h on a free loopback port; with cfg, over TLS.
func startBackend(t *testing.T, h http.Handler, cfg *tls.Config, configure func(*http.Server)) *backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if configure != nil {
		configure(srv)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return &backend{port: l.Addr().(*net.TCPAddr).Port, srv: srv}
}

// describe answers with what the backend saw: protocol, TLS server name
// and client certificate subject.
func describe(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni, client := "", ""
		if r.TLS != nil {
			sni = r.TLS.ServerName
			if len(r.TLS.PeerCertificates) > 0 {
				client = r.TLS.PeerCertificates[0].Subject.CommonName
			}
		}
		fmt.Fprintf(w, "backend=%s proto=%s tls=%v sni=%s client=%s", name, r.Proto, r.TLS != nil, sni, client)
	})
}

// newRequest builds a GET for url, with a Host header of host when set.
func newRequest(url, host string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if host != "" {
		req.Host = host
	}
	return req, nil
}

// httpHandlerFunc answers 200 and calls hit on every request.
func httpHandlerFunc(hit func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit()
		w.WriteHeader(200)
	})
}
