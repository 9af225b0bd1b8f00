package l4

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// tlsEcho terminates TLS with c and answers every line with "name: line".
func tlsEcho(t *testing.T, name string, c *e2e.Cert) int {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.Pair}})
	if err != nil {
		t.Fatal(err)
	}
	e2e.ServeConns(t, l, 10*time.Second, func(conn net.Conn) {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err == nil {
			io.WriteString(conn, name+": "+line)
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// tlsDial connects with SNI sni, trusting only want, and returns the
// answer to one line. The handshake fails unless the served certificate
// is want's.
func tlsDial(addr, sni string, want *e2e.Cert) (string, error) {
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: sni, RootCAs: want.Pool})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates; len(got) == 0 || !bytes.Equal(got[0].Raw, want.Leaf.Raw) {
		return "", fmt.Errorf("served certificate is not the expected one")
	}
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "hello\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// sniCase is a TLS connection with server name sni that must be served
// cert and answer want.
type sniCase struct {
	sni  string
	cert *e2e.Cert
	want string
}

// expectSNIAnswers waits until every case's connection to addr answers as
// it should.
func expectSNIAnswers(t *testing.T, addr string, cases []sniCase) {
	t.Helper()
	for _, tc := range cases {
		e2e.Eventually(t, 10*time.Second, func() error {
			got, err := tlsDial(addr, tc.sni, tc.cert)
			if err != nil {
				return fmt.Errorf("SNI %s: %v", tc.sni, err)
			}
			if got != tc.want {
				return fmt.Errorf("SNI %s: answer %q, want %q", tc.sni, got, tc.want)
			}
			return nil
		})
	}
}

// TestTLSRoute shares one port between TLS passthrough (two backends told
// apart by SNI, each serving its own certificate through Envoy untouched),
// TLS Terminate to a plain TCP backend, and an HTTPS listener.
func TestTLSRoute(t *testing.T) {
	certA, certB := e2e.SelfSignedCert(t, "a.example.com"), e2e.SelfSignedCert(t, "b.example.com")
	certTerm, certWeb := e2e.SelfSignedCert(t, "term.example.com"), e2e.SelfSignedCert(t, "web.example.com")
	a, b := tlsEcho(t, "a", certA), tlsEcho(t, "b", certB)
	plain := tcpEcho(t, "plain")
	webL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "web") })}
	go web.Serve(webL)
	t.Cleanup(func() { web.Close() })

	port := e2e.FreePort(t)
	tlsRoute := func(name, section, host, backend string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: %s, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: %s}]
  hostnames: [%s]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: %s}]}]
`, name, section, host, backend)
	}
	startEnvoy(t, gatewayYAML(fmt.Sprintf(`    - {name: pass, protocol: TLS, port: %[1]d, hostname: "*.example.com", tls: {mode: Passthrough}}
    - {name: term, protocol: TLS, port: %[1]d, hostname: term.example.com, tls: {mode: Terminate, certificateRefs: [{name: term}]}}
    - {name: web, protocol: HTTPS, port: %[1]d, hostname: web.example.com, tls: {certificateRefs: [{name: web}]}}`, port))+
		secretYAML("term", certTerm)+secretYAML("web", certWeb)+
		backendYAML("a", a)+backendYAML("b", b)+backendYAML("plain", plain)+
		backendYAML("web", webL.Addr().(*net.TCPAddr).Port)+
		tlsRoute("a", "pass", "a.example.com", "a")+
		tlsRoute("b", "pass", "b.example.com", "b")+
		tlsRoute("term", "term", "term.example.com", "plain")+`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: web}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: web}]}]
`, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	expectSNIAnswers(t, addr, []sniCase{
		{"a.example.com", certA, "a: hello"},
		{"b.example.com", certB, "b: hello"},
		{"term.example.com", certTerm, "plain: hello"},
	})

	// HTTPS on the same port: Envoy terminates with the web certificate.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: "web.example.com", RootCAs: certWeb.Pool},
	}}
	e2e.Eventually(t, 10*time.Second, func() error {
		req, _ := http.NewRequest("GET", "https://"+addr+"/", nil)
		req.Host = "web.example.com"
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "web" {
			return fmt.Errorf("HTTPS: %d %q", resp.StatusCode, body)
		}
		return nil
	})

	// A name no route claims reaches no backend.
	if got, err := tlsDial(addr, "c.example.com", certA); err == nil {
		t.Errorf("SNI c.example.com answered %q; want the connection refused", got)
	}
}
