package xds

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// wildcardLabels stands for the "*" of an origin such as
// "https://*.example.com": one or more DNS labels.
const wildcardLabels = `[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*`

// originMatcher turns an allowed origin into a string matcher: "*" allows
// any origin, a "*" inside a host allows any labels there, anything else is
// compared exactly.
func originMatcher(origin string) *matcherv3.StringMatcher {
	if origin == "*" {
		return regexMatcher(".*")
	}
	if !strings.Contains(origin, "*") {
		return exactMatcher(origin)
	}
	parts := strings.Split(origin, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexMatcher("^" + strings.Join(parts, wildcardLabels) + "$")
}

// The Gateway API CORS filter: the HCM gets Envoy's CORS filter when one of
// its routes has a policy, and each such route its per-route policy.
func init() {
	register(&feature{
		name: corsFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.CORS != nil }) {
				return nil, nil
			}
			cors, err := toAny(&corsv3.Cors{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: corsFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cors}}}, nil
		},
		patchRoute: func(_ *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.CORS == nil {
				return nil
			}
			if err := addCORS(out, r.CORS); err != nil {
				return fmt.Errorf("CORS: %w", err)
			}
			return nil
		},
	})
}

// addCORS attaches the route's CORS policy.
func addCORS(r *routev3.Route, c *ir.CORS) error {
	p := &corsv3.CorsPolicy{
		AllowMethods:     strings.Join(c.AllowMethods, ", "),
		AllowHeaders:     strings.Join(c.AllowHeaders, ", "),
		ExposeHeaders:    strings.Join(c.ExposeHeaders, ", "),
		AllowCredentials: wrapperspb.Bool(c.AllowCredentials),
		// A preflight that matches no allowed origin is answered by Envoy,
		// never forwarded to the backend.
		ForwardNotMatchingPreflights: wrapperspb.Bool(false),
	}
	for _, o := range c.AllowOrigins {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, originMatcher(o))
	}
	if c.MaxAge > 0 {
		p.MaxAge = strconv.FormatInt(int64(c.MaxAge.Seconds()), 10)
	}
	a, err := toAny(p)
	if err != nil {
		return err
	}
	if r.TypedPerFilterConfig == nil {
		r.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	r.TypedPerFilterConfig[corsFilterName] = a
	return nil
}
