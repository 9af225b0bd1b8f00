package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// TestClientTrafficHTTP3: with http3 an HTTPS listener is also served over
// QUIC on the same port (UDP), and its TCP responses advertise it in
// alt-svc. The client is quic-go's HTTP/3 implementation, so the QUIC
// handshake, ALPN h3 and the HTTP/3 codec are real on both sides.
func TestClientTrafficHTTP3(t *testing.T) {
	envoyTest(t)
	server := SelfSignedCert(t, "h3.example.com")
	p := Deploy(t, `{{ gatewayClass }}---
{{ tlsSecret "server" .Server }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: https
    protocol: HTTPS
    port: {{ .Port }}
    hostname: h3.example.com
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: server}]}
---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: h3, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  http3: {}
`, map[string]any{"Server": server, "Echo": StartEchoBasic(t, "echo").Port})

	// Over TCP: the answer says where HTTP/3 is.
	status, _ := tlsGet(t, fmt.Sprintf("127.0.0.1:%d", p.Port), &tls.Config{ServerName: "h3.example.com", RootCAs: server.Pool}, "h3.example.com")
	if status != http.StatusOK {
		t.Fatalf("over TCP: status %d", status)
	}
	tcp := Do(t, tlsClient(p.Port, "h3.example.com", server), mustRequest(t, "https://h3.example.com/tcp"))
	if got, want := tcp.Header.Get("alt-svc"), fmt.Sprintf(`h3=":%d"; ma=86400`, p.Port); got != want {
		t.Errorf("alt-svc over TCP: %q, want %q", got, want)
	}

	// Over QUIC, to the same port.
	tr := &http3.Transport{
		TLSClientConfig: &tls.Config{ServerName: "h3.example.com", RootCAs: server.Pool},
		QUICConfig:      &quic.Config{HandshakeIdleTimeout: 5 * time.Second},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, fmt.Sprintf("127.0.0.1:%d", p.Port), tlsCfg, cfg)
		},
	}
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr, Timeout: requestTimeout}
	var resp *http.Response
	// The QUIC listener may take a moment after Envoy reports ready.
	Eventually(t, 10*time.Second, func() error {
		r, err := client.Do(mustRequest(t, "https://h3.example.com/quic"))
		if err != nil {
			return err
		}
		resp = r
		return nil
	})
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e EchoResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &e) != nil {
		t.Fatalf("over QUIC: status %d: %s", resp.StatusCode, body)
	}
	if resp.ProtoMajor != 3 || e.Path != "/quic" || e.Pod != "echo" {
		t.Errorf("over QUIC: protocol %s, backend saw %+v", resp.Proto, e)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
