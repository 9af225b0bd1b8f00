package translate

import (
	"fmt"
	"net/netip"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// translateAuthorization: spec.authorization. owner names the rules
// without a name ("securitypolicy/ns/name/authorization/rule/I"). l4 is a
// TCP or TLS route, where only client CIDRs can be matched.
//
// Rules egctl cannot honour (CEL expressions, GeoIP locations) fail the
// policy: a Deny rule silently left out would let through what it was
// written to stop.
func translateAuthorization(owner *policy, spec *egv1a1.SecurityPolicySpec, l4 bool) (*ir.Authorization, error) {
	const field = "spec.authorization"
	a := spec.Authorization
	out := &ir.Authorization{DefaultAction: ir.AuthorizationDeny}
	if a.DefaultAction != nil {
		switch *a.DefaultAction {
		case egv1a1.AuthorizationActionAllow:
			out.DefaultAction = ir.AuthorizationAllow
		case egv1a1.AuthorizationActionDeny:
		default:
			return nil, fmt.Errorf("%s.defaultAction: %q is not Allow or Deny", field, *a.DefaultAction)
		}
	}
	names := map[string]bool{}
	for i := range a.Rules {
		r := &a.Rules[i]
		f := fmt.Sprintf("%s.rules[%d]", field, i)
		rule := &ir.AuthorizationRule{Name: fmt.Sprintf("%s/authorization/rule/%d", spConfigName(owner), i)}
		if r.Name != nil && *r.Name != "" {
			rule.Name = *r.Name
		}
		if names[rule.Name] {
			return nil, fmt.Errorf("%s.name: %q names another rule too", f, rule.Name)
		}
		names[rule.Name] = true
		switch r.Action {
		case egv1a1.AuthorizationActionAllow:
			rule.Action = ir.AuthorizationAllow
		case egv1a1.AuthorizationActionDeny:
			rule.Action = ir.AuthorizationDeny
		default:
			return nil, fmt.Errorf("%s.action: %q is not Allow or Deny", f, r.Action)
		}
		if r.CEL != nil {
			return nil, fmt.Errorf("%s.cel: egctl does not translate CEL expressions yet", f)
		}
		if r.Principal == nil {
			return nil, fmt.Errorf("%s: at least one of principal or cel must be specified (the CRD requires it)", f)
		}
		if err := translatePrincipal(rule, r.Principal, spec, f+".principal", l4); err != nil {
			return nil, err
		}
		if op := r.Operation; op != nil {
			if l4 {
				return nil, fmt.Errorf("%s.operation: a TCP or TLS route has no HTTP method or path to match", f)
			}
			if len(op.Methods) == 0 && op.Path == nil {
				return nil, fmt.Errorf("%s.operation: at least one of methods or path must be specified (the CRD requires it)", f)
			}
			if len(op.Methods) > 16 {
				return nil, fmt.Errorf("%s.operation.methods: at most 16 (the CRD rejects more)", f)
			}
			for _, m := range op.Methods {
				if !httpMethods[m] {
					return nil, fmt.Errorf("%s.operation.methods: %q is not an HTTP method", f, m)
				}
				rule.Methods = append(rule.Methods, string(m))
			}
			if p := op.Path; p != nil {
				ap, err := authorizationPath(p)
				if err != nil {
					return nil, fmt.Errorf("%s.operation.path: %v", f, err)
				}
				rule.Path = ap
			}
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func translatePrincipal(rule *ir.AuthorizationRule, p *egv1a1.Principal, spec *egv1a1.SecurityPolicySpec, f string, l4 bool) error {
	if len(p.ClientCIDRs) == 0 && p.JWT == nil && len(p.Headers) == 0 && len(p.ClientIPGeoLocations) == 0 {
		return fmt.Errorf("%s: at least one of clientCIDRs, jwt, headers, or clientIPGeoLocations must be specified (the CRD requires it)", f)
	}
	if len(p.ClientIPGeoLocations) > 0 {
		return fmt.Errorf("%s.clientIPGeoLocations: egctl does not translate GeoIP matches yet", f)
	}
	for i, c := range p.ClientCIDRs {
		pfx, err := netip.ParsePrefix(string(c))
		if err != nil {
			return fmt.Errorf("%s.clientCIDRs[%d]: %q is not a CIDR", f, i, c)
		}
		// 10.0.0.1/8 means 10.0.0.0/8, as Envoy and Envoy Gateway read it.
		rule.ClientCIDRs = append(rule.ClientCIDRs, pfx.Masked().String())
	}
	if l4 && (p.JWT != nil || len(p.Headers) > 0) {
		return fmt.Errorf("%s: a TCP or TLS route can only be matched by clientCIDRs (not jwt or headers)", f)
	}
	if j := p.JWT; j != nil {
		jf := f + ".jwt"
		if len(j.Claims) == 0 && len(j.Scopes) == 0 {
			return fmt.Errorf("%s: at least one of claims or scopes must be specified (the CRD requires it)", jf)
		}
		if !specHasJWTProvider(spec, j.Provider) {
			// Otherwise the rule would never match: a Deny rule would let
			// everything through.
			return fmt.Errorf("%s.provider: %q is not a provider of spec.jwt", jf, j.Provider)
		}
		jp := &ir.JWTPrincipal{Provider: j.Provider}
		for i, c := range j.Claims {
			if c.Name == "" || len(c.Values) == 0 {
				return fmt.Errorf("%s.claims[%d]: name and values are required", jf, i)
			}
			claim := ir.JWTClaim{Name: c.Name, Values: append([]string(nil), c.Values...)}
			if c.ValueType != nil {
				switch *c.ValueType {
				case egv1a1.JWTClaimValueTypeString:
				case egv1a1.JWTClaimValueTypeStringArray:
					claim.StringArray = true
				default:
					return fmt.Errorf("%s.claims[%d].valueType: %q is not String or StringArray", jf, i, *c.ValueType)
				}
			}
			jp.Claims = append(jp.Claims, claim)
		}
		for i, s := range j.Scopes {
			if s == "" || strings.ContainsAny(string(s), " \t") {
				return fmt.Errorf("%s.scopes[%d]: %q is not one scope", jf, i, s)
			}
			jp.Scopes = append(jp.Scopes, string(s))
		}
		rule.JWT = jp
	}
	for i, h := range p.Headers {
		if err := checkHeaderName(h.Name); err != nil {
			return fmt.Errorf("%s.headers[%d].name: %v", f, i, err)
		}
		if len(h.Values) == 0 {
			return fmt.Errorf("%s.headers[%d].values: at least one value is required", f, i)
		}
		rule.Headers = append(rule.Headers, ir.HeaderPrincipal{Name: h.Name, Values: append([]string(nil), h.Values...)})
	}
	return nil
}

func specHasJWTProvider(spec *egv1a1.SecurityPolicySpec, name string) bool {
	if spec.JWT == nil {
		return false
	}
	for _, p := range spec.JWT.Providers {
		if p.Name == name {
			return true
		}
	}
	return false
}

// authorizationPath: operation.path (PathPrefix unless told otherwise).
func authorizationPath(p *egv1a1.PathMatch) (*ir.AuthorizationPath, error) {
	out := &ir.AuthorizationPath{Type: ir.PathPrefix, Value: p.Value, Invert: p.Invert != nil && *p.Invert}
	if p.Type != nil {
		switch *p.Type {
		case gwv1.PathMatchPathPrefix:
		case gwv1.PathMatchExact:
			out.Type = ir.PathExact
		case gwv1.PathMatchRegularExpression:
			out.Type = ir.PathRegex
		default:
			return nil, fmt.Errorf("type %q is not Exact, PathPrefix or RegularExpression", *p.Type)
		}
	}
	if out.Value == "" {
		out.Value = "/"
	}
	if len(out.Value) > 1024 {
		return nil, fmt.Errorf("longer than 1024 characters (the CRD rejects it)")
	}
	if out.Type == ir.PathRegex {
		if err := checkEnvoyRegex(out.Value); err != nil {
			return nil, fmt.Errorf("regular expression %q: %v", out.Value, err)
		}
	} else if !strings.HasPrefix(out.Value, "/") {
		return nil, fmt.Errorf("%q must start with /", out.Value)
	}
	return out, nil
}
