package translate

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// Envoy Gateway's defaults and names for OIDC.
const (
	oidcDefaultRedirectURL  = "%REQ(x-forwarded-proto)%://%REQ(:authority)%/oauth2/callback"
	oidcDefaultRedirectPath = "/oauth2/callback"
	oidcDefaultLogoutPath   = "/logout"

	// The OAuth2 filter signs its cookies with an HMAC keyed by this
	// Secret, which Envoy Gateway's certgen creates in the controller's
	// namespace (and `egctl x certgen` writes: certgen.OIDCHMACSecretName).
	// egctl reads it from the input like Envoy Gateway reads it from the
	// cluster: the output stays the same from run to run, and sessions
	// survive a redeploy.
	OIDCHMACSecretNamespace = "envoy-gateway-system"
	OIDCHMACSecretName      = "envoy-oidc-hmac"
	OIDCHMACSecretKey       = "hmac-secret"
)

// spOIDC translates a SecurityPolicy's spec.oidc (spec is the effective
// spec: merged onto e.parent's where mergeType asks). Names and Secret
// references follow the policy that owns spec.oidc (spFieldOwner). The
// result is cached per (policy, parent) and shared by every route.
func (b *builder) spOIDC(e effective, spec *egv1a1.SecurityPolicySpec) (*ir.OIDC, error) {
	if spec.OIDC == nil {
		return nil, nil
	}
	st := b.spAuth()
	k := [2]*policy{e.policy, e.parent}
	if r, ok := st.oidc[k]; ok {
		return r.v, r.err
	}
	v, err := b.buildOIDC(e, spec)
	st.oidc[k] = spOIDCResult{v, err}
	return v, err
}

