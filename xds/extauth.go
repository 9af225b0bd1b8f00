package xds

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// SecurityPolicy extAuth: one ext_authz filter per policy, named
// "envoy.filters.http.ext_authz/securitypolicy/<ns>/<name>", disabled in
// the HCM and enabled by the per-route configuration of the routes the
// policy covers (which also carries its context extensions), as Envoy
// Gateway lays it out. The service's cluster is
// "securitypolicy/<ns>/<name>/extauth/0".

const extAuthzFilterType = "envoy.filters.http.ext_authz"

func routeExtAuth(r *ir.HTTPRoute) *ir.ExtAuth {
	if r == nil || r.Security == nil {
		return nil
	}
	return r.Security.ExtAuth
}

func extAuthzFilterName(a *ir.ExtAuth) string { return extAuthzFilterType + "/" + a.Name }

func init() {
	register(&feature{
		name: extAuthzFilterType,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			byName := map[string]*ir.ExtAuth{}
			var err error
			h.routes(func(r *ir.HTTPRoute) bool {
				a := routeExtAuth(r)
				if a == nil {
					return true
				}
				if o, ok := byName[a.Name]; ok && o != a {
					err = sameExtAuth(b, o, a)
					return err == nil
				}
				byName[a.Name] = a
				return true
			})
			if err != nil {
				return nil, err
			}
			names := make([]string, 0, len(byName))
			for n := range byName {
				names = append(names, n)
			}
			sort.Strings(names)
			out := make([]*hcmv3.HttpFilter, 0, len(names))
			for _, n := range names {
				f, err := b.extAuthzFilter(byName[n])
				if err != nil {
					return nil, fmt.Errorf("ext auth %s: %w", n, err)
				}
				out = append(out, f)
			}
			return out, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			a := routeExtAuth(r)
			if a == nil {
				return nil
			}
			pr, err := b.extAuthzPerRoute(a)
			if err != nil {
				return fmt.Errorf("ext auth %s: %w", a.Name, err)
			}
			if out.TypedPerFilterConfig == nil {
				out.TypedPerFilterConfig = map[string]*anypb.Any{}
			}
			out.TypedPerFilterConfig[extAuthzFilterName(a)] = pr
			for _, c := range a.ContextExtensions {
				if c.Secret {
					if b.res.secretContext == nil {
						b.res.secretContext = map[string]bool{}
					}
					b.res.secretContext[c.Value] = true
				}
			}
			return nil
		},
		resources: func(b *builder, p *ir.Proxy) error {
			seen := map[*ir.ExtAuth]bool{}
			for _, l := range p.HTTP {
				for _, vh := range l.VirtualHosts {
					for _, r := range vh.Routes {
						a := routeExtAuth(r)
						if a == nil || seen[a] {
							continue
						}
						seen[a] = true
						d := a.Destination
						if !singleCluster(d) {
							return fmt.Errorf("ext auth %s: the backends of %s cannot share one cluster", a.Name, d.Name)
						}
						if err := b.addServiceCluster(d); err != nil {
							return fmt.Errorf("ext auth %s: %w", a.Name, err)
						}
					}
				}
			}
			return nil
		},
	})
}

// sameExtAuth accepts two ExtAuth values of one name in one HCM only when
// they build the same filter (one policy merged onto different parents
// can give both): an HCM holds one filter per name.
func sameExtAuth(b *builder, x, y *ir.ExtAuth) error {
	fx, err := b.extAuthzFilter(x)
	if err != nil {
		return err
	}
	fy, err := b.extAuthzFilter(y)
	if err != nil {
		return err
	}
	if !proto.Equal(fx, fy) {
		return fmt.Errorf("ext auth %s: two different configurations of one policy on one listener", x.Name)
	}
	return nil
}

