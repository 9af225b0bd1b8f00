package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/egctl/egctl/ir"
)

const jwtFilterName = "envoy.filters.http.jwt_authn"

// The JWT filter, as Envoy Gateway builds it: one jwt_authn filter per HCM
// holding every provider and requirement of the routes it serves, each
// named after the policy's provider and a hash of its configuration (so
// equal providers are shared and differing ones never collide); a route
// names its requirement in its per-route configuration. Verified claims
// go to dynamic metadata under the provider's name, scopes normalised to
// lists, for the authorization rules (authorization.go).
func init() {
	register(&feature{
		name:        jwtFilterName,
		httpFilters: jwtHTTPFilters,
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Security == nil || r.Security.JWT == nil {
				return nil
			}
			j, err := jwtBuilt(b, r.Security.JWT)
			if err != nil {
				return err
			}
			setPerFilter(out, jwtFilterName, j.perRoute)
			return nil
		},
		resources: func(b *builder, p *ir.Proxy) error {
			return forEachJWKS(p, func(r *ir.RemoteJWKS) error {
				d := r.Destination
				if err := b.addServiceCluster(d); err != nil {
					return fmt.Errorf("key-set cluster for %s: %w", r.URI, err)
				}
				return nil
			})
		},
	})
}

// jwtConfig is one ir.JWT in Envoy's words, built once per proxy.
type jwtConfig struct {
	providers   map[string]*jwtv3.JwtProvider
	requirement *jwtv3.JwtRequirement
	reqName     string
	perRoute    *anypb.Any
}

type jwtState struct {
	built map[*ir.JWT]*jwtConfig
}

func jwtBuilt(b *builder, j *ir.JWT) (*jwtConfig, error) {
	st := featureState(b, jwtFilterName, func() *jwtState { return &jwtState{built: map[*ir.JWT]*jwtConfig{}} })
	if c, ok := st.built[j]; ok {
		return c, nil
	}
	c := &jwtConfig{providers: map[string]*jwtv3.JwtProvider{}}
	reqs := make([]*jwtv3.JwtRequirement, 0, len(j.Providers)+1)
	names := make([]string, 0, len(j.Providers)+1)
	for i := range j.Providers {
		p := &j.Providers[i]
		jp, err := jwtProvider(p)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.Name, err)
		}
		key, err := hashedName(p.Name, jp)
		if err != nil {
			return nil, err
		}
		c.providers[key] = jp
		reqs = append(reqs, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: key}})
		names = append(names, p.Name)
	}
	switch {
	case j.AllowMissingOrFailed:
		reqs = append(reqs, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissingOrFailed{AllowMissingOrFailed: &emptypb.Empty{}}})
		names = append(names, "missing-or-failed")
	case j.AllowMissing:
		reqs = append(reqs, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}})
		names = append(names, "missing")
	}
	if len(reqs) == 1 {
		c.requirement = reqs[0]
	} else {
		c.requirement = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{
			RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: reqs},
		}}
	}
	var err error
	if c.reqName, err = hashedName(strings.Join(names, "-or-"), c.requirement); err != nil {
		return nil, err
	}
	if c.perRoute, err = toAny(&jwtv3.PerRouteConfig{
		RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: c.reqName},
	}); err != nil {
		return nil, err
	}
	st.built[j] = c
	return c, nil
}