func (b *builder) buildOIDC(e effective, spec *egv1a1.SecurityPolicySpec) (*ir.OIDC, error) {
	o := spec.OIDC
	owner := spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool { return s.OIDC != nil })
	out := &ir.OIDC{
		Name:         spConfigName(owner),
		RedirectURL:  oidcDefaultRedirectURL,
		RedirectPath: oidcDefaultRedirectPath,
		LogoutPath:   oidcDefaultLogoutPath,
		RefreshToken: true,
		Resources:    o.Resources,
	}
	prov, err := b.oidcProvider(e, o)
	if err != nil {
		return nil, err
	}
	out.Provider = *prov

	// Client ID, inline or from a Secret; the client secret.
	switch {
	case o.ClientID != nil && o.ClientIDRef != nil:
		return nil, fmt.Errorf("spec.oidc: set only one of clientID and clientIDRef")
	case o.ClientID != nil:
		if *o.ClientID == "" {
			return nil, fmt.Errorf("spec.oidc.clientID is empty")
		}
		out.ClientID = *o.ClientID
	case o.ClientIDRef != nil:
		idOwner := spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool { return s.OIDC != nil && s.OIDC.ClientIDRef != nil })
		s, err := b.spSecret(idOwner, *o.ClientIDRef, "spec.oidc.clientIDRef")
		if err != nil {
			return nil, err
		}
		v := secretValue(s, egv1a1.OIDCClientIDKey)
		if len(v) == 0 {
			return nil, fmt.Errorf("spec.oidc.clientIDRef: Secret %s/%s has no %q key", s.Namespace, s.Name, egv1a1.OIDCClientIDKey)
		}
		out.ClientID = string(v)
	default:
		return nil, fmt.Errorf("spec.oidc: set clientID or clientIDRef")
	}
	cs, err := b.spSecret(owner, o.ClientSecret, "spec.oidc.clientSecret")
	if err != nil {
		return nil, err
	}
	if v := secretValue(cs, egv1a1.OIDCClientSecretKey); len(v) > 0 {
		out.ClientSecret = append(ir.SecretBytes(nil), v...)
	} else {
		return nil, fmt.Errorf("spec.oidc.clientSecret: Secret %s/%s has no %q key", cs.Namespace, cs.Name, egv1a1.OIDCClientSecretKey)
	}
	hmac := b.secrets[nsName{OIDCHMACSecretNamespace, OIDCHMACSecretName}]
	if hmac == nil || len(secretValue(hmac, OIDCHMACSecretKey)) == 0 {
		return nil, fmt.Errorf("spec.oidc: the OAuth2 filter signs its cookies with the key in Secret %s/%s (key %q), which is not in the input: "+
			"add the one Envoy Gateway's certgen made, or make one with `egctl x certgen --kubernetes`",
			OIDCHMACSecretNamespace, OIDCHMACSecretName, OIDCHMACSecretKey)
	}
	out.HMACSecret = append(ir.SecretBytes(nil), secretValue(hmac, OIDCHMACSecretKey)...)

	// openid is always asked for (Envoy Gateway appends it).
	out.Scopes = append([]string(nil), o.Scopes...)
	if !slices.Contains(out.Scopes, "openid") {
		out.Scopes = append(out.Scopes, "openid")
	}
	if o.RedirectURL != nil {
		p, err := oidcRedirectPath(*o.RedirectURL)
		if err != nil {
			return nil, fmt.Errorf("spec.oidc.redirectURL: %v", err)
		}
		out.RedirectURL, out.RedirectPath = *o.RedirectURL, p
	}
	if o.LogoutPath != nil {
		if !strings.HasPrefix(*o.LogoutPath, "/") {
			return nil, fmt.Errorf("spec.oidc.logoutPath %q must start with /", *o.LogoutPath)
		}
		out.LogoutPath = *o.LogoutPath
	}
	if out.LogoutPath == out.RedirectPath {
		return nil, fmt.Errorf("spec.oidc: logoutPath and the redirectURL's path are both %q", out.LogoutPath)
	}
	if o.ForwardAccessToken != nil {
		out.ForwardAccessToken = *o.ForwardAccessToken
	}
	if o.ForwardIDToken != nil {
		h := o.ForwardIDToken.Header
		if !headerTokenRE.MatchString(h) || strings.EqualFold(h, "host") {
			return nil, fmt.Errorf("spec.oidc.forwardIDToken.header %q is not a header name Envoy can set", h)
		}
		if out.ForwardAccessToken && strings.EqualFold(h, "authorization") {
			return nil, fmt.Errorf("spec.oidc: forwardAccessToken cannot be true when forwardIDToken.header is Authorization")
		}
		out.ForwardIDTokenHeader = h
	}
	if o.RefreshToken != nil {
		out.RefreshToken = *o.RefreshToken
	}
	if o.DefaultTokenTTL != nil {
		if out.DefaultTokenTTL, err = parseDuration(*o.DefaultTokenTTL); err != nil {
			return nil, fmt.Errorf("spec.oidc.defaultTokenTTL: %v", err)
		}
	}
	if o.DefaultRefreshTokenTTL != nil {
		if out.DefaultRefreshTokenTTL, err = parseDuration(*o.DefaultRefreshTokenTTL); err != nil {
			return nil, fmt.Errorf("spec.oidc.defaultRefreshTokenTTL: %v", err)
		}
	}
	if o.CSRFTokenTTL != nil {
		if out.CSRFTokenTTL, err = parseDuration(*o.CSRFTokenTTL); err != nil {
			return nil, fmt.Errorf("spec.oidc.csrfTokenTTL: %v", err)
		}
	}
	if o.DisableTokenEncryption != nil {
		out.DisableTokenEncryption = *o.DisableTokenEncryption
	}
	if out.Cookies, err = oidcCookies(owner, o); err != nil {
		return nil, err
	}
	if o.DenyRedirect != nil {
		if len(o.DenyRedirect.Headers) == 0 {
			return nil, fmt.Errorf("spec.oidc.denyRedirect.headers is empty")
		}
		for i, h := range o.DenyRedirect.Headers {
			m, err := oidcHeaderMatch(h, fmt.Sprintf("spec.oidc.denyRedirect.headers[%d]", i))
			if err != nil {
				return nil, err
			}
			out.DenyRedirect = append(out.DenyRedirect, m)
		}
	}
	if o.PassThroughAuthHeader != nil && *o.PassThroughAuthHeader {
		if out.PassThrough, err = oidcPassThrough(spec, out.ForwardIDTokenHeader); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// oidcProvider resolves spec.oidc.provider: the endpoints (discovered from
// the issuer when left out) and, with backendRefs, the token endpoint's
// cluster.
func (b *builder) oidcProvider(e effective, o *egv1a1.OIDC) (*ir.OIDCProvider, error) {
	p := &o.Provider
	if p.BackendRef != nil {
		return nil, fmt.Errorf("spec.oidc.provider.backendRef is not supported: use backendRefs")
	}
	if _, err := validateOIDCIssuer(p.Issuer); err != nil {
		return nil, fmt.Errorf("spec.oidc.provider.issuer: %v", err)
	}
	out := &ir.OIDCProvider{}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	out.AuthorizationEndpoint, out.TokenEndpoint, out.EndSessionEndpoint = deref(p.AuthorizationEndpoint), deref(p.TokenEndpoint), deref(p.EndSessionEndpoint)
	if out.AuthorizationEndpoint == "" || out.TokenEndpoint == "" {
		// Envoy Gateway fetches <issuer>/.well-known/openid-configuration;
		// endpoints written in the policy win over discovered ones.
		if b.opts.OIDCDiscovery == nil {
			return nil, fmt.Errorf("spec.oidc.provider: authorizationEndpoint and tokenEndpoint are not both given for issuer %s, and %v", p.Issuer, errNoOIDCDiscovery)
		}
		cfg, err := b.opts.OIDCDiscovery(p.Issuer)
		if err != nil {
			return nil, fmt.Errorf("spec.oidc.provider: discovering the endpoints of issuer %s: %v", p.Issuer, err)
		}
		if !SameOIDCIssuer(cfg.Issuer, p.Issuer) {
			return nil, fmt.Errorf("spec.oidc.provider: the configuration found for issuer %s names issuer %s", p.Issuer, cfg.Issuer)
		}
		if out.AuthorizationEndpoint == "" {
			out.AuthorizationEndpoint = cfg.AuthorizationEndpoint
		}
		if out.TokenEndpoint == "" {
			out.TokenEndpoint = cfg.TokenEndpoint
		}
		if out.EndSessionEndpoint == "" {
			out.EndSessionEndpoint = cfg.EndSessionEndpoint
		}
	}
	tok, err := oidcTokenEndpoint(out.TokenEndpoint)
	if err != nil {
		return nil, fmt.Errorf("spec.oidc.provider.tokenEndpoint: %v", err)
	}
	for _, ep := range []struct{ field, v string }{
		{"authorizationEndpoint", out.AuthorizationEndpoint}, {"endSessionEndpoint", out.EndSessionEndpoint},
	} {
		if ep.v == "" && ep.field == "endSessionEndpoint" {
			continue
		}
		if u, err := url.Parse(ep.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("spec.oidc.provider.%s %q is not an absolute http(s) URL", ep.field, ep.v)
		}
	}
	if len(p.BackendRefs) > 0 {
		brOwner := spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool {
			return s.OIDC != nil && len(s.OIDC.Provider.BackendRefs) > 0
		})
		d, _, err := b.spServiceDestination(brOwner, "oidc", &p.BackendCluster, "spec.oidc.provider", false)
		if err != nil {
			return nil, err
		}
		if tok.Scheme == "https" {
			// The token request carries the client secret: a backend that no
			// BackendTLSPolicy covers gets what a token endpoint without
			// backendRefs gets, TLS checked against the system's CAs for the
			// endpoint's host (Envoy Gateway would send it in plain text).
			for _, be := range d.Backends {
				if be.TLS == nil {
					be.TLS = &ir.BackendTLS{SNI: tok.Hostname(), UseSystemCA: true}
				}
			}
		}
		out.Destination = d
	}
	ss, err := extServiceSettings(p.BackendSettings, "spec.oidc.provider", "")
	if err != nil {
		return nil, err
	}
	// The cluster settings go on the backendRefs' cluster, or on the one
	// xds builds from the token endpoint's URL.
	if out.Destination != nil {
		if err := withClusterSettings(out.Destination, ss.cluster, "spec.oidc.provider"); err != nil {
			return nil, err
		}
	} else {
		// That cluster speaks HTTP/1.1.
		probe := &ir.RouteDestination{Name: "the token endpoint's cluster", Backends: []*ir.Backend{{Protocol: ir.ProtocolHTTP1}}}
		if err := withClusterSettings(probe, ss.cluster, "spec.oidc.provider"); err != nil {
			return nil, err
		}
		out.Cluster = ss.cluster
	}
	out.Retry, out.Timeout = ss.retry, ss.timeout
	return out, nil
}

