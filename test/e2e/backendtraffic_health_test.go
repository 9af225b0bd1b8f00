package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBackendTrafficHealth: a failing endpoint is taken out of rotation by
// active health checks and by passive outlier detection (and by nothing
// when no check is asked for), and the PROXY protocol header reaches the
// upstream of an HTTP and of a TCP route.
func TestBackendTrafficHealth(t *testing.T) {
	envoyTest(t)
	// Active: "sick" fails its health endpoint but serves requests, so
	// only the health check can tell.
	active := startPool(t, "active", 2, func(name string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/healthz" {
				if name == "active1" {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				return true
			}
			return false
		}
	})
	// Passive: "passive1" answers every request 500.
	passive := startPool(t, "passive", 2, func(name string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if name == "passive1" {
				w.WriteHeader(http.StatusInternalServerError)
				return true
			}
			return false
		}
	})
	ppHTTP := startProxyProtocolHTTP(t)
	ppTCP := startProxyProtocolEcho(t)
	tcpPort := FreePort(t)
	port := FreePort(t)
	checkedPort := FreePort(t)
	manifests := RenderManifests(t, `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
  - {name: tcp, protocol: TCP, port: {{ .TCPPort }}}
  - {name: checked, protocol: HTTP, port: {{ .CheckedPort }}}
---
`+poolBackendYAML("active", active)+`---
`+poolBackendYAML("passive", passive)+`---
{{ backend "pp-http" .PPHTTP }}---
{{ backend "pp-tcp" .PPTCP }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [health.example.com]
  rules:
  - name: active
    matches: [{path: {type: PathPrefix, value: /active}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: active}]
  - name: passive
    matches: [{path: {type: PathPrefix, value: /passive}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: passive}]
  - name: unchecked
    matches: [{path: {type: PathPrefix, value: /unchecked}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: passive}]
  - name: proxy-protocol
    matches: [{path: {type: PathPrefix, value: /pp}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: pp-http}]
---
# One rule through two listeners, only one of which checks health: the
# rule's cluster is split, and each listener gets what its policy says.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}, {name: gw, sectionName: checked}]
  hostnames: [split.example.com]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: active}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: checked-listener, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: checked}]
  loadBalancer: {type: RoundRobin}
  healthCheck:
    active: {type: HTTP, interval: 200ms, timeout: 150ms, unhealthyThreshold: 1, healthyThreshold: 1, http: {path: /healthz}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: pp, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: pp-tcp}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: active, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: health, sectionName: active}]
  healthCheck:
    active:
      type: HTTP
      interval: 200ms
      timeout: 150ms
      unhealthyThreshold: 1
      healthyThreshold: 1
      http: {path: /healthz}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: passive, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: health, sectionName: passive}]
  loadBalancer: {type: RoundRobin}
  healthCheck:
    passive: {consecutive5XxErrors: 2, maxEjectionPercent: 50, baseEjectionTime: 60s}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: unchecked, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: health, sectionName: unchecked}]
  loadBalancer: {type: RoundRobin}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: pp-http, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: health, sectionName: proxy-protocol}]
  proxyProtocol: {version: V2}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: pp-tcp, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: pp}]
  proxyProtocol: {version: V1}
`, map[string]any{"Port": port, "TCPPort": tcpPort, "CheckedPort": checkedPort, "PPHTTP": ppHTTP, "PPTCP": ppTCP})
	p := StartProxy(t, DeployOptions{}, manifests, port, tcpPort, checkedPort)

	t.Run("active health check takes the failing endpoint out", func(t *testing.T) {
		Eventually(t, 10*time.Second, func() error {
			for i := range 20 {
				if got := p.served(t, "health.example.com", "/active"); got != "active0" {
					return fmt.Errorf("request %d went to %s", i, got)
				}
			}
			return nil
		})
		// The probes carry the route's hostname as Host.
		active[1].WaitHits(t, 1, 5*time.Second, func(h Hit) bool { return h.Path == "/healthz" && h.Host == "health.example.com" })
	})

	t.Run("a rule reached through listeners with different checks gets a cluster each", func(t *testing.T) {
		checked := &Proxy{Envoy: p.Envoy, Port: checkedPort}
		Eventually(t, 10*time.Second, func() error {
			for i := range 10 {
				if got := checked.served(t, "split.example.com", "/"); got != "active0" {
					return fmt.Errorf("request %d through the checked listener went to %s", i, got)
				}
			}
			return nil
		})
		// The unchecked listener still balances over both endpoints
		// (least request over two: missing one in 40 requests is ~1e-12).
		seen := map[string]bool{}
		for range 40 {
			seen[p.served(t, "split.example.com", "/")] = true
		}
		if !seen["active1"] {
			t.Errorf("the listener without a health check lost active1: %v", seen)
		}
	})

	t.Run("passive health check ejects the endpoint after 2 consecutive 5xx", func(t *testing.T) {
		var failures int
		for range 4 {
			switch r := p.Get(t, "health.example.com", "/passive"); r.Status {
			case http.StatusOK:
			case http.StatusInternalServerError:
				failures++
			default:
				t.Fatalf("unexpected %s", r)
			}
		}
		if failures != 2 {
			t.Fatalf("%d failures in the first 4 round-robin requests, want 2", failures)
		}
		// The detector runs on Envoy's main thread: the ejection reaches
		// the worker a moment after the second failure.
		flag := fmt.Sprintf("health/rule/1::127.0.0.1:%d::health_flags::/failed_outlier_check", passive[1].Port)
		Eventually(t, 5*time.Second, func() error {
			if !strings.Contains(p.Admin(t, "/clusters"), flag) {
				return fmt.Errorf("passive1 not ejected (no %s)", flag)
			}
			return nil
		})
		for i := range 20 {
			if got := p.served(t, "health.example.com", "/passive"); got != "passive0" {
				t.Fatalf("request %d after ejection went to %s", i, got)
			}
		}
	})

	t.Run("without a health check the failing endpoint keeps its share", func(t *testing.T) {
		var failures int
		for range 20 {
			if p.Get(t, "health.example.com", "/unchecked").Status == http.StatusInternalServerError {
				failures++
			}
		}
		if failures != 10 {
			t.Errorf("%d of 20 round-robin requests failed, want 10: outlier detection is off unless asked for", failures)
		}
	})

	t.Run("proxyProtocol V2 precedes the HTTP request upstream", func(t *testing.T) {
		r := p.ExpectStatus(t, http.StatusOK, "health.example.com", "/pp")
		if !strings.HasPrefix(string(r.Body), "PROXY v2 from 127.0.0.1:") {
			t.Errorf("backend saw: %s", r.Body)
		}
	})

	t.Run("proxyProtocol V1 precedes the TCP stream upstream", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(tcpPort), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "hello\n"); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(c)
		header, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(header, "PROXY TCP4 127.0.0.1 127.0.0.1 ") {
			t.Errorf("upstream saw %q first, want a PROXY v1 header", header)
		}
		if echo, _ := rd.ReadString('\n'); echo != "hello\n" {
			t.Errorf("echo %q", echo)
		}
	})
}

