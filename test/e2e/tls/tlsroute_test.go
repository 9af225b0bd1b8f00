package tls_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// startTLSEcho runs a TLS server that requires a client certificate from
// clientCA and answers each line with "<client CN> <line>".
func startTLSEcho(t *testing.T, cert *e2e.Cert, clientCA *e2e.CA) int {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert.Pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	e2e.ServeConns(t, l, requestTimeout, func(c net.Conn) {
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			return
		}
		cn := tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			fmt.Fprintf(c, "%s %s\n", cn, sc.Text())
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// TestTLSRouteTerminateToTLSBackend: a TLS listener terminates the
// client's TLS and, under a BackendTLSPolicy, Envoy opens its own TLS to
// the backend, verified by the policy's CA and with the Gateway's client
// certificate.
func TestTLSRouteTerminateToTLSBackend(t *testing.T) {
	frontCA := e2e.NewCA(t, "front CA")
	backCA := e2e.NewCA(t, "backend CA")
	clientCA := e2e.NewCA(t, "gateway client CA")
	front := frontCA.Issue(t, e2e.ECDSAKey, false, "db.example.com")
	back := backCA.Issue(t, e2e.ECDSAKey, false, "db.internal")
	gwClient := clientCA.Issue(t, e2e.ECDSAKey, true, "gateway-client")
	bePort := startTLSEcho(t, back, clientCA)
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+tlsSecret("front", front)+tlsSecret("gw-client", gwClient)+caConfigMap("back-ca", backCA)+
		service("db", "", bePort)+
		btlsPolicy("db", "db", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: back-ca}], hostname: db.internal}`)+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  tls: {backend: {clientCertificateRef: {name: gw-client}}}
  listeners:
  - {name: tls, protocol: TLS, port: {{ .Port }}, hostname: db.example.com, tls: {mode: Terminate, certificateRefs: [{name: front}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: db, port: 8080}]}]
`, map[string]any{"Port": port})

	c, err := dialTLS(port, &tls.Config{ServerName: "db.example.com", RootCAs: frontCA.Pool})
	if err != nil {
		t.Fatalf("handshake with Envoy: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(requestTimeout))
	if !strings.Contains(c.ConnectionState().PeerCertificates[0].Subject.CommonName, "db.example.com") {
		t.Errorf("Envoy presented %q, want the listener's certificate", c.ConnectionState().PeerCertificates[0].Subject.CommonName)
	}
	fmt.Fprintf(c, "ping\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "gateway-client ping\n" {
		t.Fatalf("echo = %q %v, want the backend to have seen the Gateway's client certificate", line, err)
	}
}
