package xds

import (
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

// A SecurityPolicy's spec.cors uses the CORS filter the Gateway API filter
// uses (cors.go). A route's own Gateway API CORS filter takes precedence,
// as in Envoy Gateway. This feature adds the HCM filter only when cors.go
// does not (no route has a Gateway API CORS filter), so it is there once.
const securityCORSFeature = corsFilterName + "/securitypolicy"

func init() {
	register(&feature{
		name: securityCORSFeature,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			sp := false
			gw := false
			h.routes(func(r *ir.HTTPRoute) bool {
				gw = gw || r.CORS != nil
				sp = sp || (r.Security != nil && r.Security.CORS != nil)
				return !gw
			})
			if !sp || gw {
				return nil, nil
			}
			a, err := toAny(&corsv3.Cors{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: corsFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.CORS != nil || r.Security == nil || r.Security.CORS == nil {
				return nil
			}
			st := featureState(b, securityCORSFeature, func() *map[*ir.CORS]*anypb.Any {
				m := map[*ir.CORS]*anypb.Any{}
				return &m
			})
			c := r.Security.CORS
			a, ok := (*st)[c]
			if !ok {
				var err error
				if a, err = toAny(securityCORSPolicy(c)); err != nil {
					return err
				}
				(*st)[c] = a
			}
			setPerFilter(out, corsFilterName, a)
			return nil
		},
	})
}

func securityCORSPolicy(c *ir.CORS) *corsv3.CorsPolicy {
	p := &corsv3.CorsPolicy{
		AllowMethods:     strings.Join(c.AllowMethods, ", "),
		AllowHeaders:     strings.Join(c.AllowHeaders, ", "),
		ExposeHeaders:    strings.Join(c.ExposeHeaders, ", "),
		AllowCredentials: wrapperspb.Bool(c.AllowCredentials),
		// A preflight from an origin that is not allowed is answered by
		// Envoy, never forwarded to the backend.
		ForwardNotMatchingPreflights: wrapperspb.Bool(false),
	}
	for _, o := range c.AllowOrigins {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, securityOriginMatcher(o))
	}
	if c.MaxAge > 0 {
		p.MaxAge = strconv.FormatInt(int64(c.MaxAge.Seconds()), 10)
	}
	return p
}

// securityOriginMatcher is originMatcher (cors.go) plus the form Envoy
// Gateway's Origin allows and the Gateway API's does not: "scheme://*",
// any host (and port) of that scheme.
func securityOriginMatcher(o string) *matcherv3.StringMatcher {
	if scheme, ok := strings.CutSuffix(o, "://*"); ok && !strings.Contains(scheme, "*") {
		return regexMatcher("^" + regexp.QuoteMeta(scheme) + "://" + wildcardLabels + `(:[0-9]+)?$`)
	}
	return originMatcher(o)
}