// proxyV2Sig starts every PROXY protocol v2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// startProxyProtocolHTTP serves one HTTP/1.1 answer per connection after a
// PROXY v2 header, telling the source address the header carried. It is
// written by hand: net/http knows no PROXY protocol.
func startProxyProtocolHTTP(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeConns(t, l, 10*time.Second, func(c net.Conn) {
		rd := bufio.NewReader(c)
		head := make([]byte, 16)
		if _, err := io.ReadFull(rd, head); err != nil || !bytes.Equal(head[:12], proxyV2Sig) {
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		addr := make([]byte, int(head[14])<<8|int(head[15]))
		if _, err := io.ReadFull(rd, addr); err != nil || head[13]&0xf0 != 0x10 || len(addr) < 12 {
			return
		}
		body := fmt.Sprintf("PROXY v2 from %s:%d", net.IP(addr[0:4]), int(addr[8])<<8|int(addr[9]))
		for {
			req, err := http.ReadRequest(rd)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// startProxyProtocolEcho sends back the PROXY v1 line a connection starts
// with, then echoes the stream.
func startProxyProtocolEcho(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeConns(t, l, 10*time.Second, func(c net.Conn) {
		rd := bufio.NewReader(c)
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, strings.TrimSuffix(line, "\r\n")+"\n")
		_, _ = io.Copy(c, rd)
	})
	return l.Addr().(*net.TCPAddr).Port
}
