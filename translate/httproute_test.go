package translate

import (
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/ir"
)

func oneRoute(spec string) string {
	return gwYAML(`  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}`) + svcYAML + `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
` + spec
}

func TestRouteStatusReasons(t *testing.T) {
	tests := []struct {
		name, spec         string
		accepted, resolved string // "Status/Reason"
		msg                string // substring of the failing message
	}{
		{"ok", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]`, "True/Accepted", "True/ResolvedRefs", ""},
		{"section not found", `  parentRefs: [{name: gw, sectionName: nope}]
  rules: [{backendRefs: [{name: web, port: 80}]}]`, "False/NoMatchingParent", "True/ResolvedRefs", "listener nope"},
		{"port not found", `  parentRefs: [{name: gw, port: 8080}]
  rules: [{backendRefs: [{name: web, port: 80}]}]`, "False/NoMatchingParent", "True/ResolvedRefs", "port 8080"},
		{"hostname", `  parentRefs: [{name: gw}]
  hostnames: [example.net]
  rules: [{backendRefs: [{name: web, port: 80}]}]`, "False/NoMatchingListenerHostname", "True/ResolvedRefs", ""},
		{"not found", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: nope, port: 80}]}]`, "True/Accepted", "False/BackendNotFound", "Service infra/nope not found"},
		{"no such port", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 81}]}]`, "True/Accepted", "False/BackendNotFound", "no port 81"},
		{"kind", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{group: example.com, kind: Bucket, name: b}]}]`, "True/Accepted", "False/InvalidKind", "example.com/Bucket"},
		{"cross ns without grant", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, namespace: app, port: 80}]}]`, "True/Accepted", "False/RefNotPermitted", "Service app/web"},
		{"unsupported appProtocol", `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: secure, port: 443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: infra}
spec:
  clusterIP: 10.96.0.9
  ports: [{name: https, port: 443, appProtocol: kubernetes.io/wss}]`, "True/Accepted", "False/UnsupportedProtocol", "kubernetes.io/wss"},
		{"extensionRef", `  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: t}}]
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "ExtensionRef filter example.com/Thing t is not supported"},
		{"externalAuth", `  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: ExternalAuth, externalAuth: {protocol: HTTP, backendRef: {name: web, port: 80}}}]
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "ExternalAuth"},
		{"session persistence", `  parentRefs: [{name: gw}]
  rules:
  - sessionPersistence: {sessionName: s, absoluteTimeout: 1h}
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "absoluteTimeout with a Session cookie"},
		{"redirect and rewrite", `  parentRefs: [{name: gw}]
  rules:
  - filters:
    - {type: RequestRedirect, requestRedirect: {hostname: a.example.com}}
    - {type: URLRewrite, urlRewrite: {hostname: b.example.com}}`, "False/IncompatibleFilters", "True/ResolvedRefs", "RequestRedirect and URLRewrite"},
		{"prefix replace needs prefix", `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: Exact, value: /a}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "ReplacePrefixMatch needs PathPrefix"},
		{"bad regex", `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/(a"}}]
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "rules[0].matches[0]"},
		{"timeouts", `  parentRefs: [{name: gw}]
  rules:
  - timeouts: {request: 1s, backendRequest: 2s}
    backendRefs: [{name: web, port: 80}]`, "False/UnsupportedValue", "True/ResolvedRefs", "backendRequest 2s exceeds request 1s"},
		{"backendRef filter", `  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - name: web
      port: 80
      filters: [{type: RequestRedirect, requestRedirect: {hostname: a.example.com}}]`, "False/UnsupportedValue", "True/ResolvedRefs", "not supported on a backendRef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, oneRoute(tt.spec))
			pc := parentConds(t, routeOut(t, res, "infra", "r"))
			a, rr := cond(t, pc, "Accepted"), cond(t, pc, "ResolvedRefs")
			if got := string(a.Status) + "/" + a.Reason; got != tt.accepted {
				t.Errorf("Accepted = %s (%s), want %s", got, a.Message, tt.accepted)
			}
			if got := string(rr.Status) + "/" + rr.Reason; got != tt.resolved {
				t.Errorf("ResolvedRefs = %s (%s), want %s", got, rr.Message, tt.resolved)
			}
			if tt.msg != "" && !strings.Contains(a.Message+rr.Message, tt.msg) {
				t.Errorf("messages %q / %q lack %q", a.Message, rr.Message, tt.msg)
			}
			wantProblems := 0
			if a.Status != "True" {
				wantProblems++
			}
			if rr.Status != "True" {
				wantProblems++
			}
			if len(res.Problems) != wantProblems {
				t.Errorf("problems = %v, want %d", res.Problems, wantProblems)
			}
			for _, p := range res.Problems {
				if p.Key.Kind != "HTTPRoute" || p.Key.Name != "r" {
					t.Errorf("problem on unexpected object: %v", p)
				}
			}
		})
	}
}

