package translate

import (
	"errors"
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// SecurityPolicy: the attachment engine (attach.go) says which policy
// applies to each route; this file turns the effective policy into
// ir.SecuritySettings, once per (policy, parent) pair, and shares the
// result between every route it covers. Each field has its own file:
// securitypolicy_cors.go (cors, csrf), securitypolicy_credentials.go
// (apiKeyAuth, basicAuth), securitypolicy_jwt.go, securitypolicy_authz.go;
// spec.oidc and spec.extAuth are sp_oidc.go and sp_extauth.go.
//
// Any error fails every route the policy covers closed (HTTP 500, TCP
// connections refused): a half-applied security policy would serve a
// protected route to everyone.

// spKey identifies one translation: a policy, the parent it is merged onto
// (nil without mergeType), and for L4 whether it targets the route itself.
type spKey struct {
	p, parent *policy
	l4, route bool
}

type spResult struct {
	sec *ir.SecuritySettings
	err error
}

// securityPolicies translates the kind for the engine (attach_apply.go).
func (b *builder) securityPolicies(ix *attachIndex) *routePolicy {
	cache := map[spKey]*spResult{}
	get := func(e effective, l4 bool) *spResult {
		k := spKey{p: e.policy, parent: e.parent, l4: l4, route: e.at.level >= levelRoute}
		if !l4 {
			k.route = false // HTTP translation does not depend on the scope
		}
		if r, ok := cache[k]; ok {
			return r
		}
		r := &spResult{}
		if l4 {
			r.sec, r.err = b.translateSecurityL4(e)
		} else {
			r.sec, r.err = b.translateSecurity(e)
		}
		cache[k] = r
		return r
	}
	for _, p := range ix.policies {
		if msg := spDeprecatedMessage(spSpec(p)); msg != "" { // sp_extauth_service.go
			p.warn(nil, "DeprecatedField", msg)
		}
		// Translate every policy where it attached, routes or not, so a
		// broken policy says so even before a route reaches it (Envoy
		// Gateway validates them all). A policy to be merged is only
		// meaningful merged: its routes translate it.
		if p.mergeType != nil {
			continue
		}
		for _, cs := range p.st.scopes {
			e := effective{policy: p, at: cs.s}
			if res := get(e, cs.s.kind == "TCPRoute"); res.err != nil {
				p.fail(&cs.s, failMessage(res.err))
			}
		}
	}
	return &routePolicy{ix: ix,
		http: func(e effective, _ *attachPoint, r *ir.HTTPRoute) error {
			res := get(e, false)
			if res.err != nil {
				return res.err
			}
			r.Security = res.sec
			return nil
		},
		tcp: func(e effective, _ *attachPoint, r *ir.TCPRoute) error {
			res := get(e, true)
			if res.err != nil {
				return res.err
			}
			r.Security = res.sec
			return nil
		},
		udp: func(e effective, _ *attachPoint, _ *ir.UDPRoute) error {
			return b.securityUDP(e)
		},
	}
}

func spSpec(p *policy) *egv1a1.SecurityPolicySpec {
	return p.spec.(*egv1a1.SecurityPolicySpec)
}

// spOwners says, for a spec merged from a route's policy and its parent's,
// which of the two each field came from: references resolve in that
// policy's namespace and generated names carry its name, as in Envoy
// Gateway.
type spOwners struct {
	basicAuth, apiKeyAuth, authorization, jwt *policy
}

// effectiveSpec returns e's spec, merged onto its parent's when mergeType
// asks, and who owns which field (spFieldOwner, sp_extauth_service.go).
func effectiveSpec(e effective) (*egv1a1.SecurityPolicySpec, spOwners, error) {
	p := e.policy
	spec := spSpec(p)
	own := spOwners{basicAuth: p, apiKeyAuth: p, authorization: p, jwt: p}
	if p.mergeType != nil && *p.mergeType == egv1a1.Replace {
		return nil, own, errors.New("spec.mergeType: Replace is not valid for a SecurityPolicy (StrategicMerge or JSONMerge; the CRD rejects it)")
	}
	if p.mergeType != nil && e.at.level < levelRoute {
		return nil, own, errors.New("spec.mergeType: only a policy that targets routes may set it (the CRD rejects it)")
	}
	if e.parent == nil {
		return spec, own, nil
	}
	parent := spSpec(e.parent)
	merged, err := mergeSpecs(parent, spec, *p.mergeType)
	if err != nil {
		return nil, own, fmt.Errorf("spec.mergeType: %w", err)
	}
	own.basicAuth = spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool { return s.BasicAuth != nil })
	own.apiKeyAuth = spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool {
		return s.APIKeyAuth != nil && len(s.APIKeyAuth.CredentialRefs) > 0
	})
	own.authorization = spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool {
		return s.Authorization != nil && len(s.Authorization.Rules) > 0
	})
	own.jwt = spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool { return s.JWT != nil && len(s.JWT.Providers) > 0 })
	return merged, own, nil
}

