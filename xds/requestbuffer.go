package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.requestBuffer: Envoy's buffer filter, disabled on the HCM; each
// route's limit is its per-route config. A request over the limit is
// answered 413.
const bufferFilterName = "envoy.filters.http.buffer"

func init() {
	register(&feature{name: bufferFilterName, httpFilters: bufferFilters, patchRoute: patchBuffer})
}

func bufferFilters(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	var limit uint32
	h.routes(func(r *ir.HTTPRoute) bool {
		if r.Traffic != nil && r.Traffic.RequestBufferBytes > 0 {
			limit = r.Traffic.RequestBufferBytes
			return false
		}
		return true
	})
	if limit == 0 {
		return nil, nil
	}
	// The filter needs a limit of its own, though disabled it never uses it.
	a, err := toAny(&bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(limit)})
	if err != nil {
		return nil, err
	}
	return []*hcmv3.HttpFilter{{Name: bufferFilterName, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
}

// bufferCache shares per-route configs by limit.
type bufferCache map[uint32]*anypb.Any

func patchBuffer(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	if r.Traffic == nil || r.Traffic.RequestBufferBytes == 0 {
		return nil
	}
	n := r.Traffic.RequestBufferBytes
	cache := *featureState(b, "bufferCache", func() *bufferCache { return &bufferCache{} })
	a, ok := cache[n]
	if !ok {
		var err error
		if a, err = toAny(&bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Buffer{Buffer: &bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(n)}}}); err != nil {
			return err
		}
		cache[n] = a
	}
	setPerFilterConfig(out, bufferFilterName, a)
	return nil
}
