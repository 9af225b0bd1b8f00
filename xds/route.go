package xds

import (
	"fmt"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// buildRouteConfig builds the route configuration name serving the virtual
// hosts of entries, in entry order then virtual host order.
func (b *builder) buildRouteConfig(name string, entries []*ir.HTTPListener) (*routev3.RouteConfiguration, error) {
	rc := &routev3.RouteConfiguration{
		Name: name,
		// Gateway API hostnames never carry a port; a Host header with one
		// must still match.
		IgnorePortInHostMatching: true,
		// Clusters may legitimately be missing (fail-closed weighted shares).
		ValidateClusters: wrapperspb.Bool(false),
	}
	b.secure = entries[0].TLS != nil
	domainOwner := map[string]string{}
	vhostNames := map[string]bool{}
	for _, e := range entries {
		b.listener = e
		for i, vh := range e.VirtualHosts {
			if vh == nil {
				return nil, fmt.Errorf("listener %q: VirtualHosts[%d] is nil", e.Name, i)
			}
			if vhostNames[vh.Name] {
				return nil, fmt.Errorf("route configuration %q: duplicate virtual host %q", name, vh.Name)
			}
			vhostNames[vh.Name] = true
			// Envoy rejects a route configuration where two virtual hosts
			// share a domain; say which ones instead.
			for _, d := range vhostDomains(vh) {
				key := strings.ToLower(d)
				if other, ok := domainOwner[key]; ok {
					return nil, fmt.Errorf("route configuration %q: domain %q is in both virtual hosts %q and %q", name, d, other, vh.Name)
				}
				domainOwner[key] = vh.Name
			}
			v, err := b.buildVirtualHost(vh)
			if err != nil {
				return nil, fmt.Errorf("listener %q: %w", e.Name, err)
			}
			rc.VirtualHosts = append(rc.VirtualHosts, v)
		}
	}
	return rc, nil
}

// vhostDomains are the domains of vh; none means any host.
func vhostDomains(vh *ir.VirtualHost) []string {
	if len(vh.Domains) == 0 {
		return []string{"*"}
	}
	return append([]string(nil), vh.Domains...)
}

func (b *builder) buildVirtualHost(vh *ir.VirtualHost) (*routev3.VirtualHost, error) {
	v := &routev3.VirtualHost{
		Name:     vh.Name,
		Domains:  vhostDomains(vh),
		Metadata: b.metadata(vh.Metadata),
	}
	v.Routes = make([]*routev3.Route, 0, len(vh.Routes))
	for i, r := range vh.Routes {
		if r == nil {
			return nil, fmt.Errorf("virtual host %q: Routes[%d] is nil", vh.Name, i)
		}
		// Validated with the whole route configuration (xds.go), which
		// names this route if it is the one at fault.
		route, err := b.buildRoute(r)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: route %q: %w", vh.Name, r.Name, err)
		}
		v.Routes = append(v.Routes, route)
	}
	return v, nil
}

func (b *builder) buildRoute(r *ir.HTTPRoute) (*routev3.Route, error) {
	match, err := buildRouteMatch(&r.Match)
	if err != nil {
		return nil, err
	}
	out := &routev3.Route{
		Name:     r.Name,
		Match:    match,
		Metadata: b.routeMetadata(r),
	}
	set := 0
	for _, ok := range []bool{r.Destination != nil, r.Redirect != nil, r.DirectResponse != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("exactly one of Destination, Redirect and DirectResponse must be set, found %d", set)
	}

	switch {
	case r.DirectResponse != nil:
		out.Action = buildDirectResponse(r.DirectResponse)
	case r.Redirect != nil:
		redirect, err := buildRedirect(r.Redirect, &r.Match, b.secure)
		if err != nil {
			return nil, fmt.Errorf("Redirect: %w", err)
		}
		out.Action = &routev3.Route_Redirect{Redirect: redirect}
	default:
		action, err := b.buildRouteAction(r)
		if err != nil {
			return nil, err
		}
		out.Action = &routev3.Route_Route{Route: action}
	}

	out.RequestHeadersToAdd, out.RequestHeadersToRemove = buildHeaderMods(r.RequestHeaders)
	out.ResponseHeadersToAdd, out.ResponseHeadersToRemove = buildHeaderMods(r.ResponseHeaders)

	if err := b.patchRouteFeatures(r, out); err != nil { // features.go
		return nil, err
	}
	return out, nil
}

