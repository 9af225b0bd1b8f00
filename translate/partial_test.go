package translate

import (
	"slices"
	"strings"
	"testing"
)

// egRepro is the bug reports' setup: GatewayClass eg, Gateway default/gw
// with an HTTP listener on 8080, Service default/svc on 127.0.0.1:3000.
const egRepro = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec:
  clusterIP: 127.0.0.1
  ports: [{name: http, port: 3000}]
---
`

func routeYAML(rules string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
` + rules + "\n---\n"
}

func hasProblem(res *Result, kind, condition string) bool {
	for _, p := range res.Problems {
		if p.Key.Kind == kind && p.Condition == condition {
			return true
		}
	}
	return false
}

// TestPartiallyInvalidDropsRule: a route with one valid rule and one whose
// regex RE2 rejects stays Accepted, says PartiallyInvalid ("Dropped Rule"),
// programs only the valid rule and is still listed as a Problem.
func TestPartiallyInvalidDropsRule(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /ok}}]
    backendRefs: [{name: svc, port: 3000}]
  - matches: [{path: {type: RegularExpression, value: "*bad"}}]
    backendRefs: [{name: svc, port: 3000}]`))
	conds := parentConds(t, routeOut(t, res, "default", "r"))
	wantCond(t, conds, "Accepted", "True", "Accepted")
	pi := wantCond(t, conds, "PartiallyInvalid", "True", "UnsupportedValue")
	if !strings.HasPrefix(pi.Message, "Dropped Rule") || !strings.Contains(pi.Message, "rules[1]") {
		t.Errorf("PartiallyInvalid message %q", pi.Message)
	}
	names := routeNames(vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*"))
	for _, n := range names {
		if strings.Contains(n, "/rule/1/") {
			t.Errorf("dropped rule programmed: %v", names)
		}
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "/rule/0/") }) {
		t.Errorf("valid rule missing: %v", names)
	}
	if !hasProblem(res, "HTTPRoute", "PartiallyInvalid") {
		t.Errorf("no PartiallyInvalid problem in %v", res.Problems)
	}
	if g := gatewayOut(t, res, "default", "gw"); listenerStatus(t, g, "http").AttachedRoutes != 1 {
		t.Errorf("attachedRoutes = %d, want 1", listenerStatus(t, g, "http").AttachedRoutes)
	}
}

// TestAllRulesInvalidNotAccepted: when every rule is invalid the route is
// not accepted and its rules fail closed.
func TestAllRulesInvalidNotAccepted(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /a}}]
    timeouts: {request: bogus}
    backendRefs: [{name: svc, port: 3000}]`))
	conds := parentConds(t, routeOut(t, res, "default", "r"))
	wantCond(t, conds, "Accepted", "False", "UnsupportedValue")
	for _, c := range conds {
		if c.Type == "PartiallyInvalid" {
			t.Errorf("PartiallyInvalid set on a fully invalid route: %+v", c)
		}
	}
	vh := vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*")
	if len(vh.Routes) != 1 || vh.Routes[0].DirectResponse == nil || vh.Routes[0].DirectResponse.StatusCode != 500 {
		t.Errorf("want one direct 500 route, got %+v", vh.Routes)
	}
}

// TestUnsupportedRuleFailsClosed: an unsupported feature in one rule keeps
// the route Accepted=False (documented in partial.go) with that rule
// answering 500 and the other rule served.
func TestUnsupportedRuleFailsClosed(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /ok}}]
    backendRefs: [{name: svc, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /sticky}}]
    sessionPersistence: {sessionName: s, absoluteTimeout: 1h}
    backendRefs: [{name: svc, port: 3000}]`))
	conds := parentConds(t, routeOut(t, res, "default", "r"))
	wantCond(t, conds, "Accepted", "False", "UnsupportedValue")
	vh := vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*")
	var got500, gotDest bool
	for _, r := range vh.Routes {
		switch r.Match.Path {
		case "/sticky":
			got500 = r.DirectResponse != nil && r.DirectResponse.StatusCode == 500
		case "/ok":
			gotDest = r.Destination != nil
		}
	}
	if !got500 || !gotDest {
		t.Errorf("sticky 500=%v ok served=%v: %+v", got500, gotDest, vh.Routes)
	}
}

// TestAttachedRoutesSkipsNotAccepted: routes Accepted=False are not counted
// in attachedRoutes; a PartiallyInvalid (accepted) one is.
func TestAttachedRoutesSkipsNotAccepted(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /foo}}]
    filters: [{type: Foo}]
    backendRefs: [{name: svc, port: 3000}]`)+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: good, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 3000}]}]
`)
	wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
	if n := listenerStatus(t, gatewayOut(t, res, "default", "gw"), "http").AttachedRoutes; n != 1 {
		t.Errorf("attachedRoutes = %d, want 1 (only the accepted route)", n)
	}
}

// TestGRPCRoutePartiallyInvalid: a GRPCRoute rule whose method regex does
// not compile is dropped like an HTTPRoute rule; an unknown method match
// type still refuses the route.
func TestGRPCRoutePartiallyInvalid(t *testing.T) {
	doc := func(match string) string {
		return gwYAML(`  - {name: http, port: 80, protocol: HTTP}`) + grpcSvc + `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{method: {service: ok.Svc}}]
    backendRefs: [{name: grpc, port: 9000}]
  - matches: [` + match + `]
    backendRefs: [{name: grpc, port: 9000}]
`
	}
	res := run(t, doc(`{method: {type: RegularExpression, service: "*bad"}}`))
	conds := grpcParentConds(t, grpcOut(t, res, "infra", "g"))
	wantCond(t, conds, "Accepted", "True", "Accepted")
	pi := wantCond(t, conds, "PartiallyInvalid", "True", "UnsupportedValue")
	if !strings.HasPrefix(pi.Message, "Dropped Rule(s) [1]") {
		t.Errorf("message %q", pi.Message)
	}
	for _, r := range vhost(t, proxy(t, res, "infra/gw"), "infra/gw/http/*").Routes {
		if strings.Contains(r.Name, "/rule/1/") {
			t.Errorf("dropped rule programmed: %s", r.Name)
		}
	}

	res = run(t, doc(`{method: {type: Foo, service: x}}`))
	wantCond(t, grpcParentConds(t, grpcOut(t, res, "infra", "g")), "Accepted", "False", "UnsupportedValue")
}
