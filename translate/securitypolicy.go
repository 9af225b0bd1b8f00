package translate

import (
	"reflect"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// securityPolicies translates the kind for the engine (attach_apply.go).
//
// TEMPORARY (secauth branch): this handler only translates spec.oidc and
// spec.extAuth, so that they can be tested end to end before the
// SecurityPolicy handler lands; a policy setting any other field is refused
// as before. The real handler replaces this file and calls spOIDC and
// spExtAuth with the effective spec.
func (b *builder) securityPolicies(ix *attachIndex) *routePolicy {
	err := notTranslated(ix)
	cache := map[[2]*policy]*ir.SecuritySettings{}
	errs := map[[2]*policy]error{}
	// Every policy is checked once on its own, as Envoy Gateway does, so
	// one that covers no route is still refused when it is broken (a
	// policy merged onto a parent is checked per route, merged).
	for _, p := range ix.policies {
		spec := p.spec.(*egv1a1.SecurityPolicySpec)
		if msg := spDeprecatedMessage(spec); msg != "" {
			p.warn(nil, "DeprecatedField", msg)
		}
		if p.mergeType != nil {
			continue
		}
		k := [2]*policy{p, nil}
		s, perr := b.authOnlySecurity(effective{policy: p}, err)
		cache[k], errs[k] = s, perr
		if perr != nil {
			p.fail(nil, failMessage(perr))
		}
	}
	http := func(e effective, _ *attachPoint, r *ir.HTTPRoute) error {
		k := [2]*policy{e.policy, e.parent}
		if s, ok := cache[k]; ok {
			if errs[k] != nil {
				return errs[k]
			}
			r.Security = s
			return nil
		}
		s, serr := b.authOnlySecurity(e, err)
		if serr != nil {
			errs[k] = serr
			return serr
		}
		cache[k] = s
		r.Security = s
		return nil
	}
	return &routePolicy{ix: ix,
		http: http,
		tcp:  func(effective, *attachPoint, *ir.TCPRoute) error { return err },
		udp:  func(effective, *attachPoint, *ir.UDPRoute) error { return err },
	}
}

// authOnlySecurity is the temporary translation: oidc and extAuth only.
func (b *builder) authOnlySecurity(e effective, notYet error) (*ir.SecuritySettings, error) {
	spec := e.policy.spec.(*egv1a1.SecurityPolicySpec)
	if e.parent != nil && e.policy.mergeType != nil {
		m, err := mergeSpecs(e.parent.spec.(*egv1a1.SecurityPolicySpec), spec, *e.policy.mergeType)
		if err != nil {
			return nil, err
		}
		spec = m
	}
	rest := *spec
	rest.PolicyTargetReferences = egv1a1.PolicyTargetReferences{}
	rest.MergeType, rest.OIDC, rest.ExtAuth = nil, nil, nil
	if !reflect.DeepEqual(rest, egv1a1.SecurityPolicySpec{}) {
		return nil, notYet
	}
	if spec.OIDC == nil && spec.ExtAuth == nil {
		return nil, notYet
	}
	o, err := b.spOIDC(e, spec)
	if err != nil {
		return nil, err
	}
	a, err := b.spExtAuth(e, spec)
	if err != nil {
		return nil, err
	}
	return &ir.SecuritySettings{OIDC: o, ExtAuth: a}, nil
}
