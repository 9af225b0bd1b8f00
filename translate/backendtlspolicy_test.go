package translate

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

func policyYAML(name, created, targets, validation string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: ` + name + `, namespace: infra, creationTimestamp: "` + created + `"}
spec:
  targetRefs: ` + targets + `
  validation: ` + validation + `
---
`
}

func policyOut(t *testing.T, res *Result, name string) *gwv1.BackendTLSPolicy {
	t.Helper()
	for _, p := range res.Status.BackendTLSPolicies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no BackendTLSPolicy %s", name)
	return nil
}

// ancestorConds returns the conditions of the only ancestor entry, which
// must be Gateway infra/gw.
func ancestorConds(t *testing.T, p *gwv1.BackendTLSPolicy) []metav1.Condition {
	t.Helper()
	if len(p.Status.Ancestors) != 1 {
		t.Fatalf("%s: %d ancestors, want 1: %+v", p.Name, len(p.Status.Ancestors), p.Status.Ancestors)
	}
	a := p.Status.Ancestors[0]
	if a.AncestorRef.Name != "gw" || a.AncestorRef.Kind == nil || *a.AncestorRef.Kind != "Gateway" ||
		a.AncestorRef.Namespace == nil || *a.AncestorRef.Namespace != "infra" {
		t.Fatalf("%s: ancestor %+v, want Gateway infra/gw", p.Name, a.AncestorRef)
	}
	return a.Conditions
}

func backendOf(t *testing.T, res *Result, path string) *ir.Backend {
	t.Helper()
	for _, l := range proxy(t, res, "infra/gw").HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Match.Path == path && r.Destination != nil && len(r.Destination.Backends) == 1 {
					return r.Destination.Backends[0]
				}
			}
		}
	}
	t.Fatalf("no single-backend route for %s", path)
	return nil
}

func TestBackendTLSPolicy(t *testing.T) {
	crt, key := selfSigned(t)
	svc := func(name, appProtocol string) string {
		ap := ""
		if appProtocol != "" {
			ap = ", appProtocol: " + appProtocol
		}
		return `
apiVersion: v1
kind: Service
metadata: {name: ` + name + `, namespace: infra}
spec:
  clusterIP: 10.96.0.9
  ports: [{name: https, port: 443` + ap + `}, {name: other, port: 8443}]
---
`
	}
	ca := `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: api.example.com}`
	in := gwWithTLS("  tls: {backend: {clientCertificateRef: {name: client}}}\n", `  - {name: http, port: 80, protocol: HTTP}`) +
		secretYAML("infra", "client", "kubernetes.io/tls", crt, key) +
		caConfigMapYAML("infra", "ca", string(crt)) +
		svc("a", "") + svc("b", "") + svc("c", "") + svc("d", "") + svc("e", "") + svc("ws", "kubernetes.io/wss") +
		policyYAML("old", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: a}]`, ca) +
		policyYAML("new", "2024-06-01T00:00:00Z", `[{group: "", kind: Service, name: a}]`, `{wellKnownCACertificates: System, hostname: new.example.com}`) +
		policyYAML("port", "2024-06-01T00:00:00Z", `[{group: "", kind: Service, name: b, sectionName: https}]`,
			`{wellKnownCACertificates: System, hostname: port.example.com, subjectAltNames: [{type: URI, uri: "spiffe://td/b"}]}`) +
		policyYAML("whole", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: b}]`, ca) +
		policyYAML("nocaref", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: c}]`, `{caCertificateRefs: [{group: "", kind: ConfigMap, name: missing}], hostname: c.example.com}`) +
		policyYAML("badkind", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: d}]`, `{caCertificateRefs: [{group: example.com, kind: Bundle, name: x}, {group: "", kind: ConfigMap, name: ca}], hostname: d.example.com}`) +
		policyYAML("wellknown", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: e}]`, `{wellKnownCACertificates: example.com/mine, hostname: e.example.com}`) +
		policyYAML("wspol", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: ws}]`, ca) +
		policyYAML("unused", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: nobody}]`, ca) + `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - {matches: [{path: {type: Exact, value: /a}}], backendRefs: [{name: a, port: 443}]}
  - {matches: [{path: {type: Exact, value: /b}}], backendRefs: [{name: b, port: 443}]}
  - {matches: [{path: {type: Exact, value: /b-other}}], backendRefs: [{name: b, port: 8443}]}
  - {matches: [{path: {type: Exact, value: /c}}], backendRefs: [{name: c, port: 443}]}
  - {matches: [{path: {type: Exact, value: /d}}], backendRefs: [{name: d, port: 443}]}
  - {matches: [{path: {type: Exact, value: /e}}], backendRefs: [{name: e, port: 443}]}
  - {matches: [{path: {type: Exact, value: /ws}}], backendRefs: [{name: ws, port: 443}]}
`
	res := run(t, in)

	// Oldest wins a shared target; the newer one is Conflicted.
	wantCond(t, ancestorConds(t, policyOut(t, res, "old")), "Accepted", "True", "Accepted")
	wantCond(t, ancestorConds(t, policyOut(t, res, "new")), "Accepted", "False", "Conflicted")
	a := backendOf(t, res, "/a")
	if a.TLS == nil || a.TLS.SNI != "api.example.com" || a.TLS.CACertificates != string(crt) || a.TLS.UseSystemCA {
		t.Fatalf("/a TLS = %+v, want the old policy", a.TLS)
	}
	// The Gateway's client certificate goes to every TLS backend.
	if a.TLS.ClientCertificate == nil || a.TLS.ClientCertificate.Name != "infra/client" {
		t.Errorf("/a client certificate = %+v", a.TLS.ClientCertificate)
	}
	// A sectionName policy beats a whole-Service one on its port only.
	if b := backendOf(t, res, "/b"); b.TLS == nil || b.TLS.SNI != "port.example.com" || !b.TLS.UseSystemCA ||
		len(b.TLS.SubjectAltNames) != 1 || b.TLS.SubjectAltNames[0] != (ir.SubjectAltName{Type: ir.SANURI, Value: "spiffe://td/b"}) {
		t.Errorf("/b TLS = %+v, want the port policy", b.TLS)
	}
	if b := backendOf(t, res, "/b-other"); b.TLS == nil || b.TLS.SNI != "api.example.com" {
		t.Errorf("/b-other TLS = %+v, want the whole-Service policy", b.TLS)
	}
	// No valid CA: not accepted, and the backend gets no endpoints (fail
	// closed) rather than plain text.
	pc := ancestorConds(t, policyOut(t, res, "nocaref"))
	wantCond(t, pc, "Accepted", "False", "NoValidCACertificate")
	wantCond(t, pc, "ResolvedRefs", "False", "InvalidCACertificateRef")
	if c := backendOf(t, res, "/c"); c.TLS != nil || len(c.Endpoints) != 0 {
		t.Errorf("/c = TLS %+v endpoints %v, want neither", c.TLS, c.Endpoints)
	}
	// One bad kind among good refs: accepted with the good CA.
	pd := ancestorConds(t, policyOut(t, res, "badkind"))
	wantCond(t, pd, "Accepted", "True", "Accepted")
	wantCond(t, pd, "ResolvedRefs", "False", "InvalidKind")
	if d := backendOf(t, res, "/d"); d.TLS == nil {
		t.Errorf("/d has no TLS")
	}
	// An unknown well-known set is Invalid and the backend fails.
	wantCond(t, ancestorConds(t, policyOut(t, res, "wellknown")), "Accepted", "False", "Invalid")
	if e := backendOf(t, res, "/e"); e.TLS != nil || len(e.Endpoints) != 0 {
		t.Errorf("/e = TLS %+v endpoints %v, want neither", e.TLS, e.Endpoints)
	}
	// wss rides on the policy.
	if ws := backendOf(t, res, "/ws"); ws.TLS == nil || ws.Protocol != ir.ProtocolWS {
		t.Errorf("/ws = protocol %s TLS %+v", ws.Protocol, ws.TLS)
	}
	// A policy no route reaches has no ancestor to report under.
	if n := len(policyOut(t, res, "unused").Status.Ancestors); n != 0 {
		t.Errorf("unused policy has %d ancestors", n)
	}
	found := false
	for _, p := range res.Problems {
		if p.Key.Kind == "BackendTLSPolicy" && p.Key.Name == "new" && p.Reason == "Conflicted" {
			found = true
		}
	}
	if !found {
		t.Errorf("problems do not report the conflicted policy: %v", res.Problems)
	}
}

