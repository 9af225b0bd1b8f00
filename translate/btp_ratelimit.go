package translate

import (
	"errors"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// btpRateLimit translates a BackendTrafficPolicy's spec.rateLimit (spec is
// the effective spec: merged onto its parent where mergeType asks). p is
// the policy the spec comes from, for the names Envoy Gateway derives.
func (b *builder) btpRateLimit(p *policy, spec *egv1a1.BackendTrafficPolicySpec) (*ir.RateLimit, error) {
	if spec.RateLimit == nil {
		return nil, nil
	}
	return nil, errors.New("spec.rateLimit: egctl does not translate rate limits yet")
}