// oidcTokenEndpoint checks the token endpoint as Envoy Gateway does: its
// host is a DNS name (it names the cluster), its port a number.
func oidcTokenEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, fmt.Errorf("%q: the host must be a domain name, not an IP address", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q: port %q is not a port number", raw, p)
		}
	}
	return u, nil
}

// oidcRedirectPath is the path of a redirect URL, by Envoy Gateway's
// rules: scheme http, https or the %REQ(x-forwarded-proto)% formatter, a
// host, and a path other than "/".
func oidcRedirectPath(raw string) (string, error) {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	switch raw[:i] {
	case "http", "https", "%REQ(x-forwarded-proto)%":
	default:
		return "", fmt.Errorf("%q: the scheme must be http, https or %%REQ(x-forwarded-proto)%%", raw)
	}
	rest := raw[i+3:]
	j := strings.Index(rest, "/")
	if j <= 0 {
		return "", fmt.Errorf("%q has no host or no path", raw)
	}
	path := rest[j:]
	if q := strings.IndexAny(path, "?#"); q >= 0 {
		return "", fmt.Errorf("%q: a redirect URL has no query or fragment", raw)
	}
	if path == "/" {
		return "", fmt.Errorf("%q: the path must not be /", raw)
	}
	return path, nil
}

// headerTokenRE is RFC 9110's token, what a header name may be.
var headerTokenRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")

