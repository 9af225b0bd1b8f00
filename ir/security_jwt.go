package ir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// JWT is a SecurityPolicy's spec.jwt: a request must carry a token one of
// the providers verifies, else Envoy answers 401.
type JWT struct {
	// Providers, in the policy's order; names are unique.
	Providers []JWTProvider
	// AllowMissing lets requests without a token through (spec.jwt.optional);
	// an invalid token is still refused.
	AllowMissing bool `json:",omitempty"`
	// AllowMissingOrFailed lets any request through (spec.jwt.failOpen);
	// a valid token's claims are still forwarded.
	AllowMissingOrFailed bool `json:",omitempty"`
}

// JWTProvider verifies tokens of one issuer.
type JWTProvider struct {
	// Name is the provider's name; verified claims are kept under it
	// (dynamic metadata) for the authorization rules.
	Name string
	// Issuer the token's iss must equal; "" checks none.
	Issuer string `json:",omitempty"`
	// Audiences of which the token's aud must hold one; none checks none.
	Audiences []string `json:",omitempty"`
	// Exactly one of RemoteJWKS and LocalJWKS is set.
	RemoteJWKS *RemoteJWKS `json:",omitempty"`
	// LocalJWKS is a JSON Web Key Set. Public keys are no secret, but a
	// set may hold symmetric ("k") or private members: printed output
	// redacts those (RedactJWKS).
	LocalJWKS string `json:",omitempty" ir:"text"`
	// ClaimToHeaders copy verified claims into request headers.
	ClaimToHeaders []ClaimToHeader `json:",omitempty"`
	// RecomputeRoute makes Envoy pick the route again after the claims
	// became headers.
	RecomputeRoute bool `json:",omitempty"`
	// ExtractFrom says where tokens are; nil means Envoy's default (the
	// Authorization header's Bearer value and the access_token parameter).
	ExtractFrom *JWTExtractor `json:",omitempty"`
}

// RemoteJWKS is where Envoy fetches a provider's keys.
type RemoteJWKS struct {
	URI string
	// Destination is the cluster the keys are fetched through: the
	// policy's backendRefs ("securitypolicy/ns/name/jwt/I"), or one built
	// from the URI's host and port ("host_port"), as Envoy Gateway names
	// them. TLS is set on its backends for https.
	Destination *RouteDestination
	// CacheDuration keeps fetched keys; 0 is Envoy's default (10 minutes;
	// translate sets Envoy Gateway's default of 5 minutes).
	CacheDuration time.Duration `json:",omitempty"`
	// FailedRefetchDuration is the wait after a failed fetch; 0 is
	// Envoy's default (1 second).
	FailedRefetchDuration time.Duration `json:",omitempty"`
	// Timeout bounds one fetch.
	Timeout time.Duration
	// Retry retries a failed fetch (backendSettings.retry).
	Retry *ServiceRetry `json:",omitempty"`
}

// ClaimToHeader copies one claim (dot-separated for nested ones) into a
// request header.
type ClaimToHeader struct {
	Header string
	Claim  string
}

// JWTExtractor lists where tokens are taken from.
type JWTExtractor struct {
	Headers []JWTHeader `json:",omitempty"`
	Cookies []string    `json:",omitempty"`
	Params  []string    `json:",omitempty"`
}

// JWTHeader is a header holding a token after ValuePrefix ("Bearer ").
type JWTHeader struct {
	Name        string
	ValuePrefix string `json:",omitempty"`
}

func (j *JWT) validate() error {
	if len(j.Providers) == 0 {
		return errors.New("no providers")
	}
	if j.AllowMissing && j.AllowMissingOrFailed {
		return errors.New("both AllowMissing and AllowMissingOrFailed")
	}
	names := map[string]bool{}
	for i := range j.Providers {
		p := &j.Providers[i]
		if p.Name == "" || names[p.Name] {
			return fmt.Errorf("providers[%d]: empty or repeated name %q", i, p.Name)
		}
		names[p.Name] = true
		if (p.RemoteJWKS == nil) == (p.LocalJWKS == "") {
			return fmt.Errorf("provider %s: want exactly one of RemoteJWKS and LocalJWKS", p.Name)
		}
		if r := p.RemoteJWKS; r != nil {
			u, err := url.Parse(r.URI)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("provider %s: RemoteJWKS URI %q is not an http(s) URL", p.Name, r.URI)
			}
			if r.Destination == nil || r.Destination.Name == "" || len(r.Destination.Backends) == 0 {
				return fmt.Errorf("provider %s: RemoteJWKS without a destination", p.Name)
			}
			if err := r.Destination.validate(); err != nil {
				return fmt.Errorf("provider %s: RemoteJWKS: %v", p.Name, err)
			}
			if r.Timeout <= 0 {
				return fmt.Errorf("provider %s: RemoteJWKS timeout %v", p.Name, r.Timeout)
			}
		}
		for _, c := range p.ClaimToHeaders {
			if c.Header == "" || c.Claim == "" {
				return fmt.Errorf("provider %s: claim to header with an empty name", p.Name)
			}
		}
	}
	return nil
}

// jwkSecretMembers are the JSON Web Key members that hold secret material:
// a symmetric key ("k", RFC 7518 6.4.1) and private key parts (RFC 7518
// 6.2.2 and 6.3.2).
var jwkSecretMembers = []string{"k", "d", "p", "q", "dp", "dq", "qi", "oth"}

// RedactJWKS returns the key set with every secret member of every key
// replaced by Redacted, and whether anything was. Public keys stay, so a
// set of public keys reads the same. Text that is not a key set is
// redacted whole: it cannot be shown to hold nothing secret.
func RedactJWKS(jwks string) (string, bool) {
	var set map[string]any
	if err := json.Unmarshal([]byte(jwks), &set); err != nil {
		return Redacted, true
	}
	keys, _ := set["keys"].([]any)
	changed := false
	for _, k := range keys {
		m, ok := k.(map[string]any)
		if !ok {
			continue
		}
		for _, name := range jwkSecretMembers {
			if _, ok := m[name]; ok {
				m[name] = Redacted
				changed = true
			}
		}
	}
	if !changed {
		return jwks, false
	}
	b, err := json.Marshal(set)
	if err != nil {
		return Redacted, true
	}
	return string(b), true
}