// An appProtocol that needs TLS without a policy does not resolve.
func TestTLSAppProtocolWithoutPolicy(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+`
apiVersion: v1
kind: Service
metadata: {name: s, namespace: infra}
spec:
  clusterIP: 10.96.0.9
  ports: [{name: https, port: 443, appProtocol: kubernetes.io/wss}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: s, port: 443}]}]
`)
	c := wantCond(t, parentConds(t, routeOut(t, res, "infra", "r")), "ResolvedRefs", "False", "UnsupportedProtocol")
	if !strings.Contains(c.Message, "BackendTLSPolicy") {
		t.Errorf("message %q does not say a BackendTLSPolicy is needed", c.Message)
	}
}

// BackendTLSPolicy applies to terminated TLSRoute traffic (with the
// Gateway's client certificate), not behind a passthrough listener, where
// the client's own TLS reaches the backend, and not to TCPRoutes.
func TestBackendTLSPolicyL4Scope(t *testing.T) {
	crt, key := selfSigned(t)
	in := gwWithTLS("  tls: {backend: {clientCertificateRef: {name: client}}}\n", `  - {name: term, port: 9443, protocol: TLS, hostname: t.example.com, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
  - {name: pass, port: 9444, protocol: TLS, hostname: p.example.com, tls: {mode: Passthrough}}
  - {name: tcp, port: 9000, protocol: TCP}`) +
		secretYAML("infra", "cert", "kubernetes.io/tls", crt, key) + secretYAML("infra", "client", "kubernetes.io/tls", crt, key) +
		caConfigMapYAML("infra", "ca", string(crt)) + svcYAML +
		policyYAML("web", "2024-01-01T00:00:00Z", `[{group: "", kind: Service, name: web}]`, `{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: web.internal}`) +
		l4Doc("TLSRoute", "both", "2024-01-01T00:00:00Z", "{name: gw, sectionName: term}, {name: gw, sectionName: pass}", "", "{name: web, port: 80}") +
		l4Doc("TCPRoute", "raw", "2024-01-01T00:00:00Z", "{name: gw, sectionName: tcp}", "", "{name: web, port: 80}")
	res := run(t, in)
	seen := map[string]bool{}
	for _, l := range proxy(t, res, "infra/gw").TCP {
		for _, r := range l.Routes {
			be := r.Destination.Backends[0]
			seen[l.Name] = true
			switch l.Name {
			case "infra/gw/term":
				if be.TLS == nil || be.TLS.SNI != "web.internal" || be.TLS.ClientCertificate == nil {
					t.Errorf("terminated TLSRoute backend TLS = %+v, want the policy and the client certificate", be.TLS)
				}
			default:
				if be.TLS != nil {
					t.Errorf("%s backend got upstream TLS %+v", l.Name, be.TLS)
				}
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("routes on listeners %v, want term, pass and tcp", seen)
	}
}
