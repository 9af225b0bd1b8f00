package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	csrfv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/csrf/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/ir"
)

const csrfFilterName = "envoy.filters.http.csrf"

// CSRF, as Envoy Gateway builds it: the HCM's csrf filter enforces on no
// request, and each route whose policy asks for it has the whole policy
// per route. Envoy enforces a request with FilterEnabled's chance and
// shadow-checks the rest when ShadowEnabled is set, so FilterEnabled is
// the complement of the shadow share and ShadowEnabled is 100%: every
// request is either enforced or only counted.
func init() {
	register(&feature{
		name: csrfFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.Security != nil && r.Security.CSRF != nil }) {
				return nil, nil
			}
			a, err := toAny(&csrfv3.CsrfPolicy{FilterEnabled: &corev3.RuntimeFractionalPercent{
				DefaultValue: &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED},
			}})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: csrfFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Security == nil || r.Security.CSRF == nil {
				return nil
			}
			st := featureState(b, csrfFilterName, func() *map[*ir.CSRF]*anypb.Any {
				m := map[*ir.CSRF]*anypb.Any{}
				return &m
			})
			c := r.Security.CSRF
			a, ok := (*st)[c]
			if !ok {
				var err error
				if a, err = toAny(csrfPolicy(c)); err != nil {
					return err
				}
				(*st)[c] = a
			}
			setPerFilter(out, csrfFilterName, a)
			return nil
		},
	})
}

func csrfPolicy(c *ir.CSRF) *csrfv3.CsrfPolicy {
	enforced := &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}
	p := &csrfv3.CsrfPolicy{}
	if c.ShadowDenominator > 0 {
		enforced = &typev3.FractionalPercent{Numerator: c.ShadowDenominator - c.ShadowNumerator, Denominator: percentDenominator(c.ShadowDenominator)}
		p.ShadowEnabled = &corev3.RuntimeFractionalPercent{
			DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED},
		}
	}
	p.FilterEnabled = &corev3.RuntimeFractionalPercent{DefaultValue: enforced}
	for _, o := range c.AdditionalOrigins {
		p.AdditionalOrigins = append(p.AdditionalOrigins, csrfOriginMatcher(o))
	}
	return p
}

func percentDenominator(d uint32) typev3.FractionalPercent_DenominatorType {
	switch d {
	case 10000:
		return typev3.FractionalPercent_TEN_THOUSAND
	case 1000000:
		return typev3.FractionalPercent_MILLION
	}
	return typev3.FractionalPercent_HUNDRED
}

// csrfOriginMatcher matches the host[:port] Envoy reads from an Origin:
// "*" any, "*" within a host one or more DNS labels.
func csrfOriginMatcher(o string) *matcherv3.StringMatcher {
	if o == "*" {
		return regexMatcher(".*")
	}
	return originMatcher(o)
}
