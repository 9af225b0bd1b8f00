package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/ir"
)

const basicAuthFilterName = "envoy.filters.http.basic_auth"

// Basic auth, as Envoy Gateway builds it: one basic_auth filter per policy
// holding users ("envoy.filters.http.basic_auth/securitypolicy/ns/name"),
// disabled, and enabled on the policy's routes by a per-route
// configuration with the users. The username header can only be set on
// the filter, hence one filter per policy.
func init() {
	register(&feature{
		name: basicAuthFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			byName := map[string]*ir.BasicAuth{}
			var order []string
			var err error
			h.routes(func(r *ir.HTTPRoute) bool {
				if r.Security == nil || r.Security.BasicAuth == nil {
					return true
				}
				a := r.Security.BasicAuth
				first, ok := byName[a.Name]
				switch {
				case !ok:
					byName[a.Name] = a
					order = append(order, a.Name)
				case first != a && first.ForwardUsernameHeader != a.ForwardUsernameHeader:
					err = fmt.Errorf("basic auth %s: routes ask for username headers %q and %q; one filter takes one",
						a.Name, first.ForwardUsernameHeader, a.ForwardUsernameHeader)
					return false
				}
				return true
			})
			if err != nil {
				return nil, err
			}
			var out []*hcmv3.HttpFilter
			for _, name := range order {
				a := byName[name]
				cfg, err := toAny(&basicauthv3.BasicAuth{
					Users:                 &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: a.Users}},
					ForwardUsernameHeader: a.ForwardUsernameHeader,
				})
				if err != nil {
					return nil, fmt.Errorf("basic auth %s: %w", name, err)
				}
				out = append(out, &hcmv3.HttpFilter{Name: basicAuthFilterName + "/" + name, Disabled: true,
					ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}})
			}
			return out, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Security == nil || r.Security.BasicAuth == nil {
				return nil
			}
			st := featureState(b, basicAuthFilterName, func() *map[*ir.BasicAuth]*anypb.Any {
				m := map[*ir.BasicAuth]*anypb.Any{}
				return &m
			})
			a := r.Security.BasicAuth
			cfg, ok := (*st)[a]
			if !ok {
				var err error
				if cfg, err = toAny(&basicauthv3.BasicAuthPerRoute{
					Users: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: a.Users}},
				}); err != nil {
					return err
				}
				(*st)[a] = cfg
			}
			setPerFilter(out, basicAuthFilterName+"/"+a.Name, cfg)
			return nil
		},
	})
}