func jwtProvider(p *ir.JWTProvider) (*jwtv3.JwtProvider, error) {
	jp := &jwtv3.JwtProvider{
		Issuer:            p.Issuer,
		Audiences:         p.Audiences,
		PayloadInMetadata: p.Name,
		Forward:           true,
		// Scopes as lists, so authorization can match one of them.
		NormalizePayloadInMetadata: &jwtv3.JwtProvider_NormalizePayload{SpaceDelimitedClaims: []string{"scope", "scp"}},
		ClearRouteCache:            p.RecomputeRoute,
	}
	for _, c := range p.ClaimToHeaders {
		jp.ClaimToHeaders = append(jp.ClaimToHeaders, &jwtv3.JwtClaimToHeader{HeaderName: c.Header, ClaimName: c.Claim})
	}
	switch {
	case p.LocalJWKS != "":
		jp.JwksSourceSpecifier = &jwtv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: p.LocalJWKS},
		}}
	case p.RemoteJWKS != nil:
		r := p.RemoteJWKS
		if r.Destination == nil || r.Destination.Name == "" {
			return nil, fmt.Errorf("RemoteJWKS %s has no destination", r.URI)
		}
		remote := &jwtv3.RemoteJwks{
			HttpUri: &corev3.HttpUri{
				Uri:              r.URI,
				HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: r.Destination.Name},
				Timeout:          durationpb.New(r.Timeout),
			},
			// Fetched when Envoy starts, not on the first request.
			AsyncFetch: &jwtv3.JwksAsyncFetch{},
		}
		if r.CacheDuration > 0 {
			remote.CacheDuration = durationpb.New(r.CacheDuration)
		}
		if r.FailedRefetchDuration > 0 {
			remote.AsyncFetch.FailedRefetchDuration = durationpb.New(r.FailedRefetchDuration)
		}
		if r.Retry != nil {
			rp, err := serviceRetryPolicy(r.Retry) // oidc.go
			if err != nil {
				return nil, err
			}
			remote.RetryPolicy = rp
		}
		jp.JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: remote}
	default:
		return nil, fmt.Errorf("neither LocalJWKS nor RemoteJWKS")
	}
	if x := p.ExtractFrom; x != nil {
		for _, h := range x.Headers {
			jp.FromHeaders = append(jp.FromHeaders, &jwtv3.JwtHeader{Name: h.Name, ValuePrefix: h.ValuePrefix})
		}
		jp.FromCookies = x.Cookies
		jp.FromParams = x.Params
	}
	return jp, nil
}

// hashedName is Envoy Gateway's name for a provider or requirement:
// prefix, '_', and 16 hex digits of the SHA-256 of the deterministically
// encoded message, the prefix cut so the whole stays within 256 bytes.
func hashedName(prefix string, m proto.Message) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	suffix := "_" + hex.EncodeToString(sum[:8])
	if max := 256 - len(suffix); len(prefix) > max {
		prefix = prefix[:max]
	}
	return prefix + suffix, nil
}

func jwtHTTPFilters(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	seen := map[*ir.JWT]bool{}
	auth := &jwtv3.JwtAuthentication{}
	var err error
	h.routes(func(r *ir.HTTPRoute) bool {
		if r.Security == nil || r.Security.JWT == nil || seen[r.Security.JWT] {
			return true
		}
		seen[r.Security.JWT] = true
		var c *jwtConfig
		if c, err = jwtBuilt(b, r.Security.JWT); err != nil {
			err = fmt.Errorf("route %s: %w", r.Name, err)
			return false
		}
		if auth.Providers == nil {
			auth.Providers = map[string]*jwtv3.JwtProvider{}
			auth.RequirementMap = map[string]*jwtv3.JwtRequirement{}
		}
		for k, p := range c.providers {
			auth.Providers[k] = p
		}
		auth.RequirementMap[c.reqName] = c.requirement
		return true
	})
	if err != nil || auth.Providers == nil {
		return nil, err
	}
	a, err := toAny(auth)
	if err != nil {
		return nil, err
	}
	return []*hcmv3.HttpFilter{{Name: jwtFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
}

// forEachJWKS calls fn once for every remote key set the proxy's routes use.
func forEachJWKS(p *ir.Proxy, fn func(*ir.RemoteJWKS) error) error {
	seen := map[*ir.JWT]bool{}
	var list []*ir.RemoteJWKS
	for _, l := range p.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Security == nil || r.Security.JWT == nil || seen[r.Security.JWT] {
					continue
				}
				seen[r.Security.JWT] = true
				for i := range r.Security.JWT.Providers {
					if rj := r.Security.JWT.Providers[i].RemoteJWKS; rj != nil {
						list = append(list, rj)
					}
				}
			}
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Destination.Name < list[j].Destination.Name })
	for _, r := range list {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
