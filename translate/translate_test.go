package translate

import (
	"reflect"
	"testing"
	"time"

	"github.com/egctl/egctl/ir"
	"sigs.k8s.io/yaml"
)

func TestBasicTranslation(t *testing.T) {
	in := loadSet(t, "base.yaml", "basic-route.yaml")
	res, err := Translate(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The other controller's Gateway compiles to nothing, which fails a
	// CI gate (unserved.go); nothing else is wrong.
	if len(res.Problems) != 1 || res.Problems[0].Reason != ReasonForeignClass || res.Problems[0].Key.Name != "foreign" {
		t.Fatalf("problems: %v", res.Problems)
	}
	// Our class is accepted; the other controller's class is untouched.
	wantCond(t, res.Status.GatewayClasses[0].Status.Conditions, "Accepted", "True", "Accepted")
	if len(res.Status.GatewayClasses[1].Status.Conditions) != 0 {
		t.Fatalf("foreign GatewayClass got status: %+v", res.Status.GatewayClasses[1].Status)
	}
	if len(res.Status.Gateways[1].Status.Conditions) != 0 {
		t.Fatalf("foreign Gateway got status")
	}
	gw := gatewayOut(t, res, "infra", "gw")
	c := wantCond(t, gw.Status.Conditions, "Accepted", "True", "Accepted")
	if c.ObservedGeneration != 3 || !c.LastTransitionTime.Time.Equal(time.Unix(0, 0)) {
		t.Fatalf("condition generation/time = %d/%v", c.ObservedGeneration, c.LastTransitionTime)
	}
	wantCond(t, gw.Status.Conditions, "Programmed", "True", "Programmed")
	ls := listenerStatus(t, gw, "http")
	if ls.AttachedRoutes != 1 || len(ls.SupportedKinds) != 2 || ls.SupportedKinds[0].Kind != "HTTPRoute" || ls.SupportedKinds[1].Kind != "GRPCRoute" {
		t.Fatalf("listener status = %+v", ls)
	}
	wantCond(t, ls.Conditions, "Programmed", "True", "Programmed")
	wantCond(t, ls.Conditions, "Conflicted", "False", "NoConflicts")

	r := routeOut(t, res, "app", "web")
	pc := parentConds(t, r) // the foreign Gateway gets no entry from us
	wantCond(t, pc, "Accepted", "True", "Accepted")
	if wantCond(t, pc, "ResolvedRefs", "True", "ResolvedRefs").ObservedGeneration != 7 {
		t.Fatal("route condition lacks observedGeneration")
	}
	if in.HTTPRoutes[0].Status.Parents != nil {
		t.Fatal("input object was modified")
	}

	p := proxy(t, res, "infra/gw")
	if len(res.IR.Proxies) != 1 || len(p.HTTP) != 1 {
		t.Fatalf("proxies = %d, listeners = %d", len(res.IR.Proxies), len(p.HTTP))
	}
	l := p.HTTP[0]
	if l.Name != "infra/gw/http" || l.Port != 10080 || l.GatewayPort != 80 || l.Address != "0.0.0.0" {
		t.Fatalf("listener = %+v", l)
	}
	v := vhost(t, p, "infra/gw/http/www_example_com")
	if !reflect.DeepEqual(v.Domains, []string{"www.example.com"}) {
		t.Fatalf("domains = %v", v.Domains)
	}
	want := []string{
		"httproute/app/web/rule/0/match/0/www_example_com",
		"httproute/app/web/rule/1/match/0/www_example_com",
	}
	if got := routeNames(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
	shop := v.Routes[0]
	if shop.Match.PathType != ir.PathPrefix || shop.Match.Path != "/shop" {
		t.Fatalf("trailing slash not normalised: %+v", shop.Match)
	}
	d := shop.Destination
	if d == nil || d.Name != "httproute/app/web/rule/0" || len(d.Backends) != 2 || d.InvalidWeight != 0 {
		t.Fatalf("destination = %+v", d)
	}
	web, api := d.Backends[0], d.Backends[1]
	wantEP := []ir.Endpoint{{Host: "10.0.0.1", Port: 9090}, {Host: "10.0.0.2", Port: 9090}}
	if web.Name != "httproute/app/web/rule/0/backend/0" || web.Weight != 90 || !reflect.DeepEqual(web.Endpoints, wantEP) ||
		web.Protocol != ir.ProtocolHTTP1 || *web.Metadata != (ir.Metadata{Kind: "Service", Namespace: "app", Name: "web", SectionName: "8080"}) {
		t.Fatalf("web backend = %+v", web)
	}
	// No EndpointSlice for api: the cluster IP stands in.
	if api.Weight != 10 || api.Protocol != ir.ProtocolHTTP2 || !reflect.DeepEqual(api.Endpoints, []ir.Endpoint{{Host: "10.96.0.11", Port: 9000}}) {
		t.Fatalf("api backend = %+v", api)
	}
	root := v.Routes[1]
	if root.Match.Path != "/" || root.Match.PathType != ir.PathPrefix || root.Metadata.SectionName != "root" {
		t.Fatalf("default match/metadata = %+v %+v", root.Match, root.Metadata)
	}
}

func TestKeepPrivilegedPorts(t *testing.T) {
	in := loadSet(t, "base.yaml")
	res, _ := Translate(in, Options{KeepPrivilegedPorts: true})
	if got := res.IR.Proxies[0].HTTP[0].Port; got != 80 {
		t.Fatalf("port = %d, want 80", got)
	}
	res = run(t, gwYAML(`  - {name: a, port: 8080, protocol: HTTP}
  - {name: b, port: 1023, protocol: HTTP}`))
	p := res.IR.Proxies[0]
	if p.HTTP[0].Name != "infra/gw/a" || p.HTTP[0].Port != 8080 || p.HTTP[1].Port != 11023 {
		t.Fatalf("ports: %s=%d %s=%d", p.HTTP[0].Name, p.HTTP[0].Port, p.HTTP[1].Name, p.HTTP[1].Port)
	}
}

func TestControllerName(t *testing.T) {
	in := loadSet(t, "base.yaml", "basic-route.yaml")
	res, _ := Translate(in, Options{ControllerName: "example.com/other"})
	if len(res.IR.Proxies) != 1 || res.IR.Proxies[0].Name != "infra/foreign" {
		t.Fatalf("proxies = %+v", res.IR.Proxies)
	}
	if res.Status.GatewayClasses[0].Status.Conditions != nil {
		t.Fatal("class eg is no longer ours but got status")
	}
	r := routeOut(t, res, "app", "web")
	if len(r.Status.Parents) != 1 || r.Status.Parents[0].ControllerName != "example.com/other" || r.Status.Parents[0].ParentRef.Name != "foreign" {
		t.Fatalf("parents = %+v", r.Status.Parents)
	}
}

func TestDeterminism(t *testing.T) {
	in := loadSet(t, "base.yaml", "basic-route.yaml")
	a, _ := Translate(in, Options{})
	b, _ := Translate(in, Options{})
	ya, err := yaml.Marshal([]any{a.IR, a.Status.Gateways, a.Status.HTTPRoutes, a.Problems})
	if err != nil {
		t.Fatal(err)
	}
	yb, _ := yaml.Marshal([]any{b.IR, b.Status.Gateways, b.Status.HTTPRoutes, b.Problems})
	if string(ya) != string(yb) || !reflect.DeepEqual(a, b) {
		t.Fatal("two translations of the same input differ")
	}
}

func TestMissingClassAndNilSet(t *testing.T) {
	res := run(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: nowhere
  listeners: [{name: http, port: 80, protocol: HTTP}]
`)
	// Not known to be ours: no status, nothing compiled, and a Problem
	// without a condition so that CI fails.
	if len(res.IR.Proxies) != 0 || res.Status.Gateways[0].Status.Conditions != nil {
		t.Fatalf("a Gateway of a missing class is not ours: %+v", res)
	}
	if len(res.Problems) != 1 || res.Problems[0].String() != "Gateway infra/gw: GatewayClass nowhere is not in the input; nothing is compiled for this Gateway (add the GatewayClass manifest)" {
		t.Fatalf("problems: %v", res.Problems)
	}
	if r, err := Translate(nil, Options{}); err != nil || len(r.IR.Proxies) != 0 {
		t.Fatalf("nil set: %v", err)
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{Condition: "Accepted", Reason: "NotAllowedByListeners", Message: "nope"}
	p.Key.Kind, p.Key.Namespace, p.Key.Name = "HTTPRoute", "ns", "r"
	if got := p.String(); got != "HTTPRoute ns/r: Accepted NotAllowedByListeners: nope" {
		t.Fatalf("String() = %q", got)
	}
	p.Condition = ""
	if got := p.String(); got != "HTTPRoute ns/r: nope" {
		t.Fatalf("String() without a condition = %q", got)
	}
}

func TestDuplicateRouteFirstWins(t *testing.T) {
	route := `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`
	res := run(t, gwYAML(`  - {name: http, port: 80, protocol: HTTP}`)+svcYAML+route+route)
	if n := len(proxy(t, res, "infra/gw").HTTP[0].VirtualHosts[0].Routes); n != 1 {
		t.Fatalf("routes = %d, want 1", n)
	}
	if res.Status.HTTPRoutes[1].Status.Parents != nil {
		t.Fatal("the ignored duplicate got a status")
	}
}
