package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecurityPolicyAuthorizationJWT is Envoy Gateway's JWT claim
// authorization example as written (its remoteJWKS URI pointed at the
// test's key server): defaultAction Deny, one Allow rule on a string
// claim, a StringArray claim and three scopes.
func TestSecurityPolicyAuthorizationJWT(t *testing.T) {
	envoyTest(t)
	iss := newSigner(t, "example")
	keys := startJWKSServer(t, jwks(iss), nil)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "eg" .Port }}---
{{ service "backend" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: ["www.example.com"]
  rules:
  - backendRefs: [{name: backend, port: 8080}]
    matches: [{path: {type: PathPrefix, value: /}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata:
  name: authorization-jwt-claim
  namespace: default
spec:
  targetRefs:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    name: backend
  jwt:
    providers:
    - name: example
      issuer: https://foo.bar.com
      remoteJWKS:
        uri: http://127.0.0.1:{{ .Keys }}/jwks.json
  authorization:
    defaultAction: Deny
    rules:
    - name: "allow"
      action: Allow
      principal:
        jwt:
          provider: example
          scopes: ["read", "add", "modify"]
          claims:
          - name: user.name
            values: ["John Doe"]
          - name: user.roles
            valueType: StringArray
            values: ["admin"]
`, map[string]any{"Echo": StartEchoBasic(t, "backend").Port, "Keys": keys.Port})
	keys.waitFetched(t)

	tok := func(user string, roles []string, scope string) []string {
		c := map[string]any{"iss": "https://foo.bar.com", "user": map[string]any{"name": user, "roles": roles}}
		if scope != "" {
			c["scope"] = scope
		}
		return []string{"Authorization", "Bearer " + iss.token(t, c)}
	}
	Eventually(t, 5*time.Second, func() error {
		if r := p.Get(t, "www.example.com", "/", tok("John Doe", []string{"user", "admin"}, "read add modify delete")...); r.Status != http.StatusOK {
			return fmt.Errorf("allowed token: %s", r)
		}
		return nil
	})
	denied := map[string][]string{
		"no admin role":         tok("John Doe", []string{"user"}, "read add modify"),
		"another user":          tok("Jane Doe", []string{"admin"}, "read add modify"),
		"a scope missing":       tok("John Doe", []string{"admin"}, "read add"),
		"no scope claim":        tok("John Doe", []string{"admin"}, ""),
		"scope as a substring":  tok("John Doe", []string{"admin"}, "read add modify-all"),
		"role string not array": {"Authorization", "Bearer " + iss.token(t, map[string]any{"iss": "https://foo.bar.com", "scope": "read add modify", "user": map[string]any{"name": "John Doe", "roles": "admin-ish"}})},
	}
	for name, h := range denied {
		if r := p.Get(t, "www.example.com", "/", h...); r.Status != http.StatusForbidden {
			t.Errorf("%s: got %s, want 403", name, r)
		}
	}
	// No token at all is an authentication failure.
	p.ExpectStatus(t, http.StatusUnauthorized, "www.example.com", "/")
}

// TestSecurityPolicyAuthorizationRules: client CIDR, header and method
// rules evaluated in order, the first match deciding, the default action
// otherwise; and client CIDR authorization of a TCPRoute.
func TestSecurityPolicyAuthorizationRules(t *testing.T) {
	envoyTest(t)
	tcpBackend := lineEcho(t, "tcp")
	tcpPort := FreePort(t)
	p := DeployWith(t, DeployOptions{}, `{{ gatewayClass }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
  - {name: tcp, protocol: TCP, port: {{ .TCP }}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: tcp-echo, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: {{ .TCPBackend }}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ordered, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [ordered.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: allow-default, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [allow.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: tcp-echo}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: ordered, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ordered}]
  authorization:
    defaultAction: Deny
    rules:
    - name: block-flagged
      action: Deny
      principal:
        headers: [{name: x-flag, values: [blocked, banned]}]
    - name: trusted-host
      action: Allow
      principal:
        clientCIDRs: [127.0.0.2/32, "10.0.0.0/8"]
    - name: admins-read
      action: Allow
      principal:
        headers: [{name: x-role, values: [admin]}]
      operation:
        methods: [GET, HEAD]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: allow-default, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: allow-default}]
  authorization:
    defaultAction: Allow
    rules:
    - action: Deny
      principal: {clientCIDRs: [127.0.0.3/32]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: tcp, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: tcp}]
  authorization:
    defaultAction: Deny
    rules:
    - action: Allow
      principal: {clientCIDRs: [127.0.0.2/32]}
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port, "TCP": tcpPort, "TCPBackend": tcpBackend})
	if err := WaitTCP("127.0.0.1:"+strconv.Itoa(tcpPort), 10*time.Second); err != nil {
		t.Fatal(err)
	}

	do := func(from, method, host string, kv ...string) int {
		t.Helper()
		req := p.NewRequest(t, method, host, "/")
		setHeaders(t, req, kv)
		return Do(t, clientFrom(from), req).Status
	}
	cases := []struct {
		name, from, method, host string
		headers                  []string
		want                     int
	}{
		{"trusted address", "127.0.0.2", "GET", "ordered.example.com", nil, 200},
		{"trusted address, any method", "127.0.0.2", "POST", "ordered.example.com", nil, 200},
		{"first rule wins over the trusted address", "127.0.0.2", "GET", "ordered.example.com", []string{"x-flag", "banned"}, 403},
		{"first rule wins over the admin header", "127.0.0.1", "GET", "ordered.example.com", []string{"x-flag", "blocked", "x-role", "admin"}, 403},
		{"other header value does not match", "127.0.0.2", "GET", "ordered.example.com", []string{"x-flag", "ok"}, 200},
		{"admin reads", "127.0.0.1", "GET", "ordered.example.com", []string{"x-role", "admin"}, 200},
		{"admin writes: method does not match", "127.0.0.1", "DELETE", "ordered.example.com", []string{"x-role", "admin"}, 403},
		{"header values are exact", "127.0.0.1", "GET", "ordered.example.com", []string{"x-role", "Admin"}, 403},
		{"nothing matches: default deny", "127.0.0.1", "GET", "ordered.example.com", nil, 403},
		{"default allow", "127.0.0.1", "GET", "allow.example.com", nil, 200},
		{"denied address", "127.0.0.3", "GET", "allow.example.com", nil, 403},
	}
	for _, c := range cases {
		if got := do(c.from, c.method, c.host, c.headers...); got != c.want {
			t.Errorf("%s (%s %s from %s %v): got %d, want %d", c.name, c.method, c.host, c.from, c.headers, got, c.want)
		}
	}

	tcpAddr := "127.0.0.1:" + strconv.Itoa(tcpPort)
	if got, err := lineFrom("127.0.0.2", tcpAddr, "hello"); err != nil || got != "tcp: hello" {
		t.Errorf("TCP from the allowed address: %q, %v; want the backend's echo", got, err)
	}
	for _, from := range []string{"127.0.0.1", "127.0.0.3"} {
		if got, err := lineFrom(from, tcpAddr, "hello"); err == nil {
			t.Errorf("TCP from %s: got %q, want the connection closed", from, got)
		}
	}
}

// lineEcho serves on loopback: every line read is written back prefixed
// by "name: ".
func lineEcho(t *testing.T, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeConns(t, l, 10*time.Second, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, name+": "+line); err != nil {
				return
			}
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// lineFrom sends one line to addr from the local address from and reads
// the answer line.
func lineFrom(from, addr, line string) (string, error) {
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}
