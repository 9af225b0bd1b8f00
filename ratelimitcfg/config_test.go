package ratelimitcfg

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

func route(name string, g *ir.GlobalRateLimit) *ir.HTTPRoute {
	return &ir.HTTPRoute{Name: name, Traffic: &ir.TrafficSettings{RateLimit: &ir.RateLimit{Global: g}}}
}

func proxy(l string, routes ...*ir.HTTPRoute) *ir.Proxy {
	return &ir.Proxy{HTTP: []*ir.HTTPListener{{Name: l, VirtualHosts: []*ir.VirtualHost{{Routes: routes}}}}}
}

// TestSharedRuleOneDescriptor: a shared rule used by routes of two proxies,
// and merged after a route policy's own shared rule on one of them, is one
// descriptor with the same entries everywhere.
func TestSharedRuleOneDescriptor(t *testing.T) {
	gwRule := &ir.RateLimitRule{Name: "ns/gw/rule/0", Shared: true, Headers: []ir.RateLimitMatch{{Name: "x", Type: ir.RateLimitDistinct}},
		Limit: ir.RateLimitValue{Requests: 5, Unit: ir.RateLimitMinute}}
	routeRule := &ir.RateLimitRule{Name: "ns/rt/rule/0", Shared: true, Limit: ir.RateLimitValue{Requests: 1, Unit: ir.RateLimitSecond}}
	plain := &ir.GlobalRateLimit{Rules: []*ir.RateLimitRule{gwRule}}
	merged := &ir.GlobalRateLimit{Rules: []*ir.RateLimitRule{routeRule, gwRule}}
	cfg := &ir.Config{Proxies: []*ir.Proxy{
		proxy("ns/a/http", route("r1", plain), route("r2", merged)),
		proxy("ns/b/http", route("r3", plain)),
	}}
	domains, err := Config(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(domains) != 2 || domains[0].Domain != "ns/gw" || domains[1].Domain != "ns/rt" {
		t.Fatalf("domains = %v", domains)
	}
	gw := domains[0].Descriptors
	if len(gw) != 1 || len(gw[0].Descriptors) != 1 || gw[0].Descriptors[0].Key != "rule-0-match-0" {
		t.Fatalf("the shared rule is not one descriptor rule-0-match-0: %+v", gw)
	}
	if d := Global("ns/a/http", "r2", merged.Rules, 1); d.Entries[1].Key != "rule-0-match-0" || d.Domain != "ns/gw" {
		t.Fatalf("merged after another policy's shared rule, the rule's entries changed: %+v", d)
	}
}

func TestConflictingLimits(t *testing.T) {
	a := &ir.RateLimitRule{Name: "ns/p/rule/0", Shared: true, Limit: ir.RateLimitValue{Requests: 5, Unit: ir.RateLimitMinute}}
	b := *a
	b.Limit.Requests = 6
	cfg := &ir.Config{Proxies: []*ir.Proxy{proxy("ns/a/http",
		route("r1", &ir.GlobalRateLimit{Rules: []*ir.RateLimitRule{a}}),
		route("r2", &ir.GlobalRateLimit{Rules: []*ir.RateLimitRule{&b}}))}}
	if _, err := Config(cfg); err == nil || !strings.Contains(err.Error(), "already has another limit") {
		t.Fatalf("err = %v, want a conflict", err)
	}
}
