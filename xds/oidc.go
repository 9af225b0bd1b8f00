package xds

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// SecurityPolicy oidc: Envoy's OAuth2 filter, once per HCM with an empty
// configuration (it does nothing by itself), and each route's settings in
// its typed_per_filter_config, as Envoy Gateway lays it out. The token
// endpoint gets a cluster, the client and HMAC secrets are SDS generic
// secrets named "oauth2/client_secret/<policy>" and
// "oauth2/hmac_secret/<policy>".

const oauth2FilterName = "envoy.filters.http.oauth2"

// serviceRequestTimeout is Envoy Gateway's timeout for requests to a
// token endpoint or an ext-auth service.
const serviceRequestTimeout = 10 * time.Second

// cookiePathRE is what Envoy's OAuth2 CookieConfig.path accepts.
var cookiePathRE = regexp.MustCompile(`^$|^/[^\x00-\x1f\x7f ",;<>\\]*$`)

// authCache holds what the OIDC and ext-auth features build once per proxy
// and share between routes.
type authCache struct {
	oauth2    map[*ir.OIDC]*anypb.Any
	extAuthz  map[*ir.ExtAuth]*hcmv3.HttpFilter
	extPerRt  map[*ir.ExtAuth]*anypb.Any
	oauth2HCM *anypb.Any
}

func (b *builder) authState() *authCache {
	if b.auth == nil {
		b.auth = &authCache{
			oauth2:   map[*ir.OIDC]*anypb.Any{},
			extAuthz: map[*ir.ExtAuth]*hcmv3.HttpFilter{},
			extPerRt: map[*ir.ExtAuth]*anypb.Any{},
		}
	}
	return b.auth
}

func routeOIDC(r *ir.HTTPRoute) *ir.OIDC {
	if r == nil || r.Security == nil {
		return nil
	}
	return r.Security.OIDC
}

func init() {
	register(&feature{
		name: oauth2FilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return routeOIDC(r) != nil }) {
				return nil, nil
			}
			st := b.authState()
			if st.oauth2HCM == nil {
				a, err := toAny(&oauth2v3.OAuth2{})
				if err != nil {
					return nil, err
				}
				st.oauth2HCM = a
			}
			return []*hcmv3.HttpFilter{{Name: oauth2FilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: st.oauth2HCM}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			o := routeOIDC(r)
			if o == nil {
				return nil
			}
			a, err := b.oauth2PerRoute(o)
			if err != nil {
				return fmt.Errorf("OIDC %s: %w", o.Name, err)
			}
			if out.TypedPerFilterConfig == nil {
				out.TypedPerFilterConfig = map[string]*anypb.Any{}
			}
			out.TypedPerFilterConfig[oauth2FilterName] = a
			return nil
		},
		resources: func(b *builder, p *ir.Proxy) error {
			seen := map[*ir.OIDC]bool{}
			for _, l := range p.HTTP {
				for _, vh := range l.VirtualHosts {
					for _, r := range vh.Routes {
						o := routeOIDC(r)
						if o == nil || seen[o] {
							continue
						}
						seen[o] = true
						if err := b.oidcResources(o); err != nil {
							return fmt.Errorf("OIDC %s: %w", o.Name, err)
						}
					}
				}
			}
			return nil
		},
		staticRoutes: staticOAuth2Secrets,
	})
}

func oauth2ClientSecretName(o *ir.OIDC) string { return "oauth2/client_secret/" + o.Name }
func oauth2HMACSecretName(o *ir.OIDC) string   { return "oauth2/hmac_secret/" + o.Name }

