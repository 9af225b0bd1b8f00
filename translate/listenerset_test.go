package translate

import (
	"strings"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func listenerSetOut(t *testing.T, res *Result, ns, name string) *gwv1.ListenerSet {
	t.Helper()
	for _, ls := range res.Status.ListenerSets {
		if ls.Namespace == ns && ls.Name == name {
			return ls
		}
	}
	t.Fatalf("no ListenerSet %s/%s", ns, name)
	return nil
}

func lsListener(t *testing.T, ls *gwv1.ListenerSet, name string) gwv1.ListenerEntryStatus {
	t.Helper()
	for _, l := range ls.Status.Listeners {
		if string(l.Name) == name {
			return l
		}
	}
	t.Fatalf("no listener %s in ListenerSet %s", name, ls.Name)
	return gwv1.ListenerEntryStatus{}
}

func listenerSetYAML(ns, name, created, parent, listeners string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ` + name + `, namespace: ` + ns + `, creationTimestamp: "` + created + `"}
spec:
  parentRef: ` + parent + `
  listeners:
` + listeners + `
---
`
}

func TestListenerSets(t *testing.T) {
	crt, key := selfSigned(t)
	gw := strings.Replace(gwYAML(`  - {name: http, port: 80, protocol: HTTP, hostname: gw.example.com}`),
		"  gatewayClassName: eg\n", `  gatewayClassName: eg
  allowedListeners:
    namespaces:
      from: Selector
      selector: {matchLabels: {team: ok}}
`, 1)
	in := gw + `
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: ok}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
` + secretYAML("app", "cert", "kubernetes.io/tls", crt, key) + svcYAML +
		listenerSetYAML("app", "first", "2024-01-01T00:00:00Z", `{name: gw, namespace: infra}`, `
  - {name: extra, port: 8080, protocol: HTTP, hostname: app.example.com}
  - {name: secure, port: 443, protocol: HTTPS, hostname: app.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: clash-gw, port: 80, protocol: HTTP, hostname: gw.example.com}
  - {name: clash-proto, port: 80, protocol: HTTPS, hostname: x.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: tcp, port: 9000, protocol: TCP}`) +
		listenerSetYAML("app", "second", "2024-02-01T00:00:00Z", `{name: gw, namespace: infra}`, `
  - {name: extra, port: 8080, protocol: HTTP, hostname: app.example.com}
  - {name: more, port: 8080, protocol: HTTP, hostname: more.example.com}`) +
		listenerSetYAML("app", "loser", "2024-03-01T00:00:00Z", `{name: gw, namespace: infra}`, `
  - {name: only, port: 8080, protocol: HTTP, hostname: more.example.com}`) +
		listenerSetYAML("other", "denied", "2024-01-01T00:00:00Z", `{name: gw, namespace: infra}`, `
  - {name: x, port: 8081, protocol: HTTP}`) + `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: via-set, namespace: app}
spec:
  parentRefs: [{kind: ListenerSet, name: first, sectionName: extra}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: via-gw, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-denied, namespace: other}
