package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/ir"
)

const apiKeyAuthFilterName = "envoy.filters.http.api_key_auth"

// API keys: one api_key_auth filter per HCM, disabled, and on each route
// whose policy asks for keys a per-route configuration that enables it
// with the policy's credentials, key sources and forwarding. Envoy Gateway
// copies the first route's credentials into the HCM-level configuration as
// well; it is never used (the filter is disabled), so egctl leaves it
// empty and the keys live in the routes alone.
func init() {
	register(&feature{
		name: apiKeyAuthFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.Security != nil && r.Security.APIKeyAuth != nil }) {
				return nil, nil
			}
			a, err := toAny(&apikeyv3.ApiKeyAuth{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: apiKeyAuthFilterName, Disabled: true,
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Security == nil || r.Security.APIKeyAuth == nil {
				return nil
			}
			st := featureState(b, apiKeyAuthFilterName, func() *map[*ir.APIKeyAuth]*anypb.Any {
				m := map[*ir.APIKeyAuth]*anypb.Any{}
				return &m
			})
			k := r.Security.APIKeyAuth
			a, ok := (*st)[k]
			if !ok {
				var err error
				if a, err = toAny(apiKeyPerRoute(k)); err != nil {
					return err
				}
				(*st)[k] = a
			}
			setPerFilter(out, apiKeyAuthFilterName, a)
			return nil
		},
	})
}

func apiKeyPerRoute(k *ir.APIKeyAuth) *apikeyv3.ApiKeyAuthPerRoute {
	out := &apikeyv3.ApiKeyAuthPerRoute{}
	for _, c := range k.Credentials {
		out.Credentials = append(out.Credentials, &apikeyv3.Credential{Client: c.Client, Key: string(c.Key)})
	}
	for _, s := range k.KeySources {
		out.KeySources = append(out.KeySources, &apikeyv3.KeySource{Header: s.Header, Query: s.Query, Cookie: s.Cookie})
	}
	if k.ForwardClientIDHeader != "" || k.Sanitize {
		out.Forwarding = &apikeyv3.Forwarding{Header: k.ForwardClientIDHeader, HideCredentials: k.Sanitize}
	}
	return out
}
