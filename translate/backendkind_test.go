package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

// beRoute is a Gateway, and an HTTPRoute infra/r whose one rule sends to
// the Backends (and Services) of refs (backendRef YAML, one per line).
func beRoute(backends, refs string) string {
	return gwYAML(`  - {name: http, protocol: HTTP, port: 80}`) + svcYAML + backends + `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
` + refs
}

func backendStatus(t *testing.T, res *Result, name string) (bool, string) {
	t.Helper()
	for _, be := range res.Status.Backends {
		if be.Name == name {
			c := cond(t, be.Status.Conditions, "Accepted")
			return c.Status == "True", c.Message
		}
	}
	t.Fatalf("no Backend %s in status", name)
	return false, ""
}

// TestBackendFieldsRefused: every field egctl cannot honour makes the
// Backend Accepted=False with its field path, and its share of a rule a
// fail-closed 500.
func TestBackendFieldsRefused(t *testing.T) {
	for _, tc := range []struct{ spec, msg string }{
		{`type: DynamicResolver`, "spec.type"},
		{`endpoints: [{ip: {address: "fe80::1%eth0", port: 80}}]`, "spec.endpoints[0].ip.address"},
		{`endpoints: [{fqdn: {hostname: "10.0.0.1", port: 80}}]`, "is an IP address; use ip"},
		{`endpoints: [{unix: {path: "` + strings.Repeat("x", 109) + `"}}]`, "unix.path must have 1 to 108"},
		{`endpoints: [{hostname: "Not_A_Name", ip: {address: 10.0.0.1, port: 80}}]`, "spec.endpoints[0].hostname"},
		{`endpoints: [{ip: {address: 10.0.0.1, port: 80}}, {fqdn: {hostname: a.example.com, port: 80}}]`, "mixes DNS names with IP addresses"},
		{`{appProtocols: [gateway.envoyproxy.io/ws], endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, sni: a.b, alpnProtocols: [h2]}}`, "WebSocket (appProtocols) needs HTTP/1.1"},
		{`{appProtocols: [gateway.envoyproxy.io/h2c], endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, sni: a.b, alpnProtocols: [http/1.1]}}`, "does not offer h2"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: Other}}`, `wellKnownCACertificates "Other"`},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {insecureSkipVerify: true, wellKnownCACertificates: System}}`, "insecureSkipVerify cannot be combined"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {autoSNIFromEndpointHostname: true, wellKnownCACertificates: System}}`, "has no hostname to send"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, minVersion: "1.3", maxVersion: "1.2"}}`, "minVersion 1.3 is above maxVersion 1.2"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, ecdhCurves: [P-999]}}`, "ecdhCurves[0]"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, signatureAlgorithms: [md5]}}`, "signatureAlgorithms[0]"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {caCertificateRefs: [{group: "", kind: ConfigMap, name: none}]}}`, "caCertificateRefs[0]: ConfigMap infra/none not found"},
		{`{endpoints: [{ip: {address: 10.0.0.1, port: 80}}], tls: {wellKnownCACertificates: System, clientCertificateRef: {name: none}}}`, "clientCertificateRef: Secret infra/none not found"},
	} {
		spec := tc.spec
		if !strings.HasPrefix(spec, "{") {
			spec = "{" + spec + "}"
		}
		res := run(t, beRoute(`
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: infra}
spec: `+spec+"\n---\n", `    - {group: gateway.envoyproxy.io, kind: Backend, name: be, port: 80}
    - {name: web, port: 80}`))
		ok, msg := backendStatus(t, res, "be")
		if ok || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: Accepted=%v %q, want False naming %q", tc.spec, ok, msg, tc.msg)
			continue
		}
		d := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*").Routes[0].Destination
		if d == nil || d.InvalidWeight != 1 || len(d.Backends) != 1 {
			t.Errorf("%s: destination %+v, want the Service plus a fail-closed share", tc.spec, d)
		}
	}
}

// TestBackendTLSMerge: a BackendTLSPolicy on a Backend with spec.tls wins
// on the name and validation; the Backend keeps its parameters. The merged
// value is shared by every route that uses the Backend.
func TestBackendTLSMerge(t *testing.T) {
	res := run(t, beRoute(`
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: infra}
spec:
  endpoints: [{ip: {address: 10.0.0.1, port: 443}}]
  tls: {insecureSkipVerify: true, sni: own.internal, minVersion: "1.2", alpnProtocols: [http/1.1]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: p, namespace: infra}