// Every route that is attached but cannot be programmed faithfully answers
// 500 for its traffic instead of being dropped or opened up.
func TestFailClosed(t *testing.T) {
	tests := []struct {
		name, rules   string
		direct500     bool
		invalidWeight uint32
		backends      int
	}{
		{"unsupported filter", `  - filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: t}}]
    backendRefs: [{name: web, port: 80}]`, true, 0, 0},
		{"invalid backend keeps its share", `  - backendRefs: [{name: web, port: 80, weight: 3}, {name: nope, port: 80, weight: 1}]`, false, 1, 1},
		{"all weights zero", `  - backendRefs: [{name: web, port: 80, weight: 0}]`, true, 0, 0},
		{"no backendRefs", `  - matches: [{path: {value: /x}}]`, true, 0, 0},
		{"only invalid backends", `  - backendRefs: [{name: nope, port: 80}]`, true, 0, 0},
		{"zero-weight backend dropped", `  - backendRefs: [{name: web, port: 80, weight: 0}, {name: web, namespace: infra, port: 80, weight: 5}]`, false, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, oneRoute("  parentRefs: [{name: gw}]\n  rules:\n"+tt.rules))
			v := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*_example_com")
			if len(v.Routes) != 1 {
				t.Fatalf("routes = %d", len(v.Routes))
			}
			r := v.Routes[0]
			if tt.direct500 {
				if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 || r.Destination != nil || r.Redirect != nil {
					t.Fatalf("want direct 500, got %+v", r)
				}
				return
			}
			if r.Destination == nil || r.Destination.InvalidWeight != tt.invalidWeight || len(r.Destination.Backends) != tt.backends {
				t.Fatalf("destination = %+v", r.Destination)
			}
		})
	}
}

func TestCrossNamespaceBackendWithGrant(t *testing.T) {
	grant := func(name string) string {
		return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: g, namespace: app}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service` + name + `}]
`
	}
	spec := `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, namespace: app, port: 80}]}]`
	for name, tc := range map[string]struct {
		grant, want string
	}{
		"any name":   {grant(""), "True"},
		"named":      {grant(", name: web"), "True"},
		"other name": {grant(", name: api"), "False"},
		"none":       {"", "False"},
	} {
		t.Run(name, func(t *testing.T) {
			res := run(t, oneRoute(spec)+tc.grant)
			rr := cond(t, parentConds(t, routeOut(t, res, "infra", "r")), "ResolvedRefs")
			if string(rr.Status) != tc.want {
				t.Fatalf("ResolvedRefs = %s %s", rr.Status, rr.Message)
			}
			d := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*_example_com").Routes[0]
			if (tc.want == "True") != (d.Destination != nil) {
				t.Fatalf("route = %+v", d)
			}
			if d.Destination != nil && d.Destination.Backends[0].Endpoints[0].Host != "10.96.0.2" {
				t.Fatalf("resolved the wrong Service: %+v", d.Destination.Backends[0])
			}
		})
	}
}

func TestCrossNamespaceParentRef(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+svcYAML+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`)
	wantCond(t, parentConds(t, routeOut(t, res, "app", "r")), "Accepted", "False", "NotAllowedByListeners")
	if n := len(proxy(t, res, "infra/gw").HTTP[0].VirtualHosts); n != 0 {
		t.Fatalf("a rejected route produced %d virtual hosts", n)
	}
}

