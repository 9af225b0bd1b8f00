package translate

import (
	"reflect"
	"testing"
)

// Routes are written in deliberately scrambled order; the virtual host must
// list them in Gateway API precedence order.
func TestPrecedence(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+svcYAML+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b-young, namespace: infra, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    - path: {type: PathPrefix, value: /api}
    - path: {type: PathPrefix, value: /api}
      method: GET
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x, value: "1"}]
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x, value: "1"}, {name: y, value: "2"}]
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x, value: "1"}]
      queryParams: [{name: q, value: "1"}]
    - path: {type: RegularExpression, value: /a.*}
    - path: {type: RegularExpression, value: /abcd.*}
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-old, namespace: infra, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: Exact, value: /x}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-same, namespace: infra, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 80}]
`)
	v := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*")
	want := []string{
		"httproute/infra/a-old/rule/1/match/0/*",   // Exact
		"httproute/infra/b-young/rule/0/match/7/*", // regex "/abcd.*", 7 chars, beats 4-char prefixes
		"httproute/infra/b-young/rule/0/match/2/*", // /api + method
		"httproute/infra/b-young/rule/0/match/4/*", // /api + 2 headers
		"httproute/infra/b-young/rule/0/match/5/*", // /api + 1 header + 1 query
		"httproute/infra/b-young/rule/0/match/3/*", // /api + 1 header
		"httproute/infra/a-old/rule/0/match/0/*",   // /api, oldest route
		"httproute/infra/a-same/rule/0/match/0/*",  // /api, same age, a-same < b-young
		"httproute/infra/b-young/rule/0/match/1/*",
		"httproute/infra/b-young/rule/0/match/6/*", // regex "/a.*" (4 chars) after prefix "/api" (4 chars)
		"httproute/infra/b-young/rule/0/match/0/*", // "/"
	}
	if got := routeNames(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("order:\n got %q\nwant %q", got, want)
	}
}

// A request for foo.example.com picks the foo.example.com virtual host, so
// routes attached through the catch-all and through *.example.com must be
// there too, after the exact host's own routes.
func TestHostnamePrecedenceAcrossVirtualHosts(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+svcYAML+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: any, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: Exact, value: /long/exact/path}}], backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: foo, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["foo.example.com"]
  rules: [{matches: [{path: {type: PathPrefix, value: /foo}}], backendRefs: [{name: web, port: 80}]}]
`)
	p := proxy(t, res, "infra/gw")
	if n := len(p.HTTP[0].VirtualHosts); n != 3 {
		t.Fatalf("virtual hosts = %d, want 3", n)
	}
	got := routeNames(vhost(t, p, "infra/gw/http/foo_example_com"))
	want := []string{
		"httproute/infra/foo/rule/0/match/0/foo_example_com",
		"httproute/infra/wild/rule/0/match/0/foo_example_com",
		"httproute/infra/any/rule/0/match/0/foo_example_com",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("foo vhost:\n got %q\nwant %q", got, want)
	}
	got = routeNames(vhost(t, p, "infra/gw/http/*_example_com"))
	want = []string{"httproute/infra/wild/rule/0/match/0/*_example_com", "httproute/infra/any/rule/0/match/0/*_example_com"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wildcard vhost:\n got %q\nwant %q", got, want)
	}
}
