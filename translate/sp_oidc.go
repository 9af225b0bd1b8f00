package translate

import (
	"errors"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// spOIDC translates a SecurityPolicy's spec.oidc (spec is the effective
// spec: merged onto its parent where mergeType asks).
func (b *builder) spOIDC(p *policy, spec *egv1a1.SecurityPolicySpec) (*ir.OIDC, error) {
	if spec.OIDC == nil {
		return nil, nil
	}
	return nil, errors.New("spec.oidc: egctl does not translate OIDC yet")
}
