package ir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// OIDC is a SecurityPolicy's spec.oidc: Envoy's OAuth2 filter, enabled on
// the route, running the authorization code flow against an OpenID
// provider. One OIDC value is shared by every route its policy covers.
type OIDC struct {
	// Name is "securitypolicy/<namespace>/<name>" of the policy that owns
	// spec.oidc: the filter's stat prefix and the secrets' names
	// ("oauth2/client_secret/<Name>", "oauth2/hmac_secret/<Name>").
	Name     string
	Provider OIDCProvider

	ClientID string
	// ClientSecret authenticates the client at the token endpoint; HMACSecret
	// keys the HMAC that signs the filter's cookies. Both are redacted in
	// printed output (RedactSecrets).
	ClientSecret SecretBytes
	HMACSecret   SecretBytes

	// Scopes always hold "openid".
	Scopes    []string
	Resources []string `json:",omitempty"`
	// RedirectURL is where the provider sends the browser back (Envoy
	// formatters such as %REQ(:authority)% allowed); RedirectPath is its
	// path, which the filter answers.
	RedirectURL  string
	RedirectPath string
	// LogoutPath clears the session cookies (and, with an end session
	// endpoint, logs out at the provider).
	LogoutPath string

	// ForwardAccessToken sends the access token upstream as a bearer token.
	ForwardAccessToken bool
	// ForwardIDTokenHeader, when set, sends the ID token upstream in this
	// header ("Bearer " prefixed for Authorization).
	ForwardIDTokenHeader string `json:",omitempty"`
	// RefreshToken uses the refresh token when the access token expires.
	RefreshToken bool
	// DefaultTokenTTL, DefaultRefreshTokenTTL, CSRFTokenTTL: 0 keeps
	// Envoy's default.
	DefaultTokenTTL        time.Duration `json:",omitempty"`
	DefaultRefreshTokenTTL time.Duration `json:",omitempty"`
	CSRFTokenTTL           time.Duration `json:",omitempty"`
	// DisableTokenEncryption stores tokens in cookies in plain text.
	DisableTokenEncryption bool `json:",omitempty"`

	Cookies OIDCCookies
	// DenyRedirect: a request matching any of these (all headers of an
	// entry) is answered 401 instead of being redirected to the provider.
	DenyRedirect []OIDCHeaderMatch `json:",omitempty"`
	// PassThrough: a request matching any of these skips OIDC (a JWT filter
	// after it checks the token the request carries).
	PassThrough []OIDCHeaderMatch `json:",omitempty"`
}

// SecretBytes is secret material (client secrets, HMAC keys). JSON shows
// it base64-encoded, or as the readable "[redacted]" once RedactSecrets
// has replaced it.
type SecretBytes []byte

// MarshalJSON prints a redacted value as text.
func (s SecretBytes) MarshalJSON() ([]byte, error) {
	if string(s) == Redacted {
		return json.Marshal(Redacted)
	}
	return json.Marshal([]byte(s))
}

// OIDCProvider is where the filter sends the browser and the code.
type OIDCProvider struct {
	AuthorizationEndpoint string
	TokenEndpoint         string
	EndSessionEndpoint    string `json:",omitempty"`
	// Destination, when set, is the cluster that reaches the token
	// endpoint (provider.backendRefs): "securitypolicy/<ns>/<name>/oidc/0".
	// Nil means a DNS cluster built from the token endpoint's host and
	// port, named as Envoy Gateway names it ("host_port", dots as "_"),
	// with TLS (system trust store, SNI = host) for https.
	Destination *RouteDestination `json:",omitempty"`
	// Cluster is what backendSettings ask of the token endpoint's cluster
	// when it is built from the URL (with backendRefs, Destination.Cluster
	// carries them).
	Cluster *ClusterSettings `json:",omitempty"`
	// Timeout of a token request; 0 means 10s.
	Timeout time.Duration `json:",omitempty"`
	// Retry of token requests (backendSettings.retry).
	Retry *ServiceRetry `json:",omitempty"`
}

// OIDCCookies names the filter's cookies and sets their attributes.
type OIDCCookies struct {
	// Suffix ends every cookie name ("AccessToken-<Suffix>", …) so that two
	// policies on one host do not share a session.
	Suffix string
	// AccessToken and IDToken replace the default names when set.
	AccessToken string `json:",omitempty"`
	IDToken     string `json:",omitempty"`
	// Domain, when set, makes the token cookies valid for the domain and
	// its subdomains.
	Domain string `json:",omitempty"`
	// SameSite is "", "Lax", "Strict" or "None".
	SameSite string `json:",omitempty"`
}

// OIDCHeaderMatch matches one request header. Type is Exact, Prefix,
// Suffix, RegularExpression or Present (Value unused).
type OIDCHeaderMatch struct {
	Name  string
	Type  string
	Value string `json:",omitempty"`
}

// ServiceRetry retries requests to an external service (token endpoint,
// ext-auth service): Envoy's RetryPolicy of the HTTP or gRPC client.
type ServiceRetry struct {
	// NumRetries, 0 for Envoy's default (1).
	NumRetries uint32 `json:",omitempty"`
	// RetryOn are Envoy retry_on conditions ("5xx", "reset", …); empty
	// means Envoy Gateway's default set.
	RetryOn []string `json:",omitempty"`
	// BaseInterval and MaxInterval of the back-off; 0 for Envoy's default.
	BaseInterval time.Duration `json:",omitempty"`
	MaxInterval  time.Duration `json:",omitempty"`
}

