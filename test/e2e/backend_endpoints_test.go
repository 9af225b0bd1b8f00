package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// serveOn serves an HTTP handler answering name (and the protocol) on l
// until the test ends.
func serveOn(t *testing.T, l net.Listener, name string, h2c bool) {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.Proto)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	if h2c {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestBackendKindEndpoints: Envoy Gateway Backends reached through an IPv6
// address, a unix socket, a DNS name, an IP and a socket in one Backend,
// and one speaking h2c (appProtocols), each answering through the real
// Envoy.
func TestBackendKindEndpoints(t *testing.T) {
	envoyTest(t)
	v6, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	serveOn(t, v6, "ipv6", false)
	// A short directory: a socket path has at most 108 bytes.
	dir, err := os.MkdirTemp("", "egctl-uds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "backend.sock")
	ux, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ux, "unix", false)
	dnsL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, dnsL, "fqdn", false)
	h2L, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, h2L, "h2c", true)

	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: v6, namespace: default}
spec:
  endpoints: [{ip: {address: "0:0:0:0:0:0:0:1", port: {{ .V6 }}}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: uds, namespace: default}
spec:
  endpoints: [{unix: {path: {{ .Sock }}}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: dns, namespace: default}
spec:
  endpoints: [{fqdn: {hostname: localhost, port: {{ .DNS }}}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: h2, namespace: default}
spec:
  appProtocols: [gateway.envoyproxy.io/h2c]
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .H2 }}}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: both, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .DNS }}}}, {unix: {path: {{ .Sock }}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: kinds, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v6}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: v6, port: {{ .V6 }}}]
  - matches: [{path: {type: PathPrefix, value: /uds}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: uds}]
  - matches: [{path: {type: PathPrefix, value: /dns}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: dns, port: {{ .DNS }}}]
  - matches: [{path: {type: PathPrefix, value: /both}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: both, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /h2}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: h2, port: {{ .H2 }}}]
`, map[string]any{
		"V6": v6.Addr().(*net.TCPAddr).Port, "Sock": sock,
		"DNS": dnsL.Addr().(*net.TCPAddr).Port, "H2": h2L.Addr().(*net.TCPAddr).Port,
	})
	// One Backend with an IP and a socket endpoint: both take requests.
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		seen[string(p.Get(t, "kinds.example.com", "/both").ExpectStatus(t, http.StatusOK).Body)] = true
	}
	if !seen["fqdn HTTP/1.1"] || !seen["unix HTTP/1.1"] {
		t.Errorf("the IP and socket Backend reached %v, want both endpoints", seen)
	}
	for path, want := range map[string]string{"/v6": "ipv6 HTTP/1.1", "/uds": "unix HTTP/1.1", "/dns": "fqdn HTTP/1.1", "/h2": "h2c HTTP/2.0"} {
		// The DNS name resolves once Envoy has looked it up.
		Eventually(t, 5*time.Second, func() error {
			r := p.Get(t, "kinds.example.com", path)
			if r.Status != http.StatusOK || string(r.Body) != want {
				return &unexpected{path, r, want}
			}
			return nil
		})
	}
}

type unexpected struct {
	path string
	r    *Response
	want string
}

func (u *unexpected) Error() string { return u.path + ": " + u.r.String() + ", want 200 " + u.want }
