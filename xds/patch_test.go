package xds

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
)

func jpOp(typ, name, op, path string, value any) ir.JSONPatch {
	p := ir.JSONPatch{Type: typ, Name: name, Op: op, Path: path, HasPath: true}
	if value != nil {
		b, _ := json.Marshal(value)
		p.Value = b
	}
	return p
}

// patched translates one route with the given policies' patches.
func patched(t *testing.T, pols ...*ir.EnvoyPatch) *Resources {
	t.Helper()
	cfg := oneRoute(prefixRoute("httproute/default/r/rule/0/match/0/*", "/"))
	cfg.Proxies[0].Patches = pols
	return translateOne(t, cfg)
}

func TestPatchEveryOp(t *testing.T) {
	const rc, cl, lis = ir.TypeRouteConfig, ir.TypeCluster, ir.TypeListener
	cla := ir.TypeEndpoints
	clusterName := "httproute/default/r/rule/0/match/0/*-dest"
	pol := &ir.EnvoyPatch{Policy: "default/p", Patches: []ir.JSONPatch{
		jpOp(lis, "default/eg/http", "replace", "/per_connection_buffer_limit_bytes", 4096),
		jpOp(rc, "default/eg/http", "add", "/response_headers_to_add", []any{map[string]any{"header": map[string]any{"key": "x-a", "value": "1"}}}),
		jpOp(rc, "default/eg/http", "test", "/name", "default/eg/http"),
		jpOp(rc, "default/eg/http", "remove", "/virtual_hosts/0/routes/0/route/upgrade_configs", nil),
		{Type: rc, Name: "default/eg/http", Op: "copy", From: "/virtual_hosts/0/name", HasFrom: true, Path: "/virtual_hosts/0/domains/-", HasPath: true},
		{Type: rc, Name: "default/eg/http", Op: "move", From: "/virtual_hosts/0/domains/1", HasFrom: true, Path: "/virtual_hosts/0/domains/0", HasPath: true},
		jpOp(cl, clusterName, "replace", "/connect_timeout", "3s"),
		jpOp(cla, clusterName, "replace", "/endpoints/0/load_balancing_weight", 7),
		// JSONPath: every route of every virtual host, path appended.
		{Type: rc, Name: "default/eg/http", Op: "add", JSONPath: "$.virtual_hosts[*].routes[*].route", Path: "timeout", HasPath: true, Value: json.RawMessage(`"9s"`)},
		// A new cluster.
		jpOp(cl, "", "add", "", map[string]any{"name": "extra", "type": "STATIC", "connect_timeout": "1s"}),
	}}
	r := patched(t, pol)
	if len(r.PatchResults) != 1 || len(r.PatchResults[0].Errors)+len(r.PatchResults[0].NotFound) != 0 {
		t.Fatalf("results = %+v", r.PatchResults)
	}
	if got := r.Listeners[0].GetPerConnectionBufferLimitBytes().GetValue(); got != 4096 {
		t.Errorf("listener buffer limit = %d", got)
	}
	rt := r.Routes[0]
	if len(rt.ResponseHeadersToAdd) != 1 || rt.ResponseHeadersToAdd[0].Header.Key != "x-a" {
		t.Errorf("response headers = %v", rt.ResponseHeadersToAdd)
	}
	vh := rt.VirtualHosts[0]
	if strings.Join(vh.Domains, ",") != "default/eg/http/*,*" {
		t.Errorf("domains after copy+move = %v", vh.Domains)
	}
	route := vh.Routes[0].GetRoute()
	if len(route.UpgradeConfigs) != 0 || route.GetTimeout().AsDuration().Seconds() != 9 {
		t.Errorf("route action = %v", route)
	}
	if got := findCluster(t, r, clusterName).GetConnectTimeout().AsDuration().Seconds(); got != 3 {
		t.Errorf("connect timeout = %v", got)
	}
	findCluster(t, r, "extra")
	if got := r.Endpoints[0].Endpoints[0].GetLoadBalancingWeight().GetValue(); got != 7 {
		t.Errorf("locality weight = %d", got)
	}
}

