package ir

import (
	"errors"
	"fmt"
)

// SecuritySettings is what a SecurityPolicy asks of a route. translate
// builds one value per effective policy (a policy, or a route's policy
// merged onto its parent's) and shares it between every route that policy
// covers: nothing changes it once built, and xds builds each filter
// configuration once per value.
//
// Authentication runs in Envoy Gateway's order: CORS and CSRF first, then
// external authorization, API keys, basic auth, OIDC and JWT, then the
// authorization rules, which may read what JWT verified.
type SecuritySettings struct {
	// Policy names the policy that applies, "securitypolicy/namespace/name".
	Policy string
	// CORS is spec.cors. A route's own Gateway API CORS filter
	// (HTTPRoute.CORS) takes precedence, as in Envoy Gateway.
	CORS *CORS `json:",omitempty"`
	// CSRF is spec.csrf (security_cors.go).
	CSRF *CSRF `json:",omitempty"`
	// APIKeyAuth is spec.apiKeyAuth (security_credentials.go).
	APIKeyAuth *APIKeyAuth `json:",omitempty"`
	// BasicAuth is spec.basicAuth (security_credentials.go).
	BasicAuth *BasicAuth `json:",omitempty"`
	// JWT is spec.jwt (security_jwt.go).
	JWT *JWT `json:",omitempty"`
	// OIDC is spec.oidc (security_oidc.go).
	OIDC *OIDC `json:",omitempty"`
	// ExtAuth is spec.extAuth (security_extauth.go).
	ExtAuth *ExtAuth `json:",omitempty"`
	// Authorization is spec.authorization (security_authz.go). On a TCP or
	// TLS route it is all there is, with client CIDR rules only.
	Authorization *Authorization `json:",omitempty"`
}

// validateSecurity checks the security settings of every route once per
// shared value (10,000 routes may share one).
func (p *Proxy) validateSecurity() error {
	seen := map[*SecuritySettings]error{}
	var errs []error
	check := func(route string, s *SecuritySettings, l4 bool) {
		if s == nil {
			return
		}
		err, done := seen[s]
		if !done {
			err = s.validate(l4)
			seen[s] = err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("proxy %s: route %s: security: %v", p.Name, route, err))
		}
	}
	for _, l := range p.HTTP {
		if l == nil {
			continue
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r != nil {
					check(r.Name, r.Security, false)
				}
			}
		}
	}
	for _, l := range p.TCP {
		if l == nil {
			continue
		}
		for _, r := range l.Routes {
			if r != nil {
				check(r.Name, r.Security, true)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *SecuritySettings) validate(l4 bool) error {
	if l4 {
		if s.CORS != nil || s.CSRF != nil || s.APIKeyAuth != nil || s.BasicAuth != nil || s.JWT != nil || s.OIDC != nil || s.ExtAuth != nil {
			return fmt.Errorf("a TCP route takes authorization only")
		}
		if s.Authorization != nil {
			return s.Authorization.validate(nil, true)
		}
		return nil
	}
	if s.CSRF != nil {
		if err := s.CSRF.validate(); err != nil {
			return fmt.Errorf("CSRF: %v", err)
		}
	}
	if s.APIKeyAuth != nil {
		if err := s.APIKeyAuth.validate(); err != nil {
			return fmt.Errorf("APIKeyAuth: %v", err)
		}
	}
	if s.BasicAuth != nil {
		if err := s.BasicAuth.validate(); err != nil {
			return fmt.Errorf("BasicAuth: %v", err)
		}
	}
	if s.JWT != nil {
		if err := s.JWT.validate(); err != nil {
			return fmt.Errorf("JWT: %v", err)
		}
	}
	if s.Authorization != nil {
		if err := s.Authorization.validate(s.JWT, false); err != nil {
			return fmt.Errorf("Authorization: %v", err)
		}
	}
	return nil
}
