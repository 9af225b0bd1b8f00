package translatecmd_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docsBase is what the examples of docs/ratelimit.md attach to.
const docsBase = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
`

// TestRateLimitDocsExamples compiles every YAML example of
// docs/ratelimit.md: each is accepted and produces the limits it shows.
func TestRateLimitDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ratelimit.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 2 {
		t.Fatalf("want the local and the global example, found %d YAML blocks", len(blocks))
	}
	for i, b := range blocks {
		path := filepath.Join(t.TempDir(), "in.yaml")
		if err := os.WriteFile(path, []byte(docsBase+"---\n"+b[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		out, stderr, code := runEgctl("x", "translate", "-f", path, "--to", "xds,ratelimit", "-t", "route")
		if code != 0 {
			t.Fatalf("example %d: exit %d:\n%s", i+1, code, stderr)
		}
		want := "envoy.filters.http.local_ratelimit"
		if strings.Contains(b[1], "global:") {
			want = "envoy.filters.http.ratelimit"
		}
		if !strings.Contains(out, want) {
			t.Fatalf("example %d: no %s in the routes:\n%s", i+1, want, out)
		}
	}
}
