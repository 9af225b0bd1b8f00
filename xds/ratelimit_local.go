package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/ratelimitcfg"
)

const localRateLimitStatPrefix = "http_local_rate_limiter"

// Local rate limits: the HCM gets an empty local_ratelimit filter when a
// route has one, and each such route its whole configuration: the route's
// own token bucket and one descriptor per rule, as Envoy Gateway builds
// them.
func init() {
	register(&feature{
		name: localRateLimitFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return localRateLimitOf(r) != nil }) {
				return nil, nil
			}
			a, err := toAny(&localrlv3.LocalRateLimit{
				StatPrefix: localRateLimitStatPrefix,
				// Distinct values kept per descriptor, as Envoy Gateway sizes it.
				MaxDynamicDescriptors: wrapperspb.UInt32(10000),
			})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: localRateLimitFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			l := localRateLimitOf(r)
			if l == nil {
				return nil
			}
			a, ok := b.rateLimit.local[l]
			if !ok {
				var err error
				if a, err = localRateLimitConfig(l); err != nil {
					return fmt.Errorf("local rate limit: %w", err)
				}
				if b.rateLimit.local == nil {
					b.rateLimit.local = map[*ir.LocalRateLimit]*anyMsg{}
				}
				b.rateLimit.local[l] = a
			}
			if out.TypedPerFilterConfig == nil {
				out.TypedPerFilterConfig = map[string]*anypb.Any{}
			}
			out.TypedPerFilterConfig[localRateLimitFilterName] = a
			return nil
		},
	})
}

func localRateLimitOf(r *ir.HTTPRoute) *ir.LocalRateLimit {
	if r.Traffic == nil || r.Traffic.RateLimit == nil {
		return nil
	}
	return r.Traffic.RateLimit.Local
}

func hundredPercent() *corev3.RuntimeFractionalPercent {
	return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
}

func tokenBucket(v ir.RateLimitValue) *typev3.TokenBucket {
	return &typev3.TokenBucket{
		MaxTokens:     v.Requests,
		TokensPerFill: wrapperspb.UInt32(v.Requests),
		FillInterval:  unitDuration(v.Unit),
	}
}

// localRateLimitConfig is the per-route configuration of l.
func localRateLimitConfig(l *ir.LocalRateLimit) (*anyMsg, error) {
	cfg := &localrlv3.LocalRateLimit{
		StatPrefix:              localRateLimitStatPrefix,
		TokenBucket:             tokenBucket(l.Default),
		FilterEnabled:           hundredPercent(),
		FilterEnforced:          hundredPercent(),
		EnableXRatelimitHeaders: rlv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
		// A request that matches a rule counts there, not in the route's
		// bucket.
		AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(false),
	}
	if l.DefaultXRateLimitHeaders == ir.XRateLimitHeadersOff {
		cfg.EnableXRatelimitHeaders = rlv3.XRateLimitHeadersRFCVersion_OFF
	}
	for i, r := range l.Rules {
		entries := ratelimitcfg.Local(l.Rules, i)
		actions, err := rateLimitActions(entries)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		rl := &routev3.RateLimit{Actions: actions, XRatelimitOption: xRateLimitOption(r.XRateLimitHeaders)}
		if r.RequestCost != nil {
			rl.HitsAddend = rateLimitCost(r.RequestCost)
		}
		cfg.RateLimits = append(cfg.RateLimits, rl)
		d := &rlv3.LocalRateLimitDescriptor{TokenBucket: tokenBucket(r.Limit), ShadowMode: r.ShadowMode}
		for _, e := range entries {
			d.Entries = append(d.Entries, &rlv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
		}
		cfg.Descriptors = append(cfg.Descriptors, d)
	}
	return toAny(cfg)
}
