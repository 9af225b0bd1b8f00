package xds

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/ir"
)

// headers.disableRateLimitHeaders on a listener also silences the local
// rate limits of its routes, whose X-RateLimit-* headers are set in each
// route's configuration (the global filter is patched with the HCM,
// client_hcm.go). This runs once the routes are built, as Envoy Gateway
// applies the listener's switch over the route's.
func init() {
	register(&feature{name: "client.ratelimit-headers", resources: silenceLocalRateLimits})
}

func silenceLocalRateLimits(b *builder, p *ir.Proxy) error {
	configs := map[string]bool{}
	for _, e := range p.HTTP {
		if e.Client == nil || e.Client.HTTP == nil || e.Client.HTTP.Headers == nil || !e.Client.HTTP.Headers.DisableRateLimitHeaders {
			continue
		}
		// An HTTPS listener has its own route configuration; plain HTTP
		// listeners of a port share the first one's (they agree on this).
		name := e.Name
		if e.TLS == nil {
			for _, o := range p.HTTP {
				if o.Port == e.Port && o.TLS == nil {
					name = o.Name
					break
				}
			}
		}
		configs[name] = true
	}
	if len(configs) == 0 {
		return nil
	}
	// Per-route configurations are shared between routes: each is
	// rewritten once, into a new message.
	done := map[*anypb.Any]*anypb.Any{}
	for _, rc := range b.res.Routes {
		if !configs[rc.GetName()] {
			continue
		}
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if err := silenceRoute(r, done); err != nil {
					return fmt.Errorf("route %q: %w", r.GetName(), err)
				}
			}
		}
	}
	return nil
}

func silenceRoute(r *routev3.Route, done map[*anypb.Any]*anypb.Any) error {
	a := r.GetTypedPerFilterConfig()[localRateLimitFilterName]
	if a == nil {
		return nil
	}
	if n, ok := done[a]; ok {
		r.TypedPerFilterConfig = withEntry(r.TypedPerFilterConfig, localRateLimitFilterName, n)
		return nil
	}
	cfg := &localrlv3.LocalRateLimit{}
	if err := a.UnmarshalTo(cfg); err != nil {
		return err
	}
	cfg.EnableXRatelimitHeaders = rlv3.XRateLimitHeadersRFCVersion_OFF
	n, err := toAny(cfg)
	if err != nil {
		return err
	}
	done[a] = n
	r.TypedPerFilterConfig = withEntry(r.TypedPerFilterConfig, localRateLimitFilterName, n)
	return nil
}

// withEntry is m with k set to v, in a new map: m may be shared.
func withEntry(m map[string]*anypb.Any, k string, v *anypb.Any) map[string]*anypb.Any {
	out := make(map[string]*anypb.Any, len(m))
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
