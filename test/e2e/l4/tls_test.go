package l4

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testCert is a self-signed certificate for one DNS name.
type testCert struct {
	tls     tls.Certificate
	certPEM []byte
	keyPEM  []byte
	der     []byte
}

func newCert(t *testing.T, host string) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCert{
		der:     der,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
	if c.tls, err = tls.X509KeyPair(c.certPEM, c.keyPEM); err != nil {
		t.Fatal(err)
	}
	return c
}

// secretYAML is a kubernetes.io/tls Secret holding c.
func (c *testCert) secretYAML(name string) string {
	return fmt.Sprintf(`---
apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, base64.StdEncoding.EncodeToString(c.certPEM), base64.StdEncoding.EncodeToString(c.keyPEM))
}

// tlsEcho terminates TLS with c and answers every line with "name: line".
func tlsEcho(t *testing.T, name string, c *testCert) int {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.tls}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err == nil {
					io.WriteString(conn, name+": "+line)
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// tlsDial connects with SNI sni, trusting only want, and returns the
// answer to one line. The handshake fails unless the served certificate
// is want's.
func tlsDial(addr, sni string, want *testCert) (string, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(want.certPEM)
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: sni, RootCAs: pool})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates; len(got) == 0 || !bytes.Equal(got[0].Raw, want.der) {
		return "", fmt.Errorf("served certificate is not the expected one")
	}
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "hello\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// TestTLSRoute shares one port between TLS passthrough (two backends told
// apart by SNI, each serving its own certificate through Envoy untouched),
// TLS Terminate to a plain TCP backend, and an HTTPS listener.
func TestTLSRoute(t *testing.T) {
	certA, certB := newCert(t, "a.example.com"), newCert(t, "b.example.com")
	certTerm, certWeb := newCert(t, "term.example.com"), newCert(t, "web.example.com")
	a, b := tlsEcho(t, "a", certA), tlsEcho(t, "b", certB)
	plain := tcpEcho(t, "plain")
	webL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "web") })}
	go web.Serve(webL)
	t.Cleanup(func() { web.Close() })

	port := freePort(t, "tcp")
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
		certTerm.secretYAML("term")+certWeb.secretYAML("web")+
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
`)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, tc := range []struct {
		sni  string
		cert *testCert
		want string
	}{
		{"a.example.com", certA, "a: hello"},
		{"b.example.com", certB, "b: hello"},
		{"term.example.com", certTerm, "plain: hello"},
	} {
		eventually(t, 10*time.Second, func() error {
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

	// HTTPS on the same port: Envoy terminates with the web certificate.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certWeb.certPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: "web.example.com", RootCAs: pool},
	}}
	eventually(t, 10*time.Second, func() error {
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