spec:
  parentRefs: [{kind: ListenerSet, name: denied}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`
	res := run(t, in)

	g := gatewayOut(t, res, "infra", "gw")
	if g.Status.AttachedListenerSets == nil || *g.Status.AttachedListenerSets != 2 {
		t.Errorf("attachedListenerSets = %v, want 2", g.Status.AttachedListenerSets)
	}
	if len(g.Status.Listeners) != 1 {
		t.Errorf("Gateway lists %d listeners, want only its own", len(g.Status.Listeners))
	}
	wantCond(t, listenerStatus(t, g, "http").Conditions, "Conflicted", "False", "NoConflicts")

	first := listenerSetOut(t, res, "app", "first")
	wantCond(t, first.Status.Conditions, "Accepted", "True", "ListenersNotValid")
	wantCond(t, first.Status.Conditions, "Programmed", "True", "Programmed")
	wantCond(t, lsListener(t, first, "extra").Conditions, "Programmed", "True", "Programmed")
	wantCond(t, lsListener(t, first, "secure").Conditions, "Programmed", "True", "Programmed")
	wantCond(t, lsListener(t, first, "clash-gw").Conditions, "Conflicted", "True", "HostnameConflict")
	wantCond(t, lsListener(t, first, "clash-gw").Conditions, "Accepted", "False", "HostnameConflict")
	wantCond(t, lsListener(t, first, "clash-gw").Conditions, "Programmed", "False", "HostnameConflict")
	wantCond(t, lsListener(t, first, "clash-proto").Conditions, "Accepted", "False", "ProtocolConflict")
	wantCond(t, lsListener(t, first, "clash-proto").Conditions, "Conflicted", "True", "ProtocolConflict")
	wantCond(t, lsListener(t, first, "tcp").Conditions, "Programmed", "True", "Programmed")
	if n := lsListener(t, first, "extra").AttachedRoutes; n != 1 {
		t.Errorf("first/extra attachedRoutes = %d, want 1", n)
	}
	// The older ListenerSet keeps 8080/app.example.com.
	second := listenerSetOut(t, res, "app", "second")
	wantCond(t, lsListener(t, second, "extra").Conditions, "Conflicted", "True", "HostnameConflict")
	wantCond(t, lsListener(t, second, "more").Conditions, "Programmed", "True", "Programmed")

	// Nothing valid left: not accepted, and not counted on the Gateway.
	loser := listenerSetOut(t, res, "app", "loser")
	wantCond(t, loser.Status.Conditions, "Accepted", "False", "ListenersNotValid")
	wantCond(t, loser.Status.Conditions, "Programmed", "False", "ListenersNotValid")
	denied := listenerSetOut(t, res, "other", "denied")
	wantCond(t, denied.Status.Conditions, "Accepted", "False", "NotAllowed")
	wantCond(t, denied.Status.Conditions, "Programmed", "False", "NotAllowed")
	wantCond(t, parentConds(t, routeOut(t, res, "other", "to-denied")), "Accepted", "False", "NoMatchingParent")
	wantCond(t, parentConds(t, routeOut(t, res, "app", "via-set")), "Accepted", "True", "Accepted")

	p := proxy(t, res, "infra/gw")
	names := map[string]bool{}
	for _, l := range p.HTTP {
		names[l.Name] = true
	}
	for _, want := range []string{"infra/gw/http", "infra/gw/app/first/extra", "infra/gw/app/first/secure", "infra/gw/app/second/more"} {
		if !names[want] {
			t.Errorf("proxy lacks listener %s; has %v", want, names)
		}
	}
	if names["infra/gw/app/second/extra"] || names["infra/gw/app/first/clash-gw"] {
		t.Errorf("a conflicted listener was programmed: %v", names)
	}
	// A route on the Gateway does not reach ListenerSet listeners, and one
	// on a ListenerSet section only that listener.
	vh := vhost(t, p, "infra/gw/app/first/extra/app_example_com")
	if rn := routeNames(vh); len(rn) != 1 || !strings.HasPrefix(rn[0], "httproute/app/via-set/") {
		t.Errorf("first/extra routes = %v, want via-set only", rn)
	}
	for _, l := range p.HTTP {
		if l.Name == "infra/gw/app/first/secure" && len(l.VirtualHosts) != 0 {
			t.Errorf("secure has virtual hosts %v; no route names it", l.VirtualHosts)
		}
		if l.Name == "infra/gw/app/first/secure" && (l.TLS == nil || l.TLS.Certificates[0].Name != "app/cert") {
			t.Errorf("secure TLS = %+v, want the Secret in the ListenerSet's namespace", l.TLS)
		}
	}
}

func TestListenerSetNotAllowedByDefault(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+
		listenerSetYAML("infra", "ls", "2024-01-01T00:00:00Z", `{name: gw}`, `
  - {name: x, port: 8080, protocol: HTTP}`))
	c := wantCond(t, listenerSetOut(t, res, "infra", "ls").Status.Conditions, "Accepted", "False", "NotAllowed")
	if !strings.Contains(c.Message, "allowedListeners") {
		t.Errorf("message %q does not point at allowedListeners", c.Message)
	}
	if n := len(proxy(t, res, "infra/gw").HTTP); n != 1 {
		t.Errorf("proxy has %d listeners, want 1", n)
	}
}

// TCP, TLS and UDP listeners of a ListenerSet follow the same conflict
// rules as a Gateway's own, and take routes through a ListenerSet parentRef.
func TestListenerSetL4(t *testing.T) {
	crt, key := selfSigned(t)
	gw := strings.Replace(gwYAML(`  - {name: http, port: 80, protocol: HTTP}`),
		"  gatewayClassName: eg\n", "  gatewayClassName: eg\n  allowedListeners: {namespaces: {from: Same}}\n", 1)
	in := gw + svcYAML + secretYAML("infra", "cert", "kubernetes.io/tls", crt, key) +
		listenerSetYAML("infra", "l4", "2024-01-01T00:00:00Z", `{name: gw}`, `
  - {name: tcp, port: 5000, protocol: TCP}
  - {name: udp-80, port: 80, protocol: UDP}
  - {name: pass, port: 8443, protocol: TLS, hostname: pass.example.com, tls: {mode: Passthrough}}
  - {name: tcp-80, port: 80, protocol: TCP}`) +
		listenerSetYAML("infra", "mixed", "2024-02-01T00:00:00Z", `{name: gw}`, `
  - {name: term, port: 8443, protocol: TLS, hostname: term.example.com, tls: {certificateRefs: [{name: cert}]}}`) +
		l4Doc("TCPRoute", "tcp", "2024-01-01T00:00:00Z", "{kind: ListenerSet, name: l4, sectionName: tcp}", "", "{name: web, port: 80}") +
		l4Doc("UDPRoute", "udp", "2024-01-01T00:00:00Z", "{kind: ListenerSet, name: l4, sectionName: udp-80}", "", "{name: web, port: 80}") +
		l4Doc("TLSRoute", "tls", "2024-01-01T00:00:00Z", "{kind: ListenerSet, name: l4}", "  hostnames: [pass.example.com]\n", "{name: web, port: 80}") +
		l4Doc("TCPRoute", "via-gw", "2024-01-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: web, port: 80}")
	res := run(t, in)

	l4 := listenerSetOut(t, res, "infra", "l4")
	wantCond(t, l4.Status.Conditions, "Accepted", "True", "ListenersNotValid")
	for _, name := range []string{"tcp", "udp-80", "pass"} {
		wantCond(t, lsListener(t, l4, name).Conditions, "Programmed", "True", "Programmed")
		if n := lsListener(t, l4, name).AttachedRoutes; n != 1 {
			t.Errorf("listener %s attachedRoutes = %d, want 1", name, n)
		}
	}
	// TCP on the Gateway's HTTP port conflicts; UDP has its own port space.
	tcp80 := lsListener(t, l4, "tcp-80")
	wantCond(t, tcp80.Conditions, "Accepted", "False", "ProtocolConflict")
	wantCond(t, tcp80.Conditions, "Conflicted", "True", "ProtocolConflict")
	// Terminate next to Passthrough on one port (TLSRouteModeMixed): SNI
	// picks the listener, as on a Gateway.
	mixed := listenerSetOut(t, res, "infra", "mixed")
	wantCond(t, lsListener(t, mixed, "term").Conditions, "Programmed", "True", "Programmed")
	wantCond(t, mixed.Status.Conditions, "Accepted", "True", "Accepted")

	for _, r := range []struct{ kind, name string }{{"TCPRoute", "tcp"}, {"UDPRoute", "udp"}, {"TLSRoute", "tls"}} {
		wantCond(t, l4Parents(t, res, r.kind, "infra", r.name), "Accepted", "True", "Accepted")
	}
	// A Gateway parentRef does not reach ListenerSet listeners.
	wantCond(t, l4Parents(t, res, "TCPRoute", "infra", "via-gw"), "Accepted", "False", "NoMatchingParent")

	p := proxy(t, res, "infra/gw")
	routes := map[string]string{}
	for _, l := range p.TCP {
		for _, r := range l.Routes {
			routes[l.Name] = r.Name
		}
	}
	for _, l := range p.UDP {
		if l.Route != nil {
			routes[l.Name] = l.Route.Name
		}
	}
	want := map[string]string{
		"infra/gw/infra/l4/tcp":    "tcproute/infra/tcp",
		"infra/gw/infra/l4/udp-80": "udproute/infra/udp",
		"infra/gw/infra/l4/pass":   "tlsroute/infra/tls",
	}
	for l, r := range want {
		if routes[l] != r {
			t.Errorf("listener %s route = %q, want %q (all: %v)", l, routes[l], r, routes)
		}
	}
	if len(p.TCP) != 3 || len(p.UDP) != 1 {
		t.Errorf("proxy has %d TCP and %d UDP listeners, want 3 and 1", len(p.TCP), len(p.UDP))
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A ListenerSet whose only listener cannot be programmed (its certificate
// is in another namespace without a ReferenceGrant) is not accepted.
func TestListenerSetUnresolvedOnly(t *testing.T) {
	crt, key := selfSigned(t)
	gw := strings.Replace(gwYAML(`  - {name: http, port: 80, protocol: HTTP}`),
		"  gatewayClassName: eg\n", "  gatewayClassName: eg\n  allowedListeners: {namespaces: {from: All}}\n", 1)
	res := run(t, gw+secretYAML("infra", "cert", "kubernetes.io/tls", crt, key)+
		listenerSetYAML("app", "ls", "2024-01-01T00:00:00Z", `{name: gw, namespace: infra}`, `
  - {name: secure, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert, namespace: infra}]}}`))
	ls := listenerSetOut(t, res, "app", "ls")
	wantCond(t, lsListener(t, ls, "secure").Conditions, "ResolvedRefs", "False", "RefNotPermitted")
	wantCond(t, ls.Status.Conditions, "Accepted", "False", "ListenersNotValid")
	wantCond(t, ls.Status.Conditions, "Programmed", "False", "ListenersNotValid")
	if n := gatewayOut(t, res, "infra", "gw").Status.AttachedListenerSets; n == nil || *n != 0 {
		t.Errorf("attachedListenerSets = %v, want 0", n)
	}
}