// tokenCluster is the token endpoint's cluster: the provider's
// backendRefs, or one built from the endpoint's URL and named as Envoy
// Gateway names it ("oauth_example_com_443").
func tokenCluster(o *ir.OIDC) (*ir.RouteDestination, error) {
	if d := o.Provider.Destination; d != nil {
		return d, nil
	}
	u, err := url.Parse(o.Provider.TokenEndpoint)
	if err != nil {
		return nil, err
	}
	port := uint64(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.ParseUint(p, 10, 16); err != nil {
			return nil, fmt.Errorf("token endpoint %q: port: %w", o.Provider.TokenEndpoint, err)
		}
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return nil, fmt.Errorf("token endpoint %q: the host must be a DNS name", o.Provider.TokenEndpoint)
	}
	name := strings.ReplaceAll(host, ".", "_") + "_" + strconv.FormatUint(port, 10)
	be := &ir.Backend{
		Name: name + "/backend/-1", Weight: 1, AddressType: ir.AddressFQDN, Protocol: ir.ProtocolHTTP1,
		Endpoints: []ir.Endpoint{{Host: host, Port: uint32(port)}},
	}
	if u.Scheme == "https" {
		be.TLS = &ir.BackendTLS{SNI: host, UseSystemCA: true, FromURL: true}
	}
	return &ir.RouteDestination{Name: name, Backends: []*ir.Backend{be}, Cluster: o.Provider.Cluster}, nil
}

// oidcResources adds the token endpoint's cluster and the two secrets.
func (b *builder) oidcResources(o *ir.OIDC) error {
	d, err := tokenCluster(o)
	if err != nil {
		return err
	}
	// A JWKS cluster built from the same host and port has the same name
	// and the same settings (Envoy Gateway dedups them the same way).
	if err := b.addServiceCluster(d); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		v    []byte
	}{{oauth2ClientSecretName(o), o.ClientSecret}, {oauth2HMACSecretName(o), o.HMACSecret}} {
		if err := b.addGenericSecret(s.name, s.v); err != nil {
			return err
		}
	}
	return nil
}

// addGenericSecret adds an SDS generic secret once; two different values
// under one name are an error.
func (b *builder) addGenericSecret(name string, v []byte) error {
	if len(v) == 0 {
		return fmt.Errorf("secret %q is empty", name)
	}
	if old, ok := b.secrets[name]; ok {
		if !bytes.Equal(old.GetGenericSecret().GetSecret().GetInlineBytes(), v) {
			return fmt.Errorf("secret %q: two different values share this name", name)
		}
		return nil
	}
	b.secrets[name] = &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
			Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: append([]byte(nil), v...)}},
		}},
	}
	return nil
}