// extAuthzFilter builds (once per ExtAuth value) the policy's filter.
func (b *builder) extAuthzFilter(a *ir.ExtAuth) (*hcmv3.HttpFilter, error) {
	st := b.authState()
	if f, ok := st.extAuthz[a]; ok {
		return f, nil
	}
	timeout := a.Timeout
	if timeout == 0 {
		timeout = serviceRequestTimeout
	}
	retry, err := serviceRetryPolicy(a.Retry)
	if err != nil {
		return nil, err
	}
	cfg := &extauthzv3.ExtAuthz{
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    a.FailOpen,
		ClearRouteCache:     a.RecomputeRoute,
	}
	if a.IncludeRouteMetadata {
		cfg.RouteMetadataContextNamespaces = []string{metadataNamespace}
	}
	if len(a.HeadersToExtAuth) > 0 {
		cfg.AllowedHeaders = ignoreCaseList(a.HeadersToExtAuth)
	}
	if a.MaxRequestBytes > 0 {
		cfg.WithRequestBody = &extauthzv3.BufferSettings{MaxRequestBytes: a.MaxRequestBytes}
	}
	if a.StatusOnError > 0 {
		cfg.StatusOnError = &typev3.HttpStatus{Code: typev3.StatusCode(a.StatusOnError)}
	}
	if a.GRPC {
		cfg.Services = &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
				ClusterName: a.Destination.Name, Authority: a.Authority,
			}},
			Timeout:     durationpb.New(timeout),
			RetryPolicy: retry,
		}}
	} else {
		h := a.HTTP
		path := h.Path
		if h.PathOverride != "" {
			path = h.PathOverride
		}
		// The filter sends to the cluster; the URI only names the service
		// (scheme and authority), as in Envoy Gateway.
		u := url.URL{Scheme: "http", Host: a.Authority, Path: path}
		hs := &extauthzv3.HttpService{
			ServerUri: &corev3.HttpUri{
				Uri:              u.String(),
				HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: a.Destination.Name},
				Timeout:          durationpb.New(timeout),
			},
			PathPrefix:   h.Path,
			PathOverride: h.PathOverride,
			RetryPolicy:  retry,
		}
		if len(h.HeadersToBackend) > 0 {
			hs.AuthorizationResponse = &extauthzv3.AuthorizationResponse{AllowedUpstreamHeaders: ignoreCaseList(h.HeadersToBackend)}
		}
		cfg.Services = &extauthzv3.ExtAuthz_HttpService{HttpService: hs}
	}
	typed, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	f := &hcmv3.HttpFilter{
		Name:       extAuthzFilterName(a),
		Disabled:   true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: typed},
	}
	st.extAuthz[a] = f
	return f, nil
}

// extAuthzPerRoute enables the policy's filter on a route and hands its
// context extensions over.
func (b *builder) extAuthzPerRoute(a *ir.ExtAuth) (*anypb.Any, error) {
	st := b.authState()
	if p, ok := st.extPerRt[a]; ok {
		return p, nil
	}
	cs := &extauthzv3.CheckSettings{}
	if len(a.ContextExtensions) > 0 {
		cs.ContextExtensions = make(map[string]string, len(a.ContextExtensions))
		for _, c := range a.ContextExtensions {
			cs.ContextExtensions[c.Name] = c.Value
		}
	}
	p, err := toAny(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: cs}})
	if err != nil {
		return nil, err
	}
	st.extPerRt[a] = p
	return p, nil
}

func ignoreCaseList(names []string) *matcherv3.ListStringMatcher {
	l := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		l.Patterns = append(l.Patterns, &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}, IgnoreCase: true,
		})
	}
	return l
}

// redactContextExtensions returns rc, or a copy of it whose ext-auth
// context extension values read from Secrets read "[redacted]".
func redactContextExtensions(rc *routev3.RouteConfiguration, secret map[string]bool) (*routev3.RouteConfiguration, error) {
	var out *routev3.RouteConfiguration
	for vi, vh := range rc.GetVirtualHosts() {
		for ri, r := range vh.GetRoutes() {
			for name, a := range r.GetTypedPerFilterConfig() {
				if !strings.HasPrefix(name, extAuthzFilterType+"/") {
					continue
				}
				pr := &extauthzv3.ExtAuthzPerRoute{}
				if err := a.UnmarshalTo(pr); err != nil {
					return nil, fmt.Errorf("route %q: %w", r.GetName(), err)
				}
				changed := false
				for k, v := range pr.GetCheckSettings().GetContextExtensions() {
					if secret[v] {
						pr.GetCheckSettings().ContextExtensions[k] = redacted
						changed = true
					}
				}
				if !changed {
					continue
				}
				if out == nil {
					out = cloneOf(rc)
				}
				na, err := anypb.New(pr)
				if err != nil {
					return nil, err
				}
				out.VirtualHosts[vi].Routes[ri].TypedPerFilterConfig[name] = na
			}
		}
	}
	if out == nil {
		return rc, nil
	}
	return out, nil
}
