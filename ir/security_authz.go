package ir

import (
	"fmt"
	"net/netip"
	"regexp"
)

// AuthorizationAction is what happens to a request a rule matches.
type AuthorizationAction string

const (
	AuthorizationAllow AuthorizationAction = "Allow"
	AuthorizationDeny  AuthorizationAction = "Deny"
)

// Authorization is a SecurityPolicy's spec.authorization: the first rule
// that matches a request decides; DefaultAction decides when none does.
// Denied requests are answered 403 (HTTP) or their connection is closed
// (TCP).
type Authorization struct {
	DefaultAction AuthorizationAction
	Rules         []*AuthorizationRule `json:",omitempty"`
}

// AuthorizationRule matches when every part that is set matches (methods,
// path, client CIDRs, JWT, headers); a rule sets at least one.
type AuthorizationRule struct {
	// Name is the rule's name, or "securitypolicy/ns/name/authorization/rule/I".
	Name   string
	Action AuthorizationAction
	// Methods, one of which the request's must be.
	Methods []string `json:",omitempty"`
	// Path the request's must match.
	Path *AuthorizationPath `json:",omitempty"`
	// ClientCIDRs, one of which holds the client address. Canonical
	// prefixes ("10.0.0.0/8").
	ClientCIDRs []string `json:",omitempty"`
	// JWT matches verified claims and scopes.
	JWT *JWTPrincipal `json:",omitempty"`
	// Headers must all be present with one of their values.
	Headers []HeaderPrincipal `json:",omitempty"`
}

// AuthorizationPath matches the request path: Exact, PathPrefix (whole
// path elements) or RegularExpression (RE2, the whole path), inverted when
// Invert is set.
type AuthorizationPath struct {
	Type   PathMatchType
	Value  string
	Invert bool `json:",omitempty"`
}

// JWTPrincipal matches what provider Provider verified: every claim (one
// of its values) and every scope.
type JWTPrincipal struct {
	Provider string
	Claims   []JWTClaim `json:",omitempty"`
	Scopes   []string   `json:",omitempty"`
}

// JWTClaim matches a claim (dot-separated for nested ones) equal to one of
// Values; with StringArray the claim is a list holding one of them.
type JWTClaim struct {
	Name        string
	Values      []string
	StringArray bool `json:",omitempty"`
}

// HeaderPrincipal matches a header equal to one of Values.
type HeaderPrincipal struct {
	Name   string
	Values []string
}

// validate checks a's rules; jwt is the policy's JWT settings, which JWT
// principals refer to. l4 allows client CIDR rules only.
func (a *Authorization) validate(jwt *JWT, l4 bool) error {
	if a.DefaultAction != AuthorizationAllow && a.DefaultAction != AuthorizationDeny {
		return fmt.Errorf("default action %q", a.DefaultAction)
	}
	for i, r := range a.Rules {
		if r == nil {
			return fmt.Errorf("rules[%d]: nil", i)
		}
		if r.Name == "" {
			return fmt.Errorf("rules[%d]: empty name", i)
		}
		if r.Action != AuthorizationAllow && r.Action != AuthorizationDeny {
			return fmt.Errorf("rule %s: action %q", r.Name, r.Action)
		}
		for _, c := range r.ClientCIDRs {
			if p, err := netip.ParsePrefix(c); err != nil || p != p.Masked() {
				return fmt.Errorf("rule %s: client CIDR %q is not a canonical prefix", r.Name, c)
			}
		}
		if l4 {
			if len(r.ClientCIDRs) == 0 || len(r.Methods) > 0 || r.Path != nil || r.JWT != nil || len(r.Headers) > 0 {
				return fmt.Errorf("rule %s: a TCP rule matches client CIDRs only", r.Name)
			}
			continue
		}
		if len(r.ClientCIDRs) == 0 && len(r.Methods) == 0 && r.Path == nil && r.JWT == nil && len(r.Headers) == 0 {
			return fmt.Errorf("rule %s: matches nothing in particular", r.Name)
		}
		if p := r.Path; p != nil {
			switch p.Type {
			case PathExact, PathPrefix:
				if p.Value == "" || p.Value[0] != '/' {
					return fmt.Errorf("rule %s: path %q must start with /", r.Name, p.Value)
				}
			case PathRegex:
				if _, err := regexp.Compile(p.Value); err != nil {
					return fmt.Errorf("rule %s: path regex: %v", r.Name, err)
				}
			default:
				return fmt.Errorf("rule %s: path type %q", r.Name, p.Type)
			}
		}
		if j := r.JWT; j != nil {
			if len(j.Claims) == 0 && len(j.Scopes) == 0 {
				return fmt.Errorf("rule %s: JWT principal without claims or scopes", r.Name)
			}
			if !hasProvider(jwt, j.Provider) {
				return fmt.Errorf("rule %s: JWT provider %q is not one of the policy's", r.Name, j.Provider)
			}
			for _, c := range j.Claims {
				if c.Name == "" || len(c.Values) == 0 {
					return fmt.Errorf("rule %s: claim %q without name or values", r.Name, c.Name)
				}
			}
		}
		for _, h := range r.Headers {
			if h.Name == "" || len(h.Values) == 0 {
				return fmt.Errorf("rule %s: header %q without name or values", r.Name, h.Name)
			}
		}
	}
	return nil
}

func hasProvider(j *JWT, name string) bool {
	if j == nil {
		return false
	}
	for i := range j.Providers {
		if j.Providers[i].Name == name {
			return true
		}
	}
	return false
}