func (b *builder) buildRouteAction(r *ir.HTTPRoute) (*routev3.RouteAction, error) {
	if b.websocket == nil {
		b.websocket = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}}
	}
	action := &routev3.RouteAction{
		// Every HTTP route may carry WebSocket upgrades, as with Envoy
		// Gateway; a backend that does not speak it simply refuses the
		// upgrade. gRPC (HTTP/2) never upgrades: Envoy Gateway gives its
		// routes none. The slice is shared by every route of the proxy:
		// never modify it.
		UpgradeConfigs: b.websocket,
	}
	if isGRPCRoute(r) {
		action.UpgradeConfigs = nil
	}
	if err := b.setDestination(action, r.Destination); err != nil {
		return nil, fmt.Errorf("Destination: %w", err)
	}
	if r.URLRewrite != nil {
		if err := applyURLRewrite(action, r.URLRewrite, &r.Match); err != nil {
			return nil, fmt.Errorf("URLRewrite: %w", err)
		}
	}
	for i, m := range r.Mirrors {
		policy, err := b.buildMirror(m)
		if err != nil {
			return nil, fmt.Errorf("Mirrors[%d]: %w", i, err)
		}
		action.RequestMirrorPolicies = append(action.RequestMirrorPolicies, policy)
	}
	if r.Retry != nil {
		action.RetryPolicy = buildRetryPolicy(r.Retry)
	}
	if r.Timeout != nil {
		applyTimeout(action, r.Timeout)
		if action.Timeout != nil {
			action.IdleTimeout = b.requestIdleTimeout(action.Timeout)
		}
	}
	return action, nil
}

func buildRouteMatch(m *ir.HTTPMatch) (*routev3.RouteMatch, error) {
	out := &routev3.RouteMatch{}
	switch m.PathType {
	case ir.PathExact:
		if m.Path == "" {
			return nil, fmt.Errorf("Match.Path: empty path for type %s", m.PathType)
		}
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.Path}
	case "", ir.PathPrefix:
		// Envoy's path_separated_prefix matches whole path elements and must
		// not end in '/': "/foo/" and "/foo" mean the same thing here.
		p := strings.TrimRight(m.Path, "/")
		if p == "" {
			out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
		} else {
			out.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: p}
		}
	case ir.PathRegex:
		if err := checkRegex(m.Path); err != nil {
			return nil, fmt.Errorf("Match.Path: %w", err)
		}
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: m.Path}}
	default:
		return nil, fmt.Errorf("Match.PathType: unknown type %q", m.PathType)
	}
	if m.Method != "" {
		out.Headers = append(out.Headers, &routev3.HeaderMatcher{
			Name:                 ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher(m.Method)},
		})
	}
	for i, h := range m.Headers {
		sm, err := stringMatcher(h)
		if err != nil {
			return nil, fmt.Errorf("Match.Headers[%d]: %w", i, err)
		}
		out.Headers = append(out.Headers, &routev3.HeaderMatcher{
			Name:                 h.Name,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
		})
	}
	for i, q := range m.QueryParams {
		sm, err := stringMatcher(q)
		if err != nil {
			return nil, fmt.Errorf("Match.QueryParams[%d]: %w", i, err)
		}
		out.QueryParameters = append(out.QueryParameters, &routev3.QueryParameterMatcher{
			Name:                         q.Name,
			QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
		})
	}
	if m.GRPC {
		out.Grpc = &routev3.RouteMatch_GrpcRouteMatchOptions{}
	}
	return out, nil
}

func exactMatcher(v string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}
}

func regexMatcher(re string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}
}

func stringMatcher(m ir.StringMatch) (*matcherv3.StringMatcher, error) {
	if m.Name == "" {
		return nil, fmt.Errorf("empty Name")
	}
	switch m.Type {
	case "", ir.MatchExact:
		return exactMatcher(m.Value), nil
	case ir.MatchRegex:
		if err := checkRegex(m.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		return regexMatcher(m.Value), nil
	}
	return nil, fmt.Errorf("%s: unknown match Type %q", m.Name, m.Type)
}

func buildDirectResponse(d *ir.DirectResponse) *routev3.Route_DirectResponse {
	dr := &routev3.DirectResponseAction{Status: d.StatusCode}
	if d.Body != "" {
		dr.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: d.Body}}
	}
	return &routev3.Route_DirectResponse{DirectResponse: dr}
}

// checkRegex rejects what Envoy's RE2 would reject at load time (Go's
// regexp speaks the same RE2 syntax), so the error names the route.
func checkRegex(re string) error {
	if _, err := regexp.Compile(re); err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", re, err)
	}
	return nil
}
