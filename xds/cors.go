package xds

import (
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
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

// addCORS attaches the route's CORS policy; the listener's HCM gets the CORS
// filter because some route uses it (see usesCORS).
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