// cookieDomainRE is the CRD's pattern for cookieDomain.
var cookieDomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// oidcCookies names the filter's cookies. Envoy Gateway suffixes them with
// a hash of the owning policy's UID so that two policies on one host keep
// separate sessions; manifests that never went through an API server have
// no UID, so egctl hashes "namespace/name" then (stable from run to run).
func oidcCookies(owner *policy, o *egv1a1.OIDC) (ir.OIDCCookies, error) {
	id := string(owner.meta.UID)
	if id == "" {
		id = owner.key.Namespace + "/" + owner.key.Name
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	c := ir.OIDCCookies{Suffix: fmt.Sprintf("%x", h.Sum32())}
	if n := o.CookieNames; n != nil {
		for _, f := range []struct {
			field string
			in    *string
			out   *string
		}{{"accessToken", n.AccessToken, &c.AccessToken}, {"idToken", n.IDToken, &c.IDToken}} {
			if f.in == nil {
				continue
			}
			if !headerTokenRE.MatchString(*f.in) {
				return c, fmt.Errorf("spec.oidc.cookieNames.%s %q is not a valid cookie name", f.field, *f.in)
			}
			*f.out = *f.in
		}
		if c.AccessToken != "" && c.AccessToken == c.IDToken {
			return c, fmt.Errorf("spec.oidc.cookieNames: accessToken and idToken are both %q", c.AccessToken)
		}
	}
	if o.CookieDomain != nil {
		if !cookieDomainRE.MatchString(*o.CookieDomain) {
			return c, fmt.Errorf("spec.oidc.cookieDomain %q is not a lower-case domain name", *o.CookieDomain)
		}
		c.Domain = *o.CookieDomain
	}
	if o.CookieConfig != nil && o.CookieConfig.SameSite != nil {
		switch s := *o.CookieConfig.SameSite; egv1a1.SameSite(s) {
		case egv1a1.SameSiteLax, egv1a1.SameSiteStrict, egv1a1.SameSiteNone:
			c.SameSite = s
		default:
			return c, fmt.Errorf("spec.oidc.cookieConfig.sameSite %q: want Lax, Strict or None", s)
		}
	}
	return c, nil
}

func oidcHeaderMatch(h egv1a1.OIDCDenyRedirectHeader, field string) (ir.OIDCHeaderMatch, error) {
	m := ir.OIDCHeaderMatch{Name: h.Name, Type: ir.HeaderMatchExact, Value: h.Value}
	// Envoy matches pseudo-headers too (":path", ":authority").
	if !headerTokenRE.MatchString(strings.TrimPrefix(h.Name, ":")) {
		return m, fmt.Errorf("%s.name %q is not a header name", field, h.Name)
	}
	if h.Type != nil {
		switch *h.Type {
		case egv1a1.StringMatchExact:
		case egv1a1.StringMatchPrefix:
			m.Type = ir.HeaderMatchPrefix
		case egv1a1.StringMatchSuffix:
			m.Type = ir.HeaderMatchSuffix
		case egv1a1.StringMatchRegularExpression:
			m.Type = ir.HeaderMatchRegex
			if err := checkEnvoyRegex(h.Value); err != nil {
				return m, fmt.Errorf("%s.value %q: %v", field, h.Value, err)
			}
		default:
			return m, fmt.Errorf("%s.type %q: want Exact, Prefix, Suffix or RegularExpression", field, *h.Type)
		}
	}
	if h.Value == "" {
		return m, fmt.Errorf("%s.value is empty", field)
	}
	return m, nil
}

// oidcPassThrough lets requests that carry what a JWT provider of the same
// policy reads past OIDC (passThroughAuthHeader), by Envoy Gateway's
// rules: a provider without extractFrom reads "Authorization: Bearer …";
// one with extractFrom.headers reads those; cookies and query parameters
// cannot be told apart from a browser's session and do not pass.
func oidcPassThrough(spec *egv1a1.SecurityPolicySpec, forwardIDHeader string) ([]ir.OIDCHeaderMatch, error) {
	if spec.JWT == nil {
		return nil, fmt.Errorf("spec.oidc.passThroughAuthHeader needs spec.jwt: the JWT filter checks the token that lets a request past OIDC")
	}
	var out []ir.OIDCHeaderMatch
	for _, p := range spec.JWT.Providers {
		if p.ExtractFrom == nil {
			out = append(out, ir.OIDCHeaderMatch{Name: "Authorization", Type: ir.HeaderMatchPrefix, Value: "Bearer "})
			continue
		}
		for _, h := range p.ExtractFrom.Headers {
			if h.ValuePrefix == nil || *h.ValuePrefix == "" {
				out = append(out, ir.OIDCHeaderMatch{Name: h.Name, Type: ir.HeaderMatchPresent})
			} else {
				out = append(out, ir.OIDCHeaderMatch{Name: h.Name, Type: ir.HeaderMatchPrefix, Value: *h.ValuePrefix})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("spec.oidc.passThroughAuthHeader needs a JWT provider that reads a header (no extractFrom, or extractFrom.headers)")
	}
	if forwardIDHeader != "" {
		for _, m := range out {
			if strings.EqualFold(m.Name, forwardIDHeader) {
				// Envoy refuses an OAuth2 configuration whose pass-through
				// matcher reads the header it forwards the ID token in.
				return nil, fmt.Errorf("spec.oidc.forwardIDToken.header %q is also a header a JWT provider reads, which passThroughAuthHeader lets past OIDC", forwardIDHeader)
			}
		}
	}
	return out, nil
}
