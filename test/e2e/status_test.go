package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTranslateExitCodeUnknownSectionName: a route whose parentRef names a
// listener the Gateway does not have is not accepted. egctl still prints a
// bootstrap (exit code 1, not 2), names the route on stderr, and the other
// route keeps working while the rejected one serves nothing.
func TestTranslateExitCodeUnknownSectionName(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orphan-route, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: no-such-listener}]
  hostnames: [orphan.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: good-route, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [good.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	stderr := p.Translate.Stderr
	var line string
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(l, "default/orphan-route") {
			line = l
			break
		}
	}
	if line == "" {
		t.Errorf("stderr has no line naming the rejected route default/orphan-route:\n%s", stderr)
	} else if !strings.Contains(line, "no-such-listener") {
		t.Errorf("stderr line for the route does not name the missing sectionName no-such-listener: %q", line)
	}
	if strings.Contains(stderr, "good-route") {
		t.Errorf("stderr mentions the accepted route good-route:\n%s", stderr)
	}
	p.ExpectPod(t, "echo", "good.example.com", "/")
	p.ExpectStatus(t, http.StatusNotFound, "orphan.example.com", "/")
}

// TestTranslateExitCodeUsage: unreadable input is a usage error (exit 2)
// with nothing on stdout that could be mistaken for a bootstrap.
func TestTranslateExitCodeUsage(t *testing.T) {
	t.Parallel()
	dir := WriteManifests(t, "this: is: not: yaml: [\n", nil)
	res, _ := Translate(t, dir, "127.0.0.1:1", "")
	if res.Code != 2 {
		t.Errorf("exit code %d, want 2\n%s", res.Code, res)
	}
	if strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("stdout not empty on a usage error:\n%s", res.Stdout)
	}
	if strings.TrimSpace(res.Stderr) == "" {
		t.Errorf("no explanation on stderr")
	}
}

// TestTranslateGatewaySelection: with two Gateways, --gateway picks the one
// whose bootstrap egctl prints; the other's listener and routes are absent.
func TestTranslateGatewaySelection(t *testing.T) {
	envoyTest(t)
	other := FreePort(t)
	p := DeployWith(t, DeployOptions{Gateway: "default/gw-b"}, `{{ gatewayClass }}---
{{ gateway "gw-a" .OtherPort }}---
{{ gateway "gw-b" .Port }}---
{{ service "a" .A }}---
{{ service "b" .B }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-a, namespace: default}
spec:
  parentRefs: [{name: gw-a}]
  hostnames: [a.example.com]
  rules:
  - backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-b, namespace: default}
spec:
  parentRefs: [{name: gw-b}]
  hostnames: [b.example.com]
  rules:
  - backendRefs: [{name: b, port: 8080}]
`, map[string]any{"OtherPort": other, "A": StartEchoBasic(t, "a").Port, "B": StartEchoBasic(t, "b").Port})

	p.ExpectPod(t, "b", "b.example.com", "/")
	p.ExpectStatus(t, http.StatusNotFound, "a.example.com", "/")
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", other), time.Second); err == nil {
		c.Close()
		t.Errorf("gw-a's listener port %d accepts connections in gw-b's proxy", other)
	}
}

// TestGatewayAllowedRoutesSameNamespace: a listener that allows routes from
// its own namespace only does not take a route from another namespace;
// egctl exits 1 and the route's host is not served.
func TestGatewayAllowedRoutesSameNamespace(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: http
    protocol: HTTP
    port: {{ .Port }}
    allowedRoutes:
      namespaces: {from: Same}
---
{{ service "echo" .Echo }}---
{{ serviceIn "team" "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: outsider, namespace: team}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [team.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: insider, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [home.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})

	p.ExpectPod(t, "echo", "home.example.com", "/")
	p.ExpectStatus(t, http.StatusNotFound, "team.example.com", "/")
	if !strings.Contains(p.Translate.Stderr, "team/outsider") {
		t.Errorf("stderr does not name the rejected route team/outsider:\n%s", p.Translate.Stderr)
	}
}