spec:
  targetRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
  validation: {wellKnownCACertificates: System, hostname: policy.internal}
---
`, `    - {group: gateway.envoyproxy.io, kind: Backend, name: be, port: 443}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r2, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [two.example.com]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be, port: 443}]}]
`))
	p := proxy(t, res, "infra/gw")
	a := vhost(t, p, "infra/gw/http/*").Routes[0].Destination.Backends[0].TLS
	b := vhost(t, p, "infra/gw/http/two_example_com").Routes[0].Destination.Backends[0].TLS
	want := ir.BackendTLS{SNI: "policy.internal", UseSystemCA: true, CAName: ir.SystemCASecret, MinVersion: "1.2", ALPNProtocols: []string{"http/1.1"}}
	if a == nil || !a.Equal(&want) {
		t.Fatalf("merged TLS %+v, want %+v", a, want)
	}
	if a != b {
		t.Errorf("two routes to one Backend got two merged TLS values; want one shared")
	}
	for _, pol := range res.Status.BackendTLSPolicies {
		if len(pol.Status.Ancestors) != 1 {
			t.Errorf("policy ancestors %+v, want the Gateway", pol.Status.Ancestors)
		}
	}
}

// TestFallbackOneCluster: a fallback Backend makes the rule one cluster;
// backends that cannot share one are refused with the reason.
func TestFallbackOneCluster(t *testing.T) {
	backends := `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: standby, namespace: infra}
spec:
  fallback: true
  endpoints: [{fqdn: {hostname: standby.example.com, port: 80}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: tls-standby, namespace: infra}
spec:
  fallback: true
  endpoints: [{ip: {address: 10.0.0.9, port: 443}}]
  tls: {wellKnownCACertificates: System, sni: s.internal}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: auto-standby, namespace: infra}
spec:
  fallback: true
  endpoints: [{ip: {address: 10.0.0.10, port: 443}}]
  tls: {wellKnownCACertificates: System}