func TestFiltersAndRuleSettings(t *testing.T) {
	res := run(t, oneRoute(`  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /a}, headers: [{name: X-One, value: "1"}, {name: x-one, value: "2"}], queryParams: [{name: q, type: RegularExpression, value: "^v[0-9]$"}], method: POST}]
    filters:
    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: b}], add: [{name: c, value: d}], remove: [e]}}
    - {type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: f, value: g}]}}
    - {type: URLRewrite, urlRewrite: {hostname: up.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: web, port: 80}, percent: 25}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: web, port: 80}, fraction: {numerator: 1, denominator: 3}}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: missing, port: 80}}}
    - {type: CORS, cors: {allowOrigins: ["https://*.example.com"], allowMethods: [GET], maxAge: 60, allowCredentials: true}}
    backendRefs:
    - name: web
      port: 80
      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: to, value: web}]}}]
    timeouts: {request: 10s, backendRequest: 2s}
    retry: {codes: [503], attempts: 3, backoff: 100ms}
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /new}}}]
  - matches: [{path: {type: Exact, value: /t}}]
    timeouts: {request: 0s}
    retry: {}
    backendRefs: [{name: web, port: 80}]`))
	v := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*_example_com")
	byName := map[string]*ir.HTTPRoute{}
	for _, r := range v.Routes {
		byName[r.Name] = r
	}
	r := byName["httproute/infra/r/rule/0/match/0/*_example_com"]
	if r == nil {
		t.Fatalf("routes: %v", routeNames(v))
	}
	m := r.Match
	if len(m.Headers) != 1 || m.Headers[0] != (ir.StringMatch{Name: "x-one", Type: ir.MatchExact, Value: "1"}) ||
		len(m.QueryParams) != 1 || m.QueryParams[0].Type != ir.MatchRegex || m.Method != "POST" {
		t.Fatalf("match = %+v", m)
	}
	if r.RequestHeaders == nil || r.RequestHeaders.Set[0].Name != "a" || r.RequestHeaders.Add[0].Value != "d" || r.RequestHeaders.Remove[0] != "e" ||
		r.ResponseHeaders == nil || r.ResponseHeaders.Set[0].Name != "f" {
		t.Fatalf("header modifiers = %+v %+v", r.RequestHeaders, r.ResponseHeaders)
	}
	if r.URLRewrite == nil || r.URLRewrite.Hostname != "up.example.com" || *r.URLRewrite.Path != (ir.PathModifier{Type: ir.PrefixMatchReplace, Value: "/b"}) {
		t.Fatalf("rewrite = %+v", r.URLRewrite)
	}
	if len(r.Mirrors) != 2 || r.Mirrors[0].Numerator != 25 || r.Mirrors[0].Denominator != 100 ||
		r.Mirrors[1].Numerator != 1 || r.Mirrors[1].Denominator != 3 ||
		r.Mirrors[0].Destination.Name != "httproute/infra/r/rule/0-mirror-3" ||
		r.Mirrors[1].Destination.Backends[0].Name != "httproute/infra/r/rule/0-mirror-4/backend/-1" {
		t.Fatalf("mirrors = %+v", r.Mirrors)
	}
	if c := r.CORS; c == nil || c.MaxAge != time.Minute || !c.AllowCredentials || c.AllowOrigins[0] != "https://*.example.com" {
		t.Fatalf("cors = %+v", r.CORS)
	}
	if b := r.Destination.Backends[0]; b.RequestHeaders == nil || b.RequestHeaders.Set[0].Value != "web" {
		t.Fatalf("backend filter = %+v", b)
	}
	if *r.Timeout != (ir.Timeout{Request: 10 * time.Second, BackendRequest: 2 * time.Second}) {
		t.Fatalf("timeout = %+v", r.Timeout)
	}
	if r.Retry == nil || r.Retry.Attempts != 3 || r.Retry.Codes[0] != 503 || r.Retry.Backoff != 100*time.Millisecond {
		t.Fatalf("retry = %+v", r.Retry)
	}
	red := byName["httproute/infra/r/rule/1/match/0/*_example_com"].Redirect
	if red == nil || red.Scheme != "https" || red.Port != 8443 || red.StatusCode != 301 || red.Path.Type != ir.FullPathReplace || red.Path.Value != "/new" {
		t.Fatalf("redirect = %+v", red)
	}
	tr := byName["httproute/infra/r/rule/2/match/0/*_example_com"]
	if !tr.Timeout.RequestDisabled || tr.Retry.Attempts != 2 {
		t.Fatalf("rule 2 = %+v %+v", tr.Timeout, tr.Retry)
	}
	// The missing mirror backend is reported but does not fail the route.
	pc := parentConds(t, routeOut(t, res, "infra", "r"))
	wantCond(t, pc, "Accepted", "True", "Accepted")
	wantCond(t, pc, "ResolvedRefs", "False", "BackendNotFound")
}

