package translate

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

func grpcOut(t testing.TB, res *Result, ns, name string) *gwv1.GRPCRoute {
	t.Helper()
	for _, r := range res.Status.GRPCRoutes {
		if r.Namespace == ns && r.Name == name {
			return r
		}
	}
	t.Fatalf("no GRPCRoute %s/%s in output", ns, name)
	return nil
}

func grpcParentConds(t testing.TB, r *gwv1.GRPCRoute) []metav1.Condition {
	t.Helper()
	if len(r.Status.Parents) != 1 {
		t.Fatalf("GRPCRoute %s: %d parent statuses, want 1", r.Name, len(r.Status.Parents))
	}
	return r.Status.Parents[0].Conditions
}

const grpcSvc = `
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: infra}
spec:
  clusterIP: 10.96.0.7
  ports: [{name: grpc, port: 9000}]
---
`

func TestGRPCRouteMethodMatches(t *testing.T) {
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+grpcSvc+`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches:
    - method: {service: helloworld.Greeter, method: SayHello}
      headers: [{name: X-Version, value: "2"}]
    - method: {service: helloworld.Greeter}
    - method: {method: Check}
    - method: {type: RegularExpression, service: "grpc\\.health\\..*"}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-via, value: egctl}]}
    backendRefs: [{name: grpc, port: 9000, weight: 3}, {name: web, port: 80}]
  - backendRefs: [{name: grpc, port: 9000}]
---
`+svcYAML)
	wantCond(t, grpcParentConds(t, grpcOut(t, res, "infra", "g")), "Accepted", "True", "Accepted")
	ls := listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "http")
	if ls.AttachedRoutes != 1 {
		t.Fatalf("attachedRoutes = %d, want 1", ls.AttachedRoutes)
	}
	v := vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/grpc_example_com")
	byName := map[string]*ir.HTTPRoute{}
	for _, r := range v.Routes {
		byName[r.Name] = r
	}
	want := map[string]ir.HTTPMatch{
		"grpcroute/infra/g/rule/0/match/0/grpc_example_com": {PathType: ir.PathExact, Path: "/helloworld.Greeter/SayHello",
			Headers: []ir.StringMatch{{Name: "x-version", Type: ir.MatchExact, Value: "2"}}},
		"grpcroute/infra/g/rule/0/match/1/grpc_example_com": {PathType: ir.PathPrefix, Path: "/helloworld.Greeter"},
		"grpcroute/infra/g/rule/0/match/2/grpc_example_com": {PathType: ir.PathRegex, Path: "/[^/]+/Check"},
		"grpcroute/infra/g/rule/0/match/3/grpc_example_com": {PathType: ir.PathRegex, Path: `/(grpc\.health\..*)/([^/]+)`},
		// A rule without matches is named match/-1, as Envoy Gateway names
		// it (the API server adds no match to a GRPCRoute rule).
		"grpcroute/infra/g/rule/1/match/-1/grpc_example_com": {PathType: ir.PathPrefix, Path: "/"},
	}
	for name, m := range want {
		r := byName[name]
		if r == nil {
			t.Fatalf("no route %s; have %v", name, routeNames(v))
		}
		if r.Match.PathType != m.PathType || r.Match.Path != m.Path || !slices.Equal(r.Match.Headers, m.Headers) {
			t.Errorf("%s: match = %+v, want %+v", name, r.Match, m)
		}
	}
	// The catch-all rule comes last.
	if last := v.Routes[len(v.Routes)-1].Name; last != "grpcroute/infra/g/rule/1/match/-1/grpc_example_com" {
		t.Errorf("last route = %s", last)
	}
	r0 := byName["grpcroute/infra/g/rule/0/match/0/grpc_example_com"]
	d := r0.Destination
	if d == nil || d.Name != "grpcroute/infra/g/rule/0" || len(d.Backends) != 2 {
		t.Fatalf("destination = %+v", d)
	}
	for _, be := range d.Backends {
		if be.Protocol != ir.ProtocolHTTP2 {
			t.Errorf("backend %s protocol %s, want HTTP/2 for a GRPCRoute", be.Name, be.Protocol)
		}
	}
	if d.Backends[0].Weight != 3 || d.Backends[1].Weight != 1 || d.Metadata.Kind != "GRPCRoute" {
		t.Errorf("weights/metadata = %d %d %+v", d.Backends[0].Weight, d.Backends[1].Weight, d.Metadata)
	}
	if r0.RequestHeaders == nil || len(r0.RequestHeaders.Set) != 1 {
		t.Errorf("request header filter lost: %+v", r0.RequestHeaders)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestGRPCRouteStatus(t *testing.T) {
	tests := []struct {
		name, listener, spec string
		accepted             string
		msg                  string
	}{
		{"tcp-only kinds", `  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}]}}`,
			`  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: grpc, port: 9000}]}]`, "False/NotAllowedByListeners", "does not allow kind GRPCRoute"},
		{"empty method match", `  - {name: http, port: 80, protocol: HTTP}`,
			`  parentRefs: [{name: gw}]
  rules: [{matches: [{method: {type: Exact}}], backendRefs: [{name: grpc, port: 9000}]}]`, "False/UnsupportedValue", "neither service nor method"},
		{"bad regex", `  - {name: http, port: 80, protocol: HTTP}`,
			`  parentRefs: [{name: gw}]
  rules: [{matches: [{method: {type: RegularExpression, service: "("}}], backendRefs: [{name: grpc, port: 9000}]}]`, "False/UnsupportedValue", "regex"},
		{"grpc kind allowed explicitly", `  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: GRPCRoute}]}}`,
			`  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: grpc, port: 9000}]}]`, "True/Accepted", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, gwYAML(tc.listener)+grpcSvc+`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
`+tc.spec)
			st := strings.SplitN(tc.accepted, "/", 2)
			c := wantCond(t, grpcParentConds(t, grpcOut(t, res, "infra", "g")), "Accepted", st[0], st[1])
			if !strings.Contains(c.Message, tc.msg) {
				t.Errorf("message %q lacks %q", c.Message, tc.msg)
			}
			if err := res.IR.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An HTTPRoute and a GRPCRoute with intersecting hostnames on one listener:
// the older one is accepted, the other is Accepted=False and not programmed.
func TestGRPCRouteHTTPRouteConflict(t *testing.T) {
	doc := func(kind, name, created, host string) string {
		return `
apiVersion: gateway.networking.k8s.io/v1
kind: ` + kind + `
metadata: {name: ` + name + `, namespace: infra, creationTimestamp: "` + created + `"}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["` + host + `"]
  rules: [{backendRefs: [{name: grpc, port: 9000}]}]
---
`
	}
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+grpcSvc+
		doc("HTTPRoute", "web-new", "2024-01-02T00:00:00Z", "*.example.com")+
		doc("GRPCRoute", "grpc-old", "2024-01-01T00:00:00Z", "api.example.com")+
		doc("GRPCRoute", "grpc-other", "2024-01-03T00:00:00Z", "other.net"))
	wantCond(t, grpcParentConds(t, grpcOut(t, res, "infra", "grpc-old")), "Accepted", "True", "Accepted")
	wantCond(t, grpcParentConds(t, grpcOut(t, res, "infra", "grpc-other")), "Accepted", "True", "Accepted")
	c := wantCond(t, parentConds(t, routeOut(t, res, "infra", "web-new")), "Accepted", "False", "HostnameConflict")
	if !strings.Contains(c.Message, "GRPCRoute infra/grpc-old") {
		t.Errorf("message %q does not name the winner", c.Message)
	}
	if n := listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "http").AttachedRoutes; n != 2 {
		t.Errorf("attachedRoutes = %d, want 2", n)
	}
	p := proxy(t, res, "infra/gw")
	for _, l := range p.HTTP {
		for _, v := range l.VirtualHosts {
			for _, r := range v.Routes {
				if strings.HasPrefix(r.Name, "httproute/") {
					t.Errorf("losing HTTPRoute still programmed: %s", r.Name)
				}
			}
		}
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
}
