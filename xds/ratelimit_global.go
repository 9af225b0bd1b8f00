package xds

import (
	"errors"
	"fmt"
	"net"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/ratelimitcfg"
)

// Global rate limits. As Envoy Gateway builds them, an HCM gets one
// ratelimit filter for its listener's domain and one per policy with shared
// rules ("envoy.filters.http.ratelimit/ns/policy"); each route names, per
// filter, its domain and rate limits in typed_per_filter_config, so a
// request makes one call per domain. Every filter calls ratelimit_cluster,
// the rate-limit service (ratelimitcfg writes its configuration).
func init() {
	register(&feature{
		name: globalRateLimitFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			var svc *ir.RateLimitService
			shared := map[string]bool{}
			h.routes(func(r *ir.HTTPRoute) bool {
				g := globalRateLimitOf(r)
				if g == nil {
					return true
				}
				svc = g.Service
				for _, rule := range g.Rules {
					if rule.Shared {
						shared[ratelimitcfg.SharedDomain(rule)] = true
					}
				}
				return true
			})
			if svc == nil {
				return nil, nil
			}
			domains := make([]string, 0, len(shared))
			for d := range shared {
				domains = append(domains, d)
			}
			sort.Strings(domains)
			// The listener filter's domain is the first listener's; each
			// route names its own listener's domain anyway.
			out := make([]*hcmv3.HttpFilter, 0, 1+len(domains))
			names := append([]string{h.listeners[0].Name}, domains...)
			for i, d := range names {
				f, err := globalRateLimitFilter(h, svc, d)
				if err != nil {
					return nil, err
				}
				name := globalRateLimitFilterName
				if i > 0 {
					name += "/" + d
				}
				out = append(out, &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: f}})
			}
			return out, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			g := globalRateLimitOf(r)
			if g == nil {
				return nil
			}
			if b.listener == nil {
				return errors.New("global rate limit: route built outside a listener")
			}
			if err := b.globalRateLimitRoute(b.listener.Name, r, g, out); err != nil {
				return fmt.Errorf("global rate limit: %w", err)
			}
			return nil
		},
		resources: func(b *builder, p *ir.Proxy) error {
			return b.addRateLimitCluster(p)
		},
	})
}

func globalRateLimitOf(r *ir.HTTPRoute) *ir.GlobalRateLimit {
	if r.Traffic == nil || r.Traffic.RateLimit == nil {
		return nil
	}
	return r.Traffic.RateLimit.Global
}

// globalRateLimitFilter is the ratelimit filter of one domain.
// ClientTrafficPolicy's header switches (disableRateLimitHeaders,
// enableEnvoyHeaders) are applied to it with the rest of the HCM
// (client_hcm.go).
func globalRateLimitFilter(_ *hcmBuild, svc *ir.RateLimitService, domain string) (*anyMsg, error) {
	f := &ratelimitfilterv3.RateLimit{
		Domain: domain,
		RateLimitService: &ratelimitv3.RateLimitServiceConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: rateLimitClusterName},
			}},
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		// Envoy Gateway's defaults: the X-RateLimit-* headers of draft 03,
		// no x-envoy-ratelimited header.
		EnableXRatelimitHeaders:        ratelimitfilterv3.RateLimit_DRAFT_VERSION_03,
		DisableXEnvoyRatelimitedHeader: true,
		FailureModeDeny:                svc.FailClosed,
	}
	if svc.Timeout > 0 {
		f.Timeout = durationpb.New(svc.Timeout)
	}
	return toAny(f)
}

// globalRateLimitRoute adds r's rate limits, grouped by domain, to the
// filters' per-route configuration.
func (b *builder) globalRateLimitRoute(listener string, r *ir.HTTPRoute, g *ir.GlobalRateLimit, out *routev3.Route) error {
	var own *ratelimitfilterv3.RateLimitPerRoute
	var sharedDone map[string]bool
	for i, rule := range g.Rules {
		d := ratelimitcfg.Global(listener, r.Name, g.Rules, i)
		if rule.Shared {
			// The same for every route of the rule set: built once.
			if sharedDone[d.Domain] {
				continue
			}
			if sharedDone == nil {
				sharedDone = map[string]bool{}
			}
			sharedDone[d.Domain] = true
			a, err := b.sharedRateLimitConfig(listener, r.Name, g, d.Domain)
			if err != nil {
				return err
			}
			setPerFilter(out, globalRateLimitFilterName+"/"+d.Domain, a)
			continue
		}
		if own == nil {
			own = &ratelimitfilterv3.RateLimitPerRoute{Domain: d.Domain}
		}
		rls, err := globalRuleRateLimits(rule, d)
		if err != nil {
			return err
		}
		own.RateLimits = append(own.RateLimits, rls...)
	}
	if own != nil {
		a, err := toAny(own)
		if err != nil {
			return err
		}
		setPerFilter(out, globalRateLimitFilterName, a)
	}
	return nil
}