func TestPatchAllOrNothing(t *testing.T) {
	good := jpOp(ir.TypeListener, "default/eg/http", "replace", "/per_connection_buffer_limit_bytes", 4096)
	before := patched(t)
	for name, bad := range map[string]ir.JSONPatch{
		"failed test":     jpOp(ir.TypeRouteConfig, "default/eg/http", "test", "/name", "other"),
		"missing":         jpOp(ir.TypeCluster, "nope", "replace", "/connect_timeout", "1s"),
		"invalid result":  jpOp(ir.TypeCluster, "httproute/default/r/rule/0/match/0/*-dest", "replace", "/connect_timeout", "-1s"),
		"unknown field":   jpOp(ir.TypeRouteConfig, "default/eg/http", "add", "/bogus", 1),
		"bad path":        jpOp(ir.TypeRouteConfig, "default/eg/http", "replace", "/virtual_hosts/7/name", "x"),
		"no path":         {Type: ir.TypeRouteConfig, Name: "default/eg/http", Op: "remove"},
		"value on remove": jpOp(ir.TypeRouteConfig, "default/eg/http", "remove", "/name", "x"),
		"unknown op":      jpOp(ir.TypeRouteConfig, "default/eg/http", "merge", "/name", "x"),
		"empty jsonPath":  {Type: ir.TypeRouteConfig, Name: "default/eg/http", Op: "remove", JSONPath: "$.nothing[*]"},
		"root jsonPath":   {Type: ir.TypeRouteConfig, Name: "default/eg/http", Op: "remove", JSONPath: "$"},
		"duplicate add":   jpOp(ir.TypeCluster, "", "add", "", map[string]any{"name": "httproute/default/r/rule/0/match/0/*-dest", "type": "STATIC"}),
	} {
		t.Run(name, func(t *testing.T) {
			r := patched(t, &ir.EnvoyPatch{Policy: "default/p", Patches: []ir.JSONPatch{good, bad}})
			res := r.PatchResults[0]
			if len(res.Errors)+len(res.NotFound) == 0 || res.Applied != 0 {
				t.Fatalf("result = %+v, want a failure", res)
			}
			// Nothing of the policy was applied, not even the good patch.
			if !proto.Equal(r.Listeners[0], before.Listeners[0]) || !proto.Equal(r.Routes[0], before.Routes[0]) {
				t.Fatal("a failed policy changed the resources")
			}
		})
	}
}

func TestPatchLeavesSharedPartsAlone(t *testing.T) {
	// Two routes share cluster defaults (connect timeout, lb policy):
	// patching one cluster must not change the other.
	cfg := oneRoute(prefixRoute("a", "/a"), prefixRoute("b", "/b"))
	cfg.Proxies[0].Patches = []*ir.EnvoyPatch{{Policy: "default/p", Patches: []ir.JSONPatch{
		jpOp(ir.TypeCluster, "a-dest", "replace", "/connect_timeout", "4s"),
	}}}
	r := translateOne(t, cfg)
	if got := findCluster(t, r, "a-dest").GetConnectTimeout().AsDuration().Seconds(); got != 4 {
		t.Fatalf("a = %v", got)
	}
	if got := findCluster(t, r, "b-dest").GetConnectTimeout().AsDuration().Seconds(); got != 10 {
		t.Fatalf("b = %v, the patch leaked through a shared message", got)
	}
}

func TestPatchRenameOntoAnother(t *testing.T) {
	cfg := oneRoute(prefixRoute("a", "/a"), prefixRoute("b", "/b"))
	cfg.Proxies[0].Patches = []*ir.EnvoyPatch{{Policy: "default/p", Patches: []ir.JSONPatch{
		jpOp(ir.TypeCluster, "a-dest", "replace", "/name", "b-dest"),
	}}}
	r := translateOne(t, cfg)
	if res := r.PatchResults[0]; len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "renamed") {
		t.Fatalf("result = %+v", res)
	}
}

func TestPatchSharedNotFound(t *testing.T) {
	r := patched(t, &ir.EnvoyPatch{Policy: "default/p", Shared: true, Patches: []ir.JSONPatch{
		jpOp(ir.TypeListener, "default/eg/http", "replace", "/per_connection_buffer_limit_bytes", 4096),
		jpOp(ir.TypeListener, "default/other/http", "replace", "/per_connection_buffer_limit_bytes", 1),
	}})
	res := r.PatchResults[0]
	if len(res.NotFound) != 1 || len(res.Errors) != 0 || res.Applied != 1 {
		t.Fatalf("result = %+v", res)
	}
	if r.Listeners[0].GetPerConnectionBufferLimitBytes().GetValue() != 4096 {
		t.Fatal("a class-wide policy must apply what this proxy has")
	}
}

func TestPatchesReachTheBootstrap(t *testing.T) {
	r := patched(t, &ir.EnvoyPatch{Policy: "default/p", Patches: []ir.JSONPatch{
		jpOp(ir.TypeRouteConfig, "default/eg/http", "add", "/response_headers_to_add",
			[]any{map[string]any{"header": map[string]any{"key": "x-boot", "value": "1"}}}),
		jpOp(ir.TypeEndpoints, "httproute/default/r/rule/0/match/0/*-dest", "replace", "/endpoints/0/load_balancing_weight", 5),
	}})
	bs, err := StaticBootstrap(r, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dump, err := Marshal(bs, "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dump), "x-boot") || !strings.Contains(string(dump), `"loadBalancingWeight": 5`) {
		t.Fatalf("bootstrap lacks the patches:\n%s", dump)
	}
}
