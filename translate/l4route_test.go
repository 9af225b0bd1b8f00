package translate

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

func l4Parents(t testing.TB, res *Result, kind, ns, name string) []metav1.Condition {
	t.Helper()
	var st *gwv1.RouteStatus
	switch kind {
	case "TCPRoute":
		for _, r := range res.Status.TCPRoutes {
			if r.Namespace == ns && r.Name == name {
				st = &r.Status.RouteStatus
			}
		}
	case "TLSRoute":
		for _, r := range res.Status.TLSRoutes {
			if r.Namespace == ns && r.Name == name {
				st = &r.Status.RouteStatus
			}
		}
	case "UDPRoute":
		for _, r := range res.Status.UDPRoutes {
			if r.Namespace == ns && r.Name == name {
				st = &r.Status.RouteStatus
			}
		}
	}
	if st == nil || len(st.Parents) != 1 {
		t.Fatalf("%s %s/%s: want one parent status, have %+v", kind, ns, name, st)
	}
	return st.Parents[0].Conditions
}

func l4Doc(kind, name, created, parent, extra, backends string) string {
	return `---
apiVersion: gateway.networking.k8s.io/v1
kind: ` + kind + `
metadata: {name: ` + name + `, namespace: infra, creationTimestamp: "` + created + `"}
spec:
  parentRefs: [` + parent + `]
` + extra + `  rules: [{backendRefs: [` + backends + `]}]
`
}