func TestEnvoyGatewayBackend(t *testing.T) {
	res := run(t, oneRoute(`  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: ips}
    - {group: gateway.envoyproxy.io, kind: Backend, name: dns}
    - {group: gateway.envoyproxy.io, kind: Backend, name: sock}
    - {group: gateway.envoyproxy.io, kind: Backend, name: mixed}
`)+`
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: ips, namespace: infra}
spec:
  appProtocols: [gateway.envoyproxy.io/h2c]
  endpoints: [{ip: {address: 10.1.0.2, port: 8080}}, {ip: {address: 10.1.0.1, port: 8080}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: dns, namespace: infra}
spec:
  endpoints: [{fqdn: {hostname: api.example.org, port: 443}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: sock, namespace: infra}
spec:
  endpoints: [{unix: {path: /var/run/app.sock}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: mixed, namespace: infra}
spec:
  endpoints: [{unix: {path: /x.sock}}, {fqdn: {hostname: a.example.org, port: 1}}]
`)
	d := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*_example_com").Routes[0].Destination
	if len(d.Backends) != 3 || d.InvalidWeight != 1 {
		t.Fatalf("destination = %+v", d)
	}
	ips, dns, sock := d.Backends[0], d.Backends[1], d.Backends[2]
	if ips.AddressType != ir.AddressIP || ips.Protocol != ir.ProtocolHTTP2 || ips.Endpoints[0].Host != "10.1.0.1" || ips.Metadata.Kind != "Backend" {
		t.Fatalf("ips = %+v", ips)
	}
	if dns.AddressType != ir.AddressFQDN || dns.Endpoints[0] != (ir.Endpoint{Host: "api.example.org", Port: 443}) {
		t.Fatalf("dns = %+v", dns)
	}
	if sock.AddressType != ir.AddressUnix || sock.Endpoints[0].Host != "/var/run/app.sock" || sock.Name != "httproute/infra/r/rule/0/backend/2" {
		t.Fatalf("sock = %+v", sock)
	}
	for _, be := range res.Status.Backends {
		want := "True"
		if be.Name == "mixed" {
			want = "False"
		}
		if c := cond(t, be.Status.Conditions, "Accepted"); string(c.Status) != want {
			t.Errorf("Backend %s Accepted = %s (%s)", be.Name, c.Status, c.Message)
		}
	}
}
