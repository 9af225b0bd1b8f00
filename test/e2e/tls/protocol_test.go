package tls_test

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// wsEcho completes a WebSocket opening handshake by hand (RFC 6455) and
// then echoes raw bytes: Envoy forwards the upgraded stream as is.
func wsEcho(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Key") == "" {
			http.Error(w, "not a websocket request", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Backend: %s\r\nX-Backend-TLS: %v\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]), name, r.TLS != nil)
		rw.Flush()
		conn.SetDeadline(time.Now().Add(requestTimeout))
		io.Copy(conn, rw) // echo until the client closes
	})
}

// wsRoundTrip upgrades a connection through Envoy and checks one echo.
func wsRoundTrip(t *testing.T, port int, path string) (backendName, backendTLS string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(requestTimeout))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", path)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: reading the handshake answer: %v", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("%s: status %d %q, want 101", path, resp.StatusCode, b)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("%s: Sec-WebSocket-Accept %q", path, got)
	}
	msg := "hello over the upgraded stream"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
		t.Fatalf("%s: echo %q %v, want %q", path, buf, err, msg)
	}
	return resp.Header.Get("X-Backend"), resp.Header.Get("X-Backend-TLS")
}

// TestBackendProtocols: appProtocol kubernetes.io/ws upgrades to a plain
// WebSocket backend, kubernetes.io/wss to one behind TLS (with a
// BackendTLSPolicy), and kubernetes.io/h2c speaks cleartext HTTP/2.
func TestBackendProtocols(t *testing.T) {
	ca := e2e.NewCA(t, "backend CA")
	srv := ca.Issue(t, e2e.ECDSAKey, false, "wss.internal")
	ws := startBackend(t, wsEcho("ws"), nil, nil)
	wss := startBackend(t, wsEcho("wss"), &tls.Config{Certificates: []tls.Certificate{srv.Pair}, NextProtos: []string{"http/1.1"}}, nil)
	h2c := startBackend(t, describe("h2c"), nil, func(s *http.Server) {
		s.Protocols = new(http.Protocols)
		s.Protocols.SetHTTP1(true)
		s.Protocols.SetUnencryptedHTTP2(true)
	})
	port := e2e.FreePort(t)
	deploy(t, 0, gatewayClass+service("ws", "kubernetes.io/ws", ws.port)+service("wss", "kubernetes.io/wss", wss.port)+
		service("h2c", "kubernetes.io/h2c", h2c.port)+caConfigMap("ca", ca)+
		btlsPolicy("wss", "wss", `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: wss.internal}`)+`
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
  - {matches: [{path: {type: PathPrefix, value: /ws}}], backendRefs: [{name: ws, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /secure-ws}}], backendRefs: [{name: wss, port: 8080}]}
  - {matches: [{path: {type: PathPrefix, value: /h2c}}], backendRefs: [{name: h2c, port: 8080}]}
`, map[string]any{"Port": port})

	if name, viaTLS := wsRoundTrip(t, port, "/ws"); name != "ws" || viaTLS != "false" {
		t.Errorf("/ws reached %q (tls %s), want ws without TLS", name, viaTLS)
	}
	if name, viaTLS := wsRoundTrip(t, port, "/secure-ws"); name != "wss" || viaTLS != "true" {
		t.Errorf("/secure-ws reached %q (tls %s), want wss over TLS", name, viaTLS)
	}
	if err := check200(t, plainClient(port), "http://h2c.example.com/h2c", "backend=h2c proto=HTTP/2.0"); err != nil {
		t.Errorf("/h2c: %v (want h2c over HTTP/2)", err)
	}
}
