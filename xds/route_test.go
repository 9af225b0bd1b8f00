package xds

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/egctl/egctl/ir"
)

func TestRouteMatch(t *testing.T) {
	cases := []struct {
		name  string
		match ir.HTTPMatch
		want  *routev3.RouteMatch
	}{
		{"exact", ir.HTTPMatch{PathType: ir.PathExact, Path: "/a"},
			&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}}},
		{"prefix root", ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"},
			&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}},
		{"prefix trailing slash", ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/foo/"},
			&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/foo"}}},
		{"regex", ir.HTTPMatch{PathType: ir.PathRegex, Path: "/x/.*"},
			&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: regexMatcher("/x/.*").GetSafeRegex()}}},
		{"method headers query grpc", ir.HTTPMatch{PathType: ir.PathExact, Path: "/s/M", Method: "POST", GRPC: true,
			Headers:     []ir.StringMatch{{Name: "h", Type: ir.MatchExact, Value: "v"}, {Name: "r", Type: ir.MatchRegex, Value: "a+"}},
			QueryParams: []ir.StringMatch{{Name: "q", Value: "1"}}},
			&routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Path{Path: "/s/M"},
				Headers: []*routev3.HeaderMatcher{
					{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher("POST")}},
					{Name: "h", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher("v")}},
					{Name: "r", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: regexMatcher("a+")}},
				},
				QueryParameters: []*routev3.QueryParameterMatcher{
					{Name: "q", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exactMatcher("1")}},
				},
				Grpc: &routev3.RouteMatch_GrpcRouteMatchOptions{},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := prefixRoute("r", "/")
			rt.Match = c.match
			got := firstRoute(t, translateOne(t, oneRoute(rt))).Match
			if !proto.Equal(got, c.want) {
				t.Errorf("match\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestRouteExactlyOneAction(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.DirectResponse = &ir.DirectResponse{StatusCode: 500}
	if _, err := Translate(oneRoute(rt)); err == nil || !strings.Contains(err.Error(), `route "r"`) {
		t.Errorf("two actions: err = %v, want one naming the route", err)
	}
	rt = &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"}}
	if _, err := Translate(oneRoute(rt)); err == nil {
		t.Error("no action: want error")
	}
}

func TestDirectResponse(t *testing.T) {
	rt := &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"},
		DirectResponse: &ir.DirectResponse{StatusCode: 503, Body: "down"}}
	dr := firstRoute(t, translateOne(t, oneRoute(rt))).GetDirectResponse()
	if dr.GetStatus() != 503 || dr.GetBody().GetInlineString() != "down" {
		t.Errorf("direct response %v", dr)
	}
}

func TestMetadataOnVhostRouteClusterEndpoint(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Metadata = &ir.Metadata{Kind: "HTTPRoute", Namespace: "default", Name: "backend"}
	rt.Destination.Metadata = rt.Metadata
	rt.Destination.Backends[0].Metadata = &ir.Metadata{Kind: "Service", Namespace: "default", Name: "svc", SectionName: "3000"}
	cfg := oneRoute(rt)
	cfg.Proxies[0].HTTP[0].VirtualHosts[0].Metadata = &ir.Metadata{Kind: "Gateway", Namespace: "default", Name: "eg", SectionName: "http"}
	r := translateOne(t, cfg)

	resource := func(md interface {
		GetFilterMetadata() map[string]*structpb.Struct
	}) map[string]any {
		s := md.GetFilterMetadata()[metadataNamespace]
		if s == nil {
			return nil
		}
		list := s.AsMap()["resources"].([]any)
		return list[0].(map[string]any)
	}
	vh := r.Routes[0].VirtualHosts[0]
	if got := resource(vh.Metadata); got["kind"] != "Gateway" || got["sectionName"] != "http" {
		t.Errorf("vhost metadata %v", got)
	}
	if got := resource(vh.Routes[0].Metadata); got["kind"] != "HTTPRoute" || got["name"] != "backend" || got["sectionName"] != nil {
		t.Errorf("route metadata %v", got)
	}
	if got := resource(r.Clusters[0].Metadata); got["kind"] != "HTTPRoute" {
		t.Errorf("cluster metadata %v", got)
	}
	if got := resource(r.Endpoints[0].Endpoints[0].Metadata); got["kind"] != "Service" || got["sectionName"] != "3000" {
		t.Errorf("locality metadata %v", got)
	}
}

func TestInvalidRegexNamesRoute(t *testing.T) {
	rt := prefixRoute("bad-regex", "/")
	rt.Match = ir.HTTPMatch{PathType: ir.PathRegex, Path: "/(unclosed"}
	_, err := Translate(oneRoute(rt))
	if err == nil || !strings.Contains(err.Error(), "bad-regex") || !strings.Contains(err.Error(), "Match.Path") {
		t.Errorf("err = %v, want one naming the route and field", err)
	}
	rt.Match = ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/", Headers: []ir.StringMatch{{Name: "h", Type: ir.MatchRegex, Value: "a**"}}}
	if _, err := Translate(oneRoute(rt)); err == nil || !strings.Contains(err.Error(), "Match.Headers[0]") {
		t.Errorf("header regex: err = %v", err)
	}
}

func TestValidationErrorNamesResourceAndField(t *testing.T) {
	rt := &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"}, DirectResponse: &ir.DirectResponse{StatusCode: 42}}
	_, err := Translate(oneRoute(rt))
	if err == nil {
		t.Fatal("status 42 accepted")
	}
	for _, want := range []string{"default/eg", `virtual host "default/eg/http/*"`, `route "r"`, "DirectResponseAction.Status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
