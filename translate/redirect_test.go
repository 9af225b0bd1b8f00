package translate

import "testing"

// TestRedirectPortDerivation: without a port in the filter, the scheme's
// well-known port is used when a scheme is given, the listener's port as
// written in the Gateway (not the +10000 bind port) otherwise.
func TestRedirectPortDerivation(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}
  - {name: alt, port: 8080, protocol: HTTP}`)+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com, "*.wild.example.com"]
  rules:
  - matches: [{path: {type: PathPrefix, value: /noscheme}}]
    filters: [{type: RequestRedirect, requestRedirect: {hostname: b.example.com}}]
  - matches: [{path: {type: PathPrefix, value: /https}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
  - matches: [{path: {type: PathPrefix, value: /explicit}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443}}]
`)
	p := proxy(t, res, "infra/gw")
	type want struct {
		port uint32
		host string
	}
	cases := map[string]map[string]want{
		"infra/gw/http/a_example_com": {
			"/noscheme": {80, "b.example.com"},
			"/https":    {443, "a.example.com"}, // exact host written so Envoy drops the client's port
			"/explicit": {8443, ""},
		},
		"infra/gw/alt/a_example_com": {
			"/noscheme": {8080, "b.example.com"},
			"/https":    {443, "a.example.com"},
		},
		"infra/gw/http/*_wild_example_com": {
			"/https": {443, ""}, // no exact host to write
		},
	}
	for vhName, paths := range cases {
		vh := vhost(t, p, vhName)
		for path, w := range paths {
			found := false
			for _, r := range vh.Routes {
				if r.Match.Path != path {
					continue
				}
				found = true
				if r.Redirect == nil {
					t.Fatalf("%s %s: no redirect", vhName, path)
				}
				if r.Redirect.Port != w.port || r.Redirect.Hostname != w.host {
					t.Errorf("%s %s: port %d host %q, want %d %q", vhName, path, r.Redirect.Port, r.Redirect.Hostname, w.port, w.host)
				}
			}
			if !found {
				t.Errorf("%s: no route for %s", vhName, path)
			}
		}
	}
}