// oauth2PerRoute builds (once per OIDC value) the route's OAuth2 settings.
func (b *builder) oauth2PerRoute(o *ir.OIDC) (*anypb.Any, error) {
	st := b.authState()
	if a, ok := st.oauth2[o]; ok {
		return a, nil
	}
	d, err := tokenCluster(o)
	if err != nil {
		return nil, err
	}
	timeout := o.Provider.Timeout
	if timeout == 0 {
		timeout = serviceRequestTimeout
	}
	sds := adsConfigSource()
	names := &oauth2v3.OAuth2Credentials_CookieNames{
		BearerToken:  "AccessToken-" + o.Cookies.Suffix,
		OauthHmac:    "OauthHMAC-" + o.Cookies.Suffix,
		OauthExpires: "OauthExpires-" + o.Cookies.Suffix,
		IdToken:      "IdToken-" + o.Cookies.Suffix,
		RefreshToken: "RefreshToken-" + o.Cookies.Suffix,
		OauthNonce:   "OauthNonce-" + o.Cookies.Suffix,
		CodeVerifier: "CodeVerifier-" + o.Cookies.Suffix,
	}
	if o.Cookies.AccessToken != "" {
		names.BearerToken = o.Cookies.AccessToken
	}
	if o.Cookies.IDToken != "" {
		names.IdToken = o.Cookies.IDToken
	}
	cfg := &oauth2v3.OAuth2Config{
		StatPrefix: o.Name,
		TokenEndpoint: &corev3.HttpUri{
			Uri:              o.Provider.TokenEndpoint,
			HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: d.Name},
			Timeout:          durationpb.New(timeout),
		},
		AuthorizationEndpoint: o.Provider.AuthorizationEndpoint,
		EndSessionEndpoint:    o.Provider.EndSessionEndpoint,
		RedirectUri:           o.RedirectURL,
		RedirectPathMatcher:   &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: exactMatcher(o.RedirectPath)}},
		SignoutPath:           &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: exactMatcher(o.LogoutPath)}},
		CookieConfigs:         oauth2CookieConfigs(o),
		UseRefreshToken:       wrapperspb.Bool(o.RefreshToken),
		ForwardBearerToken:    o.ForwardAccessToken,
		Credentials: &oauth2v3.OAuth2Credentials{
			ClientId:       o.ClientID,
			TokenSecret:    &tlsv3.SdsSecretConfig{Name: oauth2ClientSecretName(o), SdsConfig: sds},
			TokenFormation: &oauth2v3.OAuth2Credentials_HmacSecret{HmacSecret: &tlsv3.SdsSecretConfig{Name: oauth2HMACSecretName(o), SdsConfig: sds}},
			CookieNames:    names,
			CookieDomain:   o.Cookies.Domain,
		},
		// Every OpenID provider takes client_secret_basic.
		AuthType:   oauth2v3.OAuth2Config_BASIC_AUTH,
		AuthScopes: o.Scopes,
		Resources:  o.Resources,
		// The filter drops the Authorization header unless told to keep
		// it, which surprises users; it is replaced only when a token is
		// forwarded in it.
		PreserveAuthorizationHeader: !o.ForwardAccessToken,
		DisableTokenEncryption:      o.DisableTokenEncryption,
	}
	if o.DefaultTokenTTL > 0 {
		cfg.DefaultExpiresIn = durationpb.New(o.DefaultTokenTTL)
	}
	if o.DefaultRefreshTokenTTL > 0 {
		cfg.DefaultRefreshTokenExpiresIn = durationpb.New(o.DefaultRefreshTokenTTL)
	}
	if o.CSRFTokenTTL > 0 {
		cfg.CsrfTokenExpiresIn = durationpb.New(o.CSRFTokenTTL)
	}
	if o.ForwardIDTokenHeader != "" {
		cfg.ForwardIdToken = &oauth2v3.OAuth2TokenForwarding{Header: o.ForwardIDTokenHeader}
		if strings.EqualFold(o.ForwardIDTokenHeader, "Authorization") {
			cfg.PreserveAuthorizationHeader = false
		}
	}
	if cfg.RetryPolicy, err = serviceRetryPolicy(o.Provider.Retry); err != nil {
		return nil, err
	}
	for _, m := range o.PassThrough {
		hm, err := headerMatcher(m)
		if err != nil {
			return nil, err
		}
		cfg.PassThroughMatcher = append(cfg.PassThroughMatcher, hm)
	}
	for _, m := range o.DenyRedirect {
		hm, err := headerMatcher(m)
		if err != nil {
			return nil, err
		}
		cfg.DenyRedirectMatcher = append(cfg.DenyRedirectMatcher, hm)
	}
	a, err := toAny(&oauth2v3.OAuth2PerRoute{Config: cfg})
	if err != nil {
		return nil, err
	}
	st.oauth2[o] = a
	return a, nil
}