// OIDC header match types.
const (
	HeaderMatchExact   = "Exact"
	HeaderMatchPrefix  = "Prefix"
	HeaderMatchSuffix  = "Suffix"
	HeaderMatchRegex   = "RegularExpression"
	HeaderMatchPresent = "Present"
)

func (o *OIDC) validate() error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("oidc %s: "+format, append([]any{o.Name}, a...)...))
	}
	if o.Name == "" {
		add("empty name")
	}
	if o.ClientID == "" {
		add("empty client ID")
	}
	if len(o.ClientSecret) == 0 {
		add("empty client secret")
	}
	if len(o.HMACSecret) == 0 {
		add("empty HMAC secret")
	}
	for _, e := range []struct{ what, v string }{
		{"authorization endpoint", o.Provider.AuthorizationEndpoint},
		{"token endpoint", o.Provider.TokenEndpoint},
	} {
		u, err := url.Parse(e.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s %q is not an absolute http(s) URL", e.what, e.v)
		}
	}
	if d := o.Provider.Destination; d != nil {
		if err := d.validate(); err != nil {
			add("provider: %v", err)
		}
	}
	if o.RedirectURL == "" || o.RedirectPath == "" || o.RedirectPath[0] != '/' {
		add("redirect URL %q / path %q", o.RedirectURL, o.RedirectPath)
	}
	if o.LogoutPath == "" || o.LogoutPath[0] != '/' {
		add("logout path %q must start with /", o.LogoutPath)
	}
	if o.Cookies.Suffix == "" {
		add("empty cookie suffix")
	}
	switch o.Cookies.SameSite {
	case "", "Lax", "Strict", "None":
	default:
		add("cookie SameSite %q", o.Cookies.SameSite)
	}
	for _, m := range append(append([]OIDCHeaderMatch(nil), o.DenyRedirect...), o.PassThrough...) {
		if err := m.validate(); err != nil {
			add("%v", err)
		}
	}
	return errors.Join(errs...)
}

func (m OIDCHeaderMatch) validate() error {
	if m.Name == "" {
		return errors.New("header match without a name")
	}
	switch m.Type {
	case HeaderMatchExact, HeaderMatchPrefix, HeaderMatchSuffix, HeaderMatchPresent:
	case HeaderMatchRegex:
		if _, err := regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("header %s: regex %q: %v", m.Name, m.Value, err)
		}
	default:
		return fmt.Errorf("header %s: unknown match type %q", m.Name, m.Type)
	}
	return nil
}

// validateAuth checks the OIDC and ext-auth settings of a route (nil-safe).
func (s *SecuritySettings) validateAuth() error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.OIDC != nil {
		errs = append(errs, s.OIDC.validate())
	}
	if s.ExtAuth != nil {
		errs = append(errs, s.ExtAuth.validate())
	}
	return errors.Join(errs...)
}

// redactAuthSecrets returns listeners whose OIDC client and HMAC secrets
// and secret ext-auth context extension values read Redacted, copying only
// what changes. Routes share their SecuritySettings (one per policy), so
// each is redacted once.
func redactAuthSecrets(ls []*HTTPListener) []*HTTPListener {
	done := map[*SecuritySettings]*SecuritySettings{}
	redact := func(s *SecuritySettings) *SecuritySettings {
		if s == nil || (s.OIDC == nil && s.ExtAuth == nil) {
			return s
		}
		if r, ok := done[s]; ok {
			return r
		}
		cp := *s
		if s.OIDC != nil {
			o := *s.OIDC
			o.ClientSecret, o.HMACSecret = SecretBytes(Redacted), SecretBytes(Redacted)
			cp.OIDC = &o
		}
		if a := s.ExtAuth; a != nil && len(a.ContextExtensions) > 0 {
			ac := *a
			ac.ContextExtensions = append([]ContextExtension(nil), a.ContextExtensions...)
			for i := range ac.ContextExtensions {
				if ac.ContextExtensions[i].Secret {
					ac.ContextExtensions[i].Value = Redacted
				}
			}
			cp.ExtAuth = &ac
		}
		done[s] = &cp
		return &cp
	}
	out := make([]*HTTPListener, len(ls))
	for li, l := range ls {
		out[li] = l
		if l == nil {
			continue
		}
		var nl *HTTPListener
		for vi, vh := range l.VirtualHosts {
			var nvh *VirtualHost
			for ri, r := range vh.Routes {
				if r == nil {
					continue
				}
				s := redact(r.Security)
				if s == r.Security {
					continue
				}
				if nvh == nil {
					c := *vh
					c.Routes = append([]*HTTPRoute(nil), vh.Routes...)
					nvh = &c
				}
				nr := *r
				nr.Security = s
				nvh.Routes[ri] = &nr
			}
			if nvh == nil {
				continue
			}
			if nl == nil {
				c := *l
				c.VirtualHosts = append([]*VirtualHost(nil), l.VirtualHosts...)
				nl = &c
			}
			nl.VirtualHosts[vi] = nvh
		}
		if nl != nil {
			out[li] = nl
		}
	}
	return out
}
