package translate

import (
	"errors"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// spExtAuth translates a SecurityPolicy's spec.extAuth (spec is the
// effective spec: merged onto its parent where mergeType asks).
func (b *builder) spExtAuth(p *policy, spec *egv1a1.SecurityPolicySpec) (*ir.ExtAuth, error) {
	if spec.ExtAuth == nil {
		return nil, nil
	}
	return nil, errors.New("spec.extAuth: egctl does not translate external authorization yet")
}
