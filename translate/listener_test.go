package translate

import (
	"strings"
	"testing"
)

func TestAllowedRoutesNamespaces(t *testing.T) {
	listeners := `  - {name: same, port: 80, protocol: HTTP, hostname: same.test}
  - name: all
    port: 80
    protocol: HTTP
    hostname: all.test
    allowedRoutes: {namespaces: {from: All}}
  - name: sel
    port: 80
    protocol: HTTP
    hostname: sel.test
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: blue}}}}
  - name: byname
    port: 80
    protocol: HTTP
    hostname: byname.test
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {kubernetes.io/metadata.name: ghost}}}}
  - name: none
    port: 80
    protocol: HTTP
    hostname: none.test
    allowedRoutes: {namespaces: {from: None}}`
	route := func(ns, section string) string {
		return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-` + section + `, namespace: ` + ns + `}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: ` + section + `}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
`
	}
	ns := `
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: blue}}
---
`
	in := gwYAML(listeners) + svcYAML + ns +
		route("app", "same") + route("app", "all") + route("app", "sel") + route("ghost", "byname") + route("app", "none")
	res := run(t, in)
	wantCond(t, parentConds(t, routeOut(t, res, "app", "r-same")), "Accepted", "False", "NotAllowedByListeners")
	wantCond(t, parentConds(t, routeOut(t, res, "app", "r-all")), "Accepted", "True", "Accepted")
	wantCond(t, parentConds(t, routeOut(t, res, "app", "r-sel")), "Accepted", "True", "Accepted")
	// ghost has no Namespace object: it still carries its name label.
	wantCond(t, parentConds(t, routeOut(t, res, "ghost", "r-byname")), "Accepted", "True", "Accepted")
	wantCond(t, parentConds(t, routeOut(t, res, "app", "r-none")), "Accepted", "False", "NotAllowedByListeners")

	gw := gatewayOut(t, res, "infra", "gw")
	for name, want := range map[string]int32{"same": 0, "all": 1, "sel": 1, "byname": 1, "none": 0} {
		if got := listenerStatus(t, gw, name).AttachedRoutes; got != want {
			t.Errorf("listener %s attachedRoutes = %d, want %d", name, got, want)
		}
	}
	// Problems: one per bad condition, in sorted order (ghost/web does not
	// exist, so r-byname is accepted with unresolved refs).
	var got []string
	for _, p := range res.Problems {
		got = append(got, p.String())
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "HTTPRoute app/r-none: Accepted NotAllowedByListeners: ") ||
		!strings.HasPrefix(got[1], "HTTPRoute app/r-same: Accepted NotAllowedByListeners: ") ||
		got[2] != "HTTPRoute ghost/r-byname: ResolvedRefs BackendNotFound: rules[0].backendRefs[0]: Service ghost/web not found" {
		t.Fatalf("problems = %q", got)
	}
}

func TestListenerKindsAndProtocols(t *testing.T) {
	res := run(t, gwYAML(`  - name: bad-kind
    port: 80
    protocol: HTTP
    allowedRoutes: {kinds: [{kind: TCPRoute}]}
  - name: mixed
    port: 81
    protocol: HTTP
    allowedRoutes: {kinds: [{kind: HTTPRoute}, {group: example.com, kind: Foo}]}
  - {name: tcp, port: 90, protocol: example.com/custom}
  - {name: ok, port: 82, protocol: HTTP}`))
	gw := gatewayOut(t, res, "infra", "gw")
	bk := listenerStatus(t, gw, "bad-kind")
	wantCond(t, bk.Conditions, "ResolvedRefs", "False", "InvalidRouteKinds")
	wantCond(t, bk.Conditions, "Programmed", "False", "Invalid")
	if bk.SupportedKinds == nil || len(bk.SupportedKinds) != 0 {
		t.Fatalf("supportedKinds = %#v, want empty", bk.SupportedKinds)
	}
	mx := listenerStatus(t, gw, "mixed")
	wantCond(t, mx.Conditions, "ResolvedRefs", "False", "InvalidRouteKinds")
	if len(mx.SupportedKinds) != 1 || mx.SupportedKinds[0].Kind != "HTTPRoute" {
		t.Fatalf("supportedKinds = %+v", mx.SupportedKinds)
	}
	wantCond(t, listenerStatus(t, gw, "tcp").Conditions, "Accepted", "False", "UnsupportedProtocol")
	wantCond(t, gw.Status.Conditions, "Accepted", "True", "ListenersNotValid")
	wantCond(t, gw.Status.Conditions, "Programmed", "True", "Programmed")
	p := proxy(t, res, "infra/gw")
	if len(p.HTTP) != 1 || p.HTTP[0].Name != "infra/gw/ok" {
		t.Fatalf("only the valid listener is programmed: %+v", p.HTTP)
	}

	res = run(t, gwYAML(`  - {name: sctp, port: 90, protocol: example.com/sctp}`))
	gw = gatewayOut(t, res, "infra", "gw")
	wantCond(t, gw.Status.Conditions, "Accepted", "False", "ListenersNotValid")
	wantCond(t, gw.Status.Conditions, "Programmed", "False", "Invalid")
	if len(res.IR.Proxies) != 0 {
		t.Fatal("an unaccepted Gateway got a proxy")
	}
}

func TestListenerConflicts(t *testing.T) {
	res := run(t, gwYAML(`  - {name: a, port: 80, protocol: HTTP, hostname: a.test}
  - {name: a2, port: 80, protocol: HTTP, hostname: a.test}
  - {name: b, port: 80, protocol: HTTP, hostname: b.test}
  - {name: p1, port: 443, protocol: HTTP}
  - name: p2
    port: 443
    protocol: HTTPS
    tls: {certificateRefs: [{name: none}]}`))
	gw := gatewayOut(t, res, "infra", "gw")
	wantCond(t, listenerStatus(t, gw, "a").Conditions, "Conflicted", "True", "HostnameConflict")
	wantCond(t, listenerStatus(t, gw, "a2").Conditions, "Conflicted", "True", "HostnameConflict")
	wantCond(t, listenerStatus(t, gw, "b").Conditions, "Conflicted", "False", "NoConflicts")
	wantCond(t, listenerStatus(t, gw, "p1").Conditions, "Conflicted", "True", "ProtocolConflict")
	wantCond(t, listenerStatus(t, gw, "p2").Conditions, "Conflicted", "True", "ProtocolConflict")
	wantCond(t, listenerStatus(t, gw, "a").Conditions, "Programmed", "False", "Invalid")
	p := proxy(t, res, "infra/gw")
	if len(p.HTTP) != 1 || p.HTTP[0].Name != "infra/gw/b" {
		t.Fatalf("programmed listeners = %+v", p.HTTP)
	}
}

// Two listeners share port 80; the specific one owns its hostname, so a route
// attached to the catch-all listener must not put foo.test in both.
func TestHostnameOwnershipOnSharedPort(t *testing.T) {
	res := run(t, gwYAML(`  - {name: any, port: 80, protocol: HTTP}
  - {name: wild, port: 80, protocol: HTTP, hostname: "*.test"}
  - {name: foo, port: 80, protocol: HTTP, hostname: foo.test}`)+svcYAML+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [foo.test, bar.test, other.org]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`)
	p := proxy(t, res, "infra/gw")
	domains := map[string][]string{}
	for _, l := range p.HTTP {
		for _, v := range l.VirtualHosts {
			domains[l.Name] = append(domains[l.Name], v.Domains...)
		}
	}
	want := map[string][]string{
		"infra/gw/any":  {"other.org"},
		"infra/gw/wild": {"bar.test"},
		"infra/gw/foo":  {"foo.test"},
	}
	for l, d := range want {
		if strings.Join(domains[l], ",") != strings.Join(d, ",") {
			t.Errorf("listener %s domains = %v, want %v", l, domains[l], d)
		}
	}
	if p.HTTP[0].Port != p.HTTP[2].Port {
		t.Fatal("listeners on one port must share the bind port")
	}
}
