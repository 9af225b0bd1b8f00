package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// spec.faultInjection: Envoy's fault filter, with an empty configuration on
// the HCM (no fault) and each route's faults as its per-route config.
const faultFilterName = "envoy.filters.http.fault"

func init() {
	register(&feature{
		name: faultFilterName,
		httpFilters: func(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.Traffic != nil && r.Traffic.Fault != nil }) {
				return nil, nil
			}
			a, err := toAny(&faultv3.HTTPFault{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: faultFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: patchFault,
	})
}

// faultCache shares one per-route config between the routes of a policy.
type faultCache map[*ir.Fault]*anypb.Any

func patchFault(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	if r.Traffic == nil || r.Traffic.Fault == nil {
		return nil
	}
	f := r.Traffic.Fault
	cache := *featureState(b, "faultCache", func() *faultCache { return &faultCache{} })
	a, ok := cache[f]
	if !ok {
		cfg := &faultv3.HTTPFault{}
		if d := f.Delay; d != nil {
			cfg.Delay = &faultcommonv3.FaultDelay{
				FaultDelaySecifier: &faultcommonv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(d.Duration)},
				Percentage:         &typev3.FractionalPercent{Numerator: d.Share, Denominator: typev3.FractionalPercent_MILLION},
			}
		}
		if ab := f.Abort; ab != nil {
			fa := &faultv3.FaultAbort{Percentage: &typev3.FractionalPercent{Numerator: ab.Share, Denominator: typev3.FractionalPercent_MILLION}}
			if ab.GRPCStatus != nil {
				fa.ErrorType = &faultv3.FaultAbort_GrpcStatus{GrpcStatus: *ab.GRPCStatus}
			} else {
				fa.ErrorType = &faultv3.FaultAbort_HttpStatus{HttpStatus: ab.HTTPStatus}
			}
			cfg.Abort = fa
		}
		var err error
		if a, err = toAny(cfg); err != nil {
			return err
		}
		cache[f] = a
	}
	setPerFilterConfig(out, faultFilterName, a)
	return nil
}

// setPerFilterConfig adds a per-route filter configuration.
func setPerFilterConfig(out *routev3.Route, name string, a *anypb.Any) {
	if out.TypedPerFilterConfig == nil {
		out.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	out.TypedPerFilterConfig[name] = a
}
