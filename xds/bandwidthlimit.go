package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bwlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.bandwidthLimit: two bandwidth_limit filters, one per direction
// (…/request, …/response, as Envoy Gateway names them), disabled on the
// HCM; a route's limits are their per-route configs.
const (
	bandwidthLimitFilterName = "envoy.filters.http.bandwidth_limit"
	bandwidthRequestFilter   = bandwidthLimitFilterName + "/request"
	bandwidthResponseFilter  = bandwidthLimitFilterName + "/response"
	bandwidthStatPrefix      = "http_bandwidth_limiter"
)

func init() {
	register(&feature{name: bandwidthLimitFilterName, httpFilters: bandwidthFilters, patchRoute: patchBandwidth})
}

func bandwidthFilters(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	var req, resp bool
	h.routes(func(r *ir.HTTPRoute) bool {
		if t := r.Traffic; t != nil && t.BandwidthLimit != nil {
			req = req || t.BandwidthLimit.RequestKiBps > 0
			resp = resp || t.BandwidthLimit.ResponseKiBps > 0
		}
		return !(req && resp)
	})
	if !req && !resp {
		return nil, nil
	}
	a, err := toAny(&bwlimitv3.BandwidthLimit{StatPrefix: bandwidthStatPrefix, EnableMode: bwlimitv3.BandwidthLimit_DISABLED})
	if err != nil {
		return nil, err
	}
	var out []*hcmv3.HttpFilter
	for _, f := range []struct {
		on   bool
		name string
	}{{req, bandwidthRequestFilter}, {resp, bandwidthResponseFilter}} {
		if f.on {
			out = append(out, &hcmv3.HttpFilter{Name: f.name, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}})
		}
	}
	return out, nil
}

// bandwidthCache shares per-route configs between a policy's routes.
type bandwidthCache map[*ir.BandwidthLimit][2]*anypb.Any

func patchBandwidth(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	if r.Traffic == nil || r.Traffic.BandwidthLimit == nil {
		return nil
	}
	bl := r.Traffic.BandwidthLimit
	cache := *featureState(b, "bandwidthCache", func() *bandwidthCache { return &bandwidthCache{} })
	cfg, ok := cache[bl]
	if !ok {
		if bl.RequestKiBps > 0 {
			a, err := toAny(&bwlimitv3.BandwidthLimit{StatPrefix: bandwidthStatPrefix, EnableMode: bwlimitv3.BandwidthLimit_REQUEST,
				LimitKbps: wrapperspb.UInt64(bl.RequestKiBps)})
			if err != nil {
				return err
			}
			cfg[0] = a
		}
		if bl.ResponseKiBps > 0 {
			a, err := toAny(&bwlimitv3.BandwidthLimit{StatPrefix: bandwidthStatPrefix, EnableMode: bwlimitv3.BandwidthLimit_RESPONSE,
				LimitKbps: wrapperspb.UInt64(bl.ResponseKiBps), EnableResponseTrailers: bl.ResponseTrailers, ResponseTrailerPrefix: bl.TrailerPrefix})
			if err != nil {
				return err
			}
			cfg[1] = a
		}
		cache[bl] = cfg
	}
	if cfg[0] != nil {
		setPerFilterConfig(out, bandwidthRequestFilter, cfg[0])
	}
	if cfg[1] != nil {
		setPerFilterConfig(out, bandwidthResponseFilter, cfg[1])
	}
	return nil
}