// translateSecurity builds the settings of an HTTP or GRPC route. Every
// field is translated even after one fails, so the status lists every
// problem at once.
func (b *builder) translateSecurity(e effective) (*ir.SecuritySettings, error) {
	spec, own, err := effectiveSpec(e)
	if err != nil {
		return nil, err
	}
	p := e.policy
	s := &ir.SecuritySettings{Policy: spConfigName(p)}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if spec.CORS != nil {
		s.CORS, err = translateSPCORS(spec.CORS) // securitypolicy_cors.go
		add(err)
	}
	if spec.CSRF != nil {
		s.CSRF, err = translateCSRF(spec.CSRF)
		add(err)
	}
	if spec.APIKeyAuth != nil {
		s.APIKeyAuth, err = b.translateAPIKeyAuth(own.apiKeyAuth, spec.APIKeyAuth) // securitypolicy_credentials.go
		add(err)
	}
	if spec.BasicAuth != nil {
		s.BasicAuth, err = b.translateBasicAuth(own.basicAuth, spec.BasicAuth)
		add(err)
	}
	if spec.JWT != nil {
		s.JWT, err = b.translateJWT(own.jwt, spec.JWT) // securitypolicy_jwt.go
		add(err)
	}
	s.OIDC, err = b.spOIDC(e, spec) // sp_oidc.go
	add(err)
	s.ExtAuth, err = b.spExtAuth(e, spec) // sp_extauth.go
	add(err)
	if spec.Authorization != nil {
		s.Authorization, err = translateAuthorization(own.authorization, spec, false) // securitypolicy_authz.go
		add(err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// httpOnlyFields names the fields of spec that only HTTP can enforce.
func httpOnlyFields(spec *egv1a1.SecurityPolicySpec) (authn, browser []string) {
	if spec.APIKeyAuth != nil {
		authn = append(authn, "spec.apiKeyAuth")
	}
	if spec.BasicAuth != nil {
		authn = append(authn, "spec.basicAuth")
	}
	if spec.JWT != nil {
		authn = append(authn, "spec.jwt")
	}
	if spec.OIDC != nil {
		authn = append(authn, "spec.oidc")
	}
	if spec.ExtAuth != nil {
		authn = append(authn, "spec.extAuth")
	}
	if spec.CORS != nil {
		browser = append(browser, "spec.cors")
	}
	if spec.CSRF != nil {
		browser = append(browser, "spec.csrf")
	}
	return authn, browser
}

// translateSecurityL4 builds the settings of a TCP or TLS route: client
// CIDR authorization only. A policy on the route itself may hold nothing
// else (as Envoy Gateway rules). One that reaches the route from its
// Gateway, listener or ListenerSet may also configure HTTP: CORS and CSRF
// mean nothing to a byte stream and are left out, but authentication
// cannot be enforced on one, so rather than let the connection through
// unauthenticated (Envoy Gateway's behaviour) the route is refused.
func (b *builder) translateSecurityL4(e effective) (*ir.SecuritySettings, error) {
	spec, own, err := effectiveSpec(e)
	if err != nil {
		return nil, err
	}
	authn, browser := httpOnlyFields(spec)
	if e.at.level >= levelRoute {
		if bad := append(authn, browser...); len(bad) > 0 {
			return nil, fmt.Errorf("%s: a SecurityPolicy on a %s takes spec.authorization with client CIDRs only", strings.Join(bad, ", "), e.at.kind)
		}
	} else if len(authn) > 0 {
		return nil, fmt.Errorf("%s cannot be enforced on TCP or TLS connections, so the TCP and TLS routes this policy reaches refuse them; target the HTTP listeners (sectionName) or routes instead", strings.Join(authn, ", "))
	}
	if spec.Authorization == nil {
		return nil, nil
	}
	a, err := translateAuthorization(own.authorization, spec, true)
	if err != nil {
		return nil, err
	}
	return &ir.SecuritySettings{Policy: spConfigName(e.policy), Authorization: a}, nil
}

// securityUDP: no SecurityPolicy targets a UDPRoute, but one on a Gateway
// reaches its UDP listeners. Envoy can enforce none of it on datagrams; a
// policy that asks for authentication or authorization drops them instead
// of letting them through unchecked.
func (b *builder) securityUDP(e effective) error {
	spec := spSpec(e.policy)
	authn, _ := httpOnlyFields(spec)
	if spec.Authorization != nil {
		authn = append(authn, "spec.authorization")
	}
	if len(authn) == 0 {
		return nil
	}
	return fmt.Errorf("%s cannot be enforced on UDP, so the UDP routes this policy reaches drop their datagrams; target the HTTP or TCP listeners (sectionName) or routes instead", strings.Join(authn, ", "))
}
