package translate

import (
	"errors"
	"reflect"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// backendTrafficPolicies translates the kind for the engine (attach_apply.go).
//
// TEMPORARY (ratelimit branch): until the BackendTrafficPolicy translator
// lands, a policy whose only setting is spec.rateLimit is translated
// (btp_ratelimit.go); any other field still refuses the policy and fails
// its routes closed. The lead replaces this with the full handler, which
// calls btpRateLimitFor.
func (b *builder) backendTrafficPolicies(ix *attachIndex) *routePolicy {
	err := notTranslated(ix)
	type key struct{ p, parent *policy }
	type result struct {
		t   *ir.TrafficSettings
		err error
	}
	cache := map[key]result{}
	return &routePolicy{ix: ix,
		http: func(e effective, _ *attachPoint, r *ir.HTTPRoute) error {
			k := key{e.policy, e.parent}
			res, ok := cache[k]
			if !ok {
				res.t, res.err = b.btpRateLimitOnly(e)
				cache[k] = res
			}
			if res.err != nil {
				return res.err
			}
			r.Traffic = res.t
			return nil
		},
		tcp: func(effective, *attachPoint, *ir.TCPRoute) error { return err },
		udp: func(effective, *attachPoint, *ir.UDPRoute) error { return err },
	}
}

// btpRateLimitOnly is the temporary handler's translation: spec.rateLimit
// and nothing else.
func (b *builder) btpRateLimitOnly(e effective) (*ir.TrafficSettings, error) {
	spec, _ := e.policy.spec.(*egv1a1.BackendTrafficPolicySpec)
	if spec == nil {
		return nil, errors.New("internal error: BackendTrafficPolicy without a spec")
	}
	if e.parent != nil && e.policy.mergeType != nil {
		parent, _ := e.parent.spec.(*egv1a1.BackendTrafficPolicySpec)
		merged, err := mergeSpecs(parent, spec, *e.policy.mergeType)
		if err != nil {
			return nil, err
		}
		spec = merged
	}
	rest := *spec
	rest.PolicyTargetReferences = egv1a1.PolicyTargetReferences{}
	rest.MergeType = nil
	rest.RateLimit = nil
	if spec.RateLimit == nil || !reflect.DeepEqual(rest, egv1a1.BackendTrafficPolicySpec{}) {
		return nil, errors.New("egctl does not translate BackendTrafficPolicy settings other than spec.rateLimit yet: they are not applied")
	}
	rl, err := b.btpRateLimitFor(e, spec)
	if err != nil || rl == nil {
		return nil, err
	}
	return &ir.TrafficSettings{RateLimit: rl}, nil
}