// oauth2CookieConfigs sets the cookies' attributes. The nonce and PKCE
// verifier cookies only matter on the way back from the provider, so they
// are scoped to the redirect path (as Envoy Gateway does) and are not sent
// with every request while a login is pending.
func oauth2CookieConfigs(o *ir.OIDC) *oauth2v3.CookieConfigs {
	path := o.RedirectPath
	if !cookiePathRE.MatchString(path) {
		path = ""
	}
	cc := &oauth2v3.CookieConfigs{
		OauthNonceCookieConfig:   &oauth2v3.CookieConfig{Path: path},
		CodeVerifierCookieConfig: &oauth2v3.CookieConfig{Path: path},
	}
	if o.Cookies.SameSite == "" {
		return cc
	}
	ss := map[string]oauth2v3.CookieConfig_SameSite{
		"Lax": oauth2v3.CookieConfig_LAX, "Strict": oauth2v3.CookieConfig_STRICT, "None": oauth2v3.CookieConfig_NONE,
	}[o.Cookies.SameSite]
	cc.BearerTokenCookieConfig = &oauth2v3.CookieConfig{SameSite: ss}
	cc.OauthHmacCookieConfig = &oauth2v3.CookieConfig{SameSite: ss}
	cc.OauthExpiresCookieConfig = &oauth2v3.CookieConfig{SameSite: ss}
	cc.IdTokenCookieConfig = &oauth2v3.CookieConfig{SameSite: ss}
	cc.RefreshTokenCookieConfig = &oauth2v3.CookieConfig{SameSite: ss}
	cc.OauthNonceCookieConfig.SameSite = ss
	cc.CodeVerifierCookieConfig.SameSite = ss
	return cc
}

func headerMatcher(m ir.OIDCHeaderMatch) (*routev3.HeaderMatcher, error) {
	hm := &routev3.HeaderMatcher{Name: m.Name}
	var sm *matcherv3.StringMatcher
	switch m.Type {
	case ir.HeaderMatchExact:
		sm = exactMatcher(m.Value)
	case ir.HeaderMatchPrefix:
		sm = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: m.Value}}
	case ir.HeaderMatchSuffix:
		sm = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: m.Value}}
	case ir.HeaderMatchRegex:
		sm = regexMatcher(m.Value)
	case ir.HeaderMatchPresent:
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
		return hm, nil
	default:
		return nil, fmt.Errorf("header %s: unknown match type %q", m.Name, m.Type)
	}
	hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: sm}
	return hm, nil
}

// serviceRetryPolicy is the retry policy of an external service's client.
func serviceRetryPolicy(r *ir.ServiceRetry) (*corev3.RetryPolicy, error) {
	if r == nil {
		return nil, nil
	}
	rp := &corev3.RetryPolicy{RetryOn: strings.Join(r.RetryOn, ",")}
	if r.NumRetries > 0 {
		rp.NumRetries = wrapperspb.UInt32(r.NumRetries)
	}
	if r.BaseInterval > 0 {
		rp.RetryBackOff = &corev3.BackoffStrategy{BaseInterval: durationpb.New(r.BaseInterval)}
		if r.MaxInterval > 0 {
			rp.RetryBackOff.MaxInterval = durationpb.New(r.MaxInterval)
		}
	}
	return rp, nil
}

// staticOAuth2Secrets makes the OAuth2 settings of a route configuration
// name their secrets statically, for a bootstrap that holds them in
// static_resources. Routes of one policy carry the same settings, which
// are converted once.
func staticOAuth2Secrets(rc *routev3.RouteConfiguration) error {
	done := map[string]*anypb.Any{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			a := r.GetTypedPerFilterConfig()[oauth2FilterName]
			if a == nil {
				continue
			}
			if na, ok := done[string(a.GetValue())]; ok {
				r.TypedPerFilterConfig[oauth2FilterName] = na
				continue
			}
			pr := &oauth2v3.OAuth2PerRoute{}
			if err := a.UnmarshalTo(pr); err != nil {
				return fmt.Errorf("route %q: %w", r.GetName(), err)
			}
			c := pr.GetConfig().GetCredentials()
			if ts := c.GetTokenSecret(); ts != nil {
				ts.SdsConfig = nil
			}
			if hs := c.GetHmacSecret(); hs != nil {
				hs.SdsConfig = nil
			}
			na, err := toAny(pr)
			if err != nil {
				return fmt.Errorf("route %q: %w", r.GetName(), err)
			}
			done[string(a.GetValue())] = na
			r.TypedPerFilterConfig[oauth2FilterName] = na
		}
	}
	return nil
}