---
`
	res := run(t, beRoute(backends, `    - {name: web, port: 80}
    - {group: gateway.envoyproxy.io, kind: Backend, name: standby, port: 80}`))
	d := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*").Routes[0].Destination
	if d == nil || !d.OneCluster || len(d.Backends) != 2 || d.Backends[1].Priority != 1 || d.Backends[0].Priority != 0 {
		t.Fatalf("destination %+v, want one cluster with the fallback at priority 1", d)
	}
	// A plain primary and a TLS fallback share the cluster: each
	// endpoint picks its transport socket.
	res = run(t, beRoute(backends, `    - {name: web, port: 80}
    - {group: gateway.envoyproxy.io, kind: Backend, name: tls-standby, port: 443}`))
	d = vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*").Routes[0].Destination
	if d == nil || !d.OneCluster || len(d.Backends) != 2 || d.Backends[0].TLS != nil || d.Backends[1].TLS == nil {
		t.Fatalf("destination %+v, want one cluster of a plain primary and a TLS fallback", d)
	}
	// A server name from the request's Host is the whole cluster's: it
	// cannot sit beside a backend with a name of its own.
	res = run(t, beRoute(backends, `    - {name: web, port: 80}
    - {group: gateway.envoyproxy.io, kind: Backend, name: tls-standby, port: 443}
    - {group: gateway.envoyproxy.io, kind: Backend, name: auto-standby, port: 443}`))
	c := wantCond(t, parentConds(t, routeOut(t, res, "infra", "r")), "Accepted", "False", "UnsupportedValue")
	if !strings.Contains(c.Message, "TLS settings cannot share one cluster") {
		t.Errorf("message %q does not say why", c.Message)
	}
}

// TestSessionPersistenceCompile: names, cookie lifetimes and refusals.
func TestSessionPersistenceCompile(t *testing.T) {
	for _, tc := range []struct {
		sp, want, refused string
	}{
		{`{}`, "cookie httproute-infra-r-rule-0 0s", ""},
		{`{sessionName: s, type: Header}`, "header s", ""},
		{`{sessionName: s, absoluteTimeout: 90m, cookieConfig: {lifetimeType: Permanent}}`, "cookie s 1h30m0s", ""},
		{`{absoluteTimeout: 1h}`, "", "with a Session cookie is not supported"},
		{`{type: Header, absoluteTimeout: 1h}`, "", "header-based sessions never expire"},
		{`{absoluteTimeout: 1500ms, cookieConfig: {lifetimeType: Permanent}}`, "", "whole seconds"},
		{`{type: Other}`, "", `type "Other" is not supported`},
	} {
		res := run(t, beRoute("", `    - {name: web, port: 80}
    sessionPersistence: `+tc.sp))
		r := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*").Routes[0]
		if tc.refused != "" {
			c := wantCond(t, parentConds(t, routeOut(t, res, "infra", "r")), "Accepted", "False", "UnsupportedValue")
			if !strings.Contains(c.Message, tc.refused) || r.DirectResponse == nil {
				t.Errorf("%s: %q (route %+v), want a 500 and %q", tc.sp, c.Message, r, tc.refused)
			}
			continue
		}
		got := ""
		switch sp := r.SessionPersistence; {
		case sp == nil:
		case sp.Cookie != nil:
			got = "cookie " + sp.Cookie.Name + " " + sp.Cookie.TTL.String()
		case sp.Header != nil:
			got = "header " + sp.Header.Name
		}
		if got != tc.want || !r.Destination.OneCluster {
			t.Errorf("%s: %q (one cluster %v), want %q", tc.sp, got, r.Destination.OneCluster, tc.want)
		}
	}
}

func TestCheckCommandOperators(t *testing.T) {
	for body, want := range map[string]string{
		"plain":                                  "",
		"100%% sure":                             "",
		"%REQ(:path)% at %START_TIME(%s)%":       "",
		"%RESP(x-a):10% %DYNAMIC_METADATA(a:b)%": "",
		"100% sure":                              "at byte 3",
		"%NOPE%":                                 "not an Envoy command operator",
		"trailing %":                             "at byte 9",
	} {
		got := checkCommandOperators(body)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("checkCommandOperators(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestCheckRegexRewrite(t *testing.T) {
	for _, tc := range []struct{ pattern, subst, want string }{
		{`^/a/(.*)$`, `/\1`, ""},
		{`^/a/(.*)$`, `/\0/\\`, ""},
		{`^/a/(.*)$`, `/\2`, "names group"},
		{`^/a/(.*)$`, `/\x`, "may only precede"},
		{`^/a/(.*)$`, `/\`, "lone backslash"},
		{`(`, `x`, "pattern"},
	} {
		got := checkRegexRewrite(tc.pattern, tc.subst)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("checkRegexRewrite(%q, %q) = %q, want %q", tc.pattern, tc.subst, got, tc.want)
		}
	}
}

// TestCookieMatchEntries: an HTTPRouteFilter's cookie matches multiply the
// rule's matches, numbered as Envoy Gateway numbers them (match j×2+k),
// and rank above the same path without cookies.
func TestCookieMatchEntries(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, protocol: HTTP, port: 80}`)+svcYAML+`
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: HTTPRouteFilter
metadata: {name: f, namespace: infra}
spec:
  matches:
  - cookies: [{name: a, value: "1"}]
  - cookies: [{name: b, value: "2"}, {name: c, type: RegularExpression, value: "x.*"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /x}}, {path: {type: PathPrefix, value: /y}}]
    filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: f}}]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /x}}]
    backendRefs: [{name: web, port: 80}]
`)
	got := strings.Join(routeNames(vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*")), " ")
	// /x and /y are as long: more cookies first (match/1 and /3 have
	// two), then the rule and match order; no cookie last.
	want := strings.Join([]string{
		"httproute/infra/r/rule/0/match/1/*", "httproute/infra/r/rule/0/match/3/*",
		"httproute/infra/r/rule/0/match/0/*", "httproute/infra/r/rule/0/match/2/*",
		"httproute/infra/r/rule/1/match/0/*",
	}, " ")
	if got != want {
		t.Errorf("routes\n%s\nwant\n%s", got, want)
	}
}