func TestTCPRoute(t *testing.T) {
	res := run(t, gwYAML(`  - {name: tcp, port: 5000, protocol: TCP}
  - {name: other, port: 5001, protocol: TCP}
  - {name: http, port: 80, protocol: HTTP}`)+svcYAML+
		l4Doc("TCPRoute", "newer", "2024-02-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: web, port: 80}")+
		l4Doc("TCPRoute", "older", "2024-01-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: web, port: 80, weight: 3}, {name: nope, port: 80}")+
		l4Doc("TCPRoute", "on-http", "2024-01-01T00:00:00Z", "{name: gw, sectionName: http}", "", "{name: web, port: 80}")+
		l4Doc("TCPRoute", "two-rules", "2024-01-01T00:00:00Z", "{name: gw, sectionName: other}", "", "{name: web, port: 80}]}, {backendRefs: [{name: web, port: 80}"))
	wantCond(t, l4Parents(t, res, "TCPRoute", "infra", "newer"), "Accepted", "True", "Accepted")
	pc := l4Parents(t, res, "TCPRoute", "infra", "older")
	wantCond(t, pc, "Accepted", "True", "Accepted")
	if c := wantCond(t, pc, "ResolvedRefs", "False", "BackendNotFound"); !strings.Contains(c.Message, "Service infra/nope") {
		t.Errorf("message %q", c.Message)
	}
	wantCond(t, l4Parents(t, res, "TCPRoute", "infra", "on-http"), "Accepted", "False", "NotAllowedByListeners")
	wantCond(t, l4Parents(t, res, "TCPRoute", "infra", "two-rules"), "Accepted", "False", "UnsupportedValue")

	gw := gatewayOut(t, res, "infra", "gw")
	ls := listenerStatus(t, gw, "tcp")
	if ls.AttachedRoutes != 2 || len(ls.SupportedKinds) != 1 || ls.SupportedKinds[0].Kind != "TCPRoute" {
		t.Fatalf("tcp listener status: %+v", ls)
	}
	if n := listenerStatus(t, gw, "other").AttachedRoutes; n != 0 {
		t.Errorf("other listener attachedRoutes = %d, want 0", n)
	}
	p := proxy(t, res, "infra/gw")
	if len(p.TCP) != 2 || p.TCP[0].Name != "infra/gw/tcp" || p.TCP[0].Port != 5000 {
		t.Fatalf("TCP listeners: %+v", p.TCP)
	}
	rs := p.TCP[0].Routes
	if len(rs) != 1 || rs[0].Name != "tcproute/infra/older" {
		t.Fatalf("the oldest route owns the listener; routes = %+v", rs)
	}
	d := rs[0].Destination
	if d.Name != "tcproute/infra/older/rule/-1" || len(d.Backends) != 1 || d.Backends[0].Weight != 3 || d.InvalidWeight != 1 {
		t.Fatalf("destination: %+v", d)
	}
	if d.Backends[0].Protocol != "" || d.Backends[0].Name != "tcproute/infra/older/rule/-1/backend/0" {
		t.Errorf("backend: %+v", d.Backends[0])
	}
	if len(p.TCP[1].Routes) != 0 {
		t.Errorf("a rejected route must not be programmed: %+v", p.TCP[1].Routes)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTLSRoutePassthrough(t *testing.T) {
	crt, key := selfSigned(t)
	res := run(t, gwYAML(`  - {name: pass, port: 8443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: exact, port: 8443, protocol: TLS, hostname: b.example.com, tls: {mode: Passthrough}}
  - {name: term, port: 8443, protocol: TLS, hostname: t.example.com, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
  - {name: https, port: 8443, protocol: HTTPS, hostname: w.example.com, tls: {certificateRefs: [{name: cert}]}}
  - name: kinds
    port: 9443
    protocol: TLS
    tls: {mode: Passthrough}
    allowedRoutes: {kinds: [{kind: TLSRoute}, {kind: TCPRoute}]}
  - {name: nocert, port: 9444, protocol: TLS, tls: {mode: Terminate}}`)+svcYAML+secretYAML("infra", "cert", "kubernetes.io/tls", crt, key)+
		// a.example.com and the wildcard go to "pass"; b.example.com
		// belongs to the more specific listener "exact".
		l4Doc("TLSRoute", "wide", "2024-01-01T00:00:00Z", "{name: gw, sectionName: pass}", "  hostnames: [a.example.com, \"*.example.com\", b.example.com, example.net]\n", "{name: web, port: 80}")+
		l4Doc("TLSRoute", "newer", "2024-02-01T00:00:00Z", "{name: gw, sectionName: pass}", "  hostnames: [a.example.com, c.example.com]\n", "{name: web, port: 80}")+
		l4Doc("TLSRoute", "exact", "2024-01-01T00:00:00Z", "{name: gw, sectionName: exact}", "", "{name: web, port: 80}")+
		l4Doc("TLSRoute", "term", "2024-01-01T00:00:00Z", "{name: gw, sectionName: term}", "", "{name: web, port: 80}")+
		l4Doc("TLSRoute", "nomatch", "2024-01-01T00:00:00Z", "{name: gw, sectionName: pass}", "  hostnames: [example.net]\n", "{name: web, port: 80}"))
	for _, n := range []string{"wide", "newer", "exact", "term"} {
		wantCond(t, l4Parents(t, res, "TLSRoute", "infra", n), "Accepted", "True", "Accepted")
	}
	wantCond(t, l4Parents(t, res, "TLSRoute", "infra", "nomatch"), "Accepted", "False", "NoMatchingListenerHostname")

	gw := gatewayOut(t, res, "infra", "gw")
	for _, n := range []string{"pass", "exact", "term", "https"} {
		wantCond(t, listenerStatus(t, gw, n).Conditions, "Programmed", "True", "Programmed")
	}
	if n := listenerStatus(t, gw, "pass").AttachedRoutes; n != 2 {
		t.Errorf("pass attachedRoutes = %d, want 2", n)
	}
	ks := listenerStatus(t, gw, "kinds")
	wantCond(t, ks.Conditions, "ResolvedRefs", "False", "InvalidRouteKinds")
	if len(ks.SupportedKinds) != 1 || ks.SupportedKinds[0].Kind != "TLSRoute" {
		t.Errorf("supportedKinds = %+v", ks.SupportedKinds)
	}
	wantCond(t, listenerStatus(t, gw, "nocert").Conditions, "ResolvedRefs", "False", "InvalidCertificateRef")

	p := proxy(t, res, "infra/gw")
	sni := map[string][]string{}
	var term *ir.TCPListener
	for _, l := range p.TCP {
		for _, r := range l.Routes {
			sni[l.Name+" "+r.Name] = r.SNI
		}
		if l.Name == "infra/gw/term" {
			term = l
		}
	}
	want := map[string][]string{
		"infra/gw/pass tlsroute/infra/wide":   {"a.example.com", "*.example.com"},
		"infra/gw/pass tlsroute/infra/newer":  {"c.example.com"}, // a.example.com is the older route's
		"infra/gw/exact tlsroute/infra/exact": {"b.example.com"},
		"infra/gw/term tlsroute/infra/term":   {"t.example.com"},
	}
	if len(sni) != len(want) {
		t.Errorf("routes = %v, want %v", sni, want)
	}
	for k, w := range want {
		if !slices.Equal(sni[k], w) {
			t.Errorf("%s: SNI %v, want %v", k, sni[k], w)
		}
	}
	if term == nil || term.TLS == nil || len(term.TLS.Certificates) != 1 {
		t.Errorf("terminate listener TLS = %+v", term)
	}
	if len(p.HTTP) != 1 || p.HTTP[0].Port != 8443 {
		t.Errorf("HTTPS listener shares the port: %+v", p.HTTP)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUDPRoute(t *testing.T) {
	res := run(t, gwYAML(`  - {name: dns, port: 53, protocol: UDP}
  - {name: tcp, port: 5000, protocol: TCP}`)+svcYAML+udpSvcYAML+
		l4Doc("UDPRoute", "dns", "2024-01-01T00:00:00Z", "{name: gw, sectionName: dns}", "", "{name: dns, port: 53, weight: 2}, {name: nope, port: 53}")+
		l4Doc("UDPRoute", "dns-newer", "2024-02-01T00:00:00Z", "{name: gw, sectionName: dns}", "", "{name: dns, port: 53}")+
		l4Doc("UDPRoute", "on-tcp", "2024-01-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: web, port: 80}"))
	pc := l4Parents(t, res, "UDPRoute", "infra", "dns")
	wantCond(t, pc, "Accepted", "True", "Accepted")
	wantCond(t, pc, "ResolvedRefs", "False", "BackendNotFound")
	wantCond(t, l4Parents(t, res, "UDPRoute", "infra", "dns-newer"), "Accepted", "True", "Accepted")
	wantCond(t, l4Parents(t, res, "UDPRoute", "infra", "on-tcp"), "Accepted", "False", "NotAllowedByListeners")
	ls := listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "dns")
	if ls.AttachedRoutes != 2 || len(ls.SupportedKinds) != 1 || ls.SupportedKinds[0].Kind != "UDPRoute" {
		t.Fatalf("udp listener status %+v", ls)
	}
	p := proxy(t, res, "infra/gw")
	if len(p.UDP) != 1 || p.UDP[0].Port != 10053 || p.UDP[0].Route == nil {
		t.Fatalf("UDP listeners %+v", p.UDP)
	}
	r := p.UDP[0].Route
	if r.Name != "udproute/infra/dns" || r.Destination.Name != "udproute/infra/dns/rule/-1" || r.Destination.InvalidWeight != 0 || len(r.Destination.Backends) != 1 {
		t.Errorf("route %+v dest %+v", r, r.Destination)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TCP and UDP listeners may share a port number; TCP and HTTP may not.
func TestL4PortSharing(t *testing.T) {
	res := run(t, gwYAML(`  - {name: tcp, port: 5000, protocol: TCP}
  - {name: udp, port: 5000, protocol: UDP}
  - {name: tcp2, port: 6000, protocol: TCP}
  - {name: http, port: 6000, protocol: HTTP}`))
	gw := gatewayOut(t, res, "infra", "gw")
	wantCond(t, listenerStatus(t, gw, "tcp").Conditions, "Conflicted", "False", "NoConflicts")
	wantCond(t, listenerStatus(t, gw, "udp").Conditions, "Conflicted", "False", "NoConflicts")
	wantCond(t, listenerStatus(t, gw, "tcp2").Conditions, "Conflicted", "True", "ProtocolConflict")
	wantCond(t, listenerStatus(t, gw, "http").Conditions, "Conflicted", "True", "ProtocolConflict")
}

// A cross-namespace backendRef of a TCPRoute needs a ReferenceGrant that
// names TCPRoute as the "from" kind; a grant for HTTPRoutes does not do.
func TestTCPRouteReferenceGrant(t *testing.T) {
	grant := func(kind string) string {
		return `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: app}
spec:
  from: [{group: gateway.networking.k8s.io, kind: ` + kind + `, namespace: infra}]
  to: [{group: "", kind: Service}]
`
	}
	for _, tc := range []struct{ kind, want string }{{"TCPRoute", "True/ResolvedRefs"}, {"HTTPRoute", "False/RefNotPermitted"}} {
		res := run(t, gwYAML(`  - {name: tcp, port: 5000, protocol: TCP}`)+svcYAML+grant(tc.kind)+
			l4Doc("TCPRoute", "r", "2024-01-01T00:00:00Z", "{name: gw}", "", "{name: web, namespace: app, port: 80}"))
		st := strings.SplitN(tc.want, "/", 2)
		wantCond(t, l4Parents(t, res, "TCPRoute", "infra", "r"), "ResolvedRefs", st[0], st[1])
		d := proxy(t, res, "infra/gw").TCP[0].Routes[0].Destination
		if granted := len(d.Backends) == 1; granted != (st[0] == "True") {
			t.Errorf("grant from %s: backends %+v invalid weight %d", tc.kind, d.Backends, d.InvalidWeight)
		}
	}
}

// udpSvcYAML is a Service infra/dns with port 53 over UDP only.
const udpSvcYAML = `
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: infra}
spec:
  clusterIP: 10.96.0.53
  ports: [{name: dns, port: 53, protocol: UDP}]
---
`

// TestL4PortProtocolMismatch: a UDPRoute backendRef to a Service port that
// is TCP does not resolve (nor a TCPRoute to a UDP port): the share is
// refused and ResolvedRefs=False says why.
func TestL4PortProtocolMismatch(t *testing.T) {
	res := run(t, gwYAML(`  - {name: dns, port: 53, protocol: UDP}
  - {name: tcp, port: 5000, protocol: TCP}`)+svcYAML+udpSvcYAML+
		l4Doc("UDPRoute", "u", "2024-01-01T00:00:00Z", "{name: gw, sectionName: dns}", "", "{name: web, port: 80}")+
		l4Doc("TCPRoute", "t", "2024-01-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: dns, port: 53}"))
	for _, kind := range []string{"UDPRoute", "TCPRoute"} {
		name := map[string]string{"UDPRoute": "u", "TCPRoute": "t"}[kind]
		c := wantCond(t, l4Parents(t, res, kind, "infra", name), "ResolvedRefs", "False", "BackendNotFound")
		if !strings.Contains(c.Message, "port") {
			t.Errorf("%s message %q", kind, c.Message)
		}
	}
	p := proxy(t, res, "infra/gw")
	if d := p.UDP[0].Route.Destination; len(d.Backends) != 0 || d.InvalidWeight == 0 {
		t.Errorf("UDP destination %+v", d)
	}
	if d := p.TCP[0].Routes[0].Destination; len(d.Backends) != 0 || d.InvalidWeight == 0 {
		t.Errorf("TCP destination %+v", d)
	}
}