// sharedRateLimitConfig is the per-route config of the shared rules of g
// in domain, built once per proxy.
func (b *builder) sharedRateLimitConfig(listener, route string, g *ir.GlobalRateLimit, domain string) (*anyMsg, error) {
	k := sharedKey{g, domain}
	if a, ok := b.rateLimit.shared[k]; ok {
		return a, nil
	}
	cfg := &ratelimitfilterv3.RateLimitPerRoute{Domain: domain}
	for i, rule := range g.Rules {
		if !rule.Shared || ratelimitcfg.SharedDomain(rule) != domain {
			continue
		}
		rls, err := globalRuleRateLimits(rule, ratelimitcfg.Global(listener, route, g.Rules, i))
		if err != nil {
			return nil, err
		}
		cfg.RateLimits = append(cfg.RateLimits, rls...)
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	if b.rateLimit.shared == nil {
		b.rateLimit.shared = map[sharedKey]*anyMsg{}
	}
	b.rateLimit.shared[k] = a
	return a, nil
}

// globalRuleRateLimits are the rate limits of one rule: one when the
// request arrives and, with a response cost, one more when it is done,
// counting against the same descriptor.
func globalRuleRateLimits(rule *ir.RateLimitRule, d ratelimitcfg.Descriptor) ([]*routev3.RateLimit, error) {
	actions, err := rateLimitActions(d.Entries)
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", rule.Name, err)
	}
	rl := &routev3.RateLimit{Actions: actions, XRatelimitOption: xRateLimitOption(rule.XRateLimitHeaders)}
	if md := rule.Limit.FromMetadata; md != nil {
		rl.Limit = limitOverride(md)
	}
	if rule.RequestCost != nil {
		rl.HitsAddend = rateLimitCost(rule.RequestCost)
	}
	out := []*routev3.RateLimit{rl}
	if rule.ResponseCost != nil {
		out = append(out, &routev3.RateLimit{
			Actions: actions, XRatelimitOption: rl.XRatelimitOption, Limit: rl.Limit,
			HitsAddend: rateLimitCost(rule.ResponseCost), ApplyOnStreamDone: true,
		})
	}
	return out, nil
}

func setPerFilter(out *routev3.Route, name string, a *anyMsg) {
	if out.TypedPerFilterConfig == nil {
		out.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	out.TypedPerFilterConfig[name] = a
}

// addRateLimitCluster adds ratelimit_cluster when a route of p has a
// global rate limit: HTTP/2 (gRPC) to the service's address.
func (b *builder) addRateLimitCluster(p *ir.Proxy) error {
	var svc *ir.RateLimitService
	for _, l := range p.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				g := globalRateLimitOf(r)
				if g == nil {
					continue
				}
				if svc != nil && *svc != *g.Service {
					return fmt.Errorf("routes ask two rate-limit services, %s:%d and %s:%d", svc.Host, svc.Port, g.Service.Host, g.Service.Port)
				}
				svc = g.Service
			}
		}
	}
	if svc == nil {
		return nil
	}
	addr := ir.AddressFQDN
	if net.ParseIP(svc.Host) != nil {
		addr = ir.AddressIP
	}
	be := &ir.Backend{
		Name: rateLimitClusterName + "/backend/-1", Weight: 1, AddressType: addr,
		Endpoints: []ir.Endpoint{{Host: svc.Host, Port: svc.Port}}, Protocol: ir.ProtocolHTTP2,
	}
	d := &ir.RouteDestination{Name: rateLimitClusterName, Backends: []*ir.Backend{be}}
	return b.addCluster(d, rateLimitClusterName, d.Backends)
}
