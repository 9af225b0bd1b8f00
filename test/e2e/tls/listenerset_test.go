package tls_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

// TestListenerSet: a ListenerSet from another namespace adds a hostname to
// the Gateway's HTTP port and an HTTPS listener of its own; its routes
// attach through a ListenerSet parentRef. Its listener that repeats the
// Gateway's hostname loses and does not steal the Gateway's traffic.
func TestListenerSet(t *testing.T) {
	ca := e2e.NewCA(t, "CA")
	cert := ca.Issue(t, e2e.ECDSAKey, false, "team.example.com")
	gwBE := startBackend(t, describe("gateway-app"), nil, nil)
	teamBE := startBackend(t, describe("team-app"), nil, nil)
	httpPort, httpsPort := e2e.FreePort(t), e2e.FreePort(t)
	deploy(t, 1, gatewayClass+service("gw-app", "", gwBE.port)+strings.ReplaceAll(service("team-app", "", teamBE.port), "namespace: default", "namespace: team")+
		strings.ReplaceAll(tlsSecret("team-cert", cert), "namespace: default", "namespace: team")+`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  allowedListeners: {namespaces: {from: All}}
  listeners:
  - {name: http, protocol: HTTP, port: {{ .HTTP }}, hostname: gw.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: team}
spec:
  parentRef: {name: gw, namespace: default}
  listeners:
  - {name: plain, protocol: HTTP, port: {{ .HTTP }}, hostname: team.example.com}
  - {name: secure, protocol: HTTPS, port: {{ .HTTPS }}, hostname: team.example.com, tls: {certificateRefs: [{name: team-cert}]}}
  - {name: steal, protocol: HTTP, port: {{ .HTTP }}, hostname: gw.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gw-app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: gw-app, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: team-app, namespace: team}
spec:
  parentRefs:
  - {kind: ListenerSet, name: team, sectionName: plain}
  - {kind: ListenerSet, name: team, sectionName: secure}
  - {kind: ListenerSet, name: team, sectionName: steal}
  rules: [{backendRefs: [{name: team-app, port: 8080}]}]
`, map[string]any{"HTTP": httpPort, "HTTPS": httpsPort})

	plain := plainClient(httpPort)
	for host, want := range map[string]string{"gw.example.com": "gateway-app", "team.example.com": "team-app"} {
		if err := check200(t, plain, "http://"+host+"/", "backend="+want); err != nil {
			t.Errorf("http %s: %v", host, err)
		}
	}
	cfg := &tls.Config{ServerName: "team.example.com", RootCAs: ca.Pool}
	if err := check200(t, httpsClient(httpsPort, cfg), "https://team.example.com/", "backend=team-app"); err != nil {
		t.Errorf("https team.example.com: %v", err)
	}
}
