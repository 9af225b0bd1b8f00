package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawBackend is an HTTP/1.1 server that keeps every request's header block
// byte for byte (net/http would canonicalise the names) and answers with
// mixed-case response headers and a chunked body ending in a trailer.
type rawBackend struct {
	Port int
	mu   sync.Mutex
	reqs []string
}

func startRawBackend(t *testing.T) *rawBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{Port: l.Addr().(*net.TCPAddr).Port}
	ServeConns(t, l, 30*time.Second, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				head.WriteString(line)
				if line == "\r\n" {
					break
				}
			}
			b.mu.Lock()
			b.reqs = append(b.reqs, head.String())
			b.mu.Unlock()
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Resp-MiXeD: yes\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"+
				"2\r\nok\r\n0\r\nX-Trailer: done\r\n\r\n"); err != nil {
				return
			}
		}
	})
	return b
}

// last returns the header block of the last request received.
func (b *rawBackend) last(t *testing.T) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatal("the backend received no request")
	}
	return b.reqs[len(b.reqs)-1]
}

// TestClientTrafficHTTP1: HTTP/1.0 is refused by default and accepted with
// http1.http10 (a request without Host gets the listener's default host);
// header case is preserved both ways with preserveHeaderCase and lowered
// without; trailers pass with enableTrailers only. Each listener has its own
// route, so its own backend cluster (see TestClientTrafficSharedCluster).
func TestClientTrafficHTTP1(t *testing.T) {
	envoyTest(t)
	be := startRawBackend(t)
	names := []string{"plain", "h1"}
	ports := []int{FreePort(t), FreePort(t)}
	manifests := "{{ gatewayClass }}---\n" + ctpGateway(names, ports) + `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: raw, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .Raw }}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: plain}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: raw}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: h1, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: h1}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: raw}]
---
` + ctpPolicy("h1", "h1", `http1:
  http10: {useDefaultHost: true}
  preserveHeaderCase: true
  enableTrailers: true
`)
	StartProxy(t, DeployOptions{}, RenderManifests(t, manifests, map[string]any{"Raw": be.Port}), ports...)
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }

	// HTTP/1.0 without a Host header.
	if status, _ := rawExchange(t, addr(0), "GET /old HTTP/1.0\r\n\r\n"); status != http.StatusUpgradeRequired {
		t.Errorf("no policy: HTTP/1.0 request answered %d, want 426", status)
	}
	if status, body := rawExchange(t, addr(1), "GET /old HTTP/1.0\r\n\r\n"); status != http.StatusOK {
		t.Errorf("http10: HTTP/1.0 request answered %d, want 200: %s", status, body)
	} else if h := be.last(t); !strings.Contains(strings.ToLower(h), "host: www.example.com\r\n") {
		t.Errorf("http10 useDefaultHost: backend saw no Host www.example.com:\n%s", h)
	}

	// Header case and trailers.
	req := "GET /case HTTP/1.1\r\nHost: www.example.com\r\nX-MiXeD-CaSe: v\r\nTE: trailers\r\nConnection: close\r\n\r\n"
	for i, preserve := range []bool{false, true} {
		c := dial(t, addr(i))
		_ = c.SetDeadline(time.Now().Add(requestTimeout))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(c)
		if err != nil && !isReset(err) {
			t.Fatalf("%s: reading the response: %v", names[i], err)
		}
		h := be.last(t)
		if got := strings.Contains(h, "X-MiXeD-CaSe: v\r\n"); got != preserve {
			t.Errorf("%s: backend received the header name as sent: %v, want %v:\n%s", names[i], got, preserve, h)
		}
		if !preserve && !strings.Contains(h, "x-mixed-case: v\r\n") {
			t.Errorf("%s: backend did not receive x-mixed-case:\n%s", names[i], h)
		}
		if got := bytes.Contains(raw, []byte("X-Resp-MiXeD: yes\r\n")); got != preserve {
			t.Errorf("%s: client received the response header as the backend wrote it: %v, want %v:\n%s", names[i], got, preserve, raw)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", names[i], err, raw)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatalf("%s: body: %v", names[i], err)
		}
		if got := resp.Trailer.Get("X-Trailer"); (got == "done") != preserve {
			t.Errorf("%s: client received trailer X-Trailer %q; want it only with enableTrailers:\n%s", names[i], got, raw)
		}
	}
}
