package xds

import (
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	injectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/credential_injector/v3"
	upstreamcodecv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/upstream_codec/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	genericv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/injected_credentials/generic/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// What Envoy Gateway's HTTPRouteFilter adds beyond the route action
// (rewrite.go spells its rewrites):
//
//   - credential injection: one credential_injector HTTP filter per
//     HTTPRouteFilter, disabled on the HCM and enabled on the routes that
//     use it, its credential an SDS secret (Envoy Gateway's names:
//     envoy.filters.http.credential_injector/httproutefilter/ns/name and
//     credential_injector/credential/httproutefilter/ns/name);
//   - cookie matches on the route;
//   - direct response bodies with command operators, and a route
//     configuration that allows bodies over Envoy's 4 KiB default.

const (
	credentialInjectorFilterName = "envoy.filters.http.credential_injector"
	genericCredentialName        = "envoy.http.injected_credentials.generic"
	// defaultMaxDirectResponseBody is Envoy's limit on direct response
	// bodies unless the route configuration raises it.
	defaultMaxDirectResponseBody = 4096
	upstreamCodecFilterName      = "envoy.filters.http.upstream_codec"
)

func init() {
	register(&feature{
		name:             credentialInjectorFilterName,
		httpFilters:      credentialInjectorFilters,
		patchRoute:       patchHTTPRouteFilterRoute,
		resources:        credentialSecrets,
		finish:           raiseDirectResponseLimit,
		staticHTTPFilter: staticCredentialInjector,
	})
}

func credentialFilterName(c *ir.CredentialInjection) string {
	return credentialInjectorFilterName + "/" + c.Name
}

func credentialSecretName(c *ir.CredentialInjection) string {
	return "credential_injector/credential/" + c.Name
}

// credentials lists the distinct credential injections of routes, by name.
func credentials(each func(fn func(r *ir.HTTPRoute) bool)) ([]*ir.CredentialInjection, error) {
	byName := map[string]*ir.CredentialInjection{}
	var err error
	each(func(r *ir.HTTPRoute) bool {
		c := r.CredentialInjection
		if c == nil {
			return true
		}
		if old, ok := byName[c.Name]; ok {
			if old != c && (old.Header != c.Header || old.Overwrite != c.Overwrite || string(old.Credential) != string(c.Credential)) {
				err = fmt.Errorf("two different credential injections are named %q", c.Name)
				return false
			}
			return true
		}
		byName[c.Name] = c
		return true
	})
	out := make([]*ir.CredentialInjection, 0, len(byName))
	for _, c := range byName {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func credentialInjectorFilters(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	cs, err := credentials(h.routes)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	out := make([]*hcmv3.HttpFilter, 0, len(cs))
	for _, c := range cs {
		f, err := credentialFilter(c)
		if err != nil {
			return nil, err
		}
		// Only the routes of the HTTPRouteFilter turn it on.
		f.Disabled = true
		out = append(out, f)
	}
	return out, nil
}

// credentialFilter is the credential_injector filter of c.
func credentialFilter(c *ir.CredentialInjection) (*hcmv3.HttpFilter, error) {
	g := &genericv3.Generic{
		Credential: &tlsv3.SdsSecretConfig{Name: credentialSecretName(c), SdsConfig: adsConfigSource()},
		Header:     c.Header,
	}
	ga, err := toAny(g)
	if err != nil {
		return nil, err
	}
	ci, err := toAny(&injectorv3.CredentialInjector{
		Overwrite:  c.Overwrite,
		Credential: &corev3.TypedExtensionConfig{Name: genericCredentialName, TypedConfig: ga},
	})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: credentialFilterName(c), ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: ci}}, nil
}

// addCredentialSecret adds c's credential as a generic SDS secret.
func (b *builder) addCredentialSecret(c *ir.CredentialInjection) {
	b.secrets[credentialSecretName(c)] = &tlsv3.Secret{
		Name: credentialSecretName(c),
		Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
			Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: append([]byte(nil), c.Credential...)}},
		}},
	}
}

// applyBackendCredential injects a backend's credential (an
// HTTPRouteFilter on its backendRef) as an upstream HTTP filter of its
// own cluster, before whatever upstream filters the cluster has.
func (b *builder) applyBackendCredential(c *clusterv3.Cluster, backends []*ir.Backend) error {
	var cred *ir.CredentialInjection
	for _, be := range backends {
		if be.CredentialInjection != nil {
			cred = be.CredentialInjection
		}
	}
	if cred == nil {
		return nil
	}
	if len(backends) != 1 {
		return fmt.Errorf("cluster %q: a backend's credential injection needs a cluster of its own", c.GetName())
	}
	f, err := credentialFilter(cred)
	if err != nil {
		return err
	}
	o, err := clusterHTTPOptions(c) // upstream_sni.go
	if err != nil {
		return err
	}
	if len(o.HttpFilters) == 0 {
		codec, err := toAny(&upstreamcodecv3.UpstreamCodec{})
		if err != nil {
			return err
		}
		o.HttpFilters = []*hcmv3.HttpFilter{{Name: upstreamCodecFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: codec}}}
	}
	o.HttpFilters = append([]*hcmv3.HttpFilter{f}, o.HttpFilters...)
	b.addCredentialSecret(cred)
	return setClusterHTTPOptions(c, o, backends[0].Protocol)
}

// credentialSecrets adds each credential as a generic SDS secret.
func credentialSecrets(b *builder, p *ir.Proxy) error {
	cs, err := credentials(func(fn func(r *ir.HTTPRoute) bool) {
		for _, l := range p.HTTP {
			(&hcmBuild{listeners: []*ir.HTTPListener{l}}).routes(fn)
		}
	})
	if err != nil {
		return err
	}
	for _, c := range cs {
		b.addCredentialSecret(c)
	}
	return nil
}

// staticCredentialInjector names the credential's static secret.
func staticCredentialInjector(f *hcmv3.HttpFilter) error {
	if !isFilterType(f, credentialInjectorFilterName) {
		return nil
	}
	ci := &injectorv3.CredentialInjector{}
	if err := f.GetTypedConfig().UnmarshalTo(ci); err != nil {
		return err
	}
	g := &genericv3.Generic{}
	if err := ci.GetCredential().GetTypedConfig().UnmarshalTo(g); err != nil {
		return err
	}
	g.Credential.SdsConfig = nil
	ga, err := toAny(g)
	if err != nil {
		return err
	}
	ci.Credential.TypedConfig = ga
	a, err := toAny(ci)
	if err != nil {
		return err
	}
	f.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}
	return nil
}

// enableFilter is the per-route configuration that turns on a filter the
// HCM holds disabled (an empty FilterConfig, as Envoy Gateway writes it).
var enableFilter = func() *anypb.Any {
	a, err := anypb.New(&routev3.FilterConfig{Config: &anypb.Any{}})
	if err != nil {
		panic(err)
	}
	return a
}()

func patchHTTPRouteFilterRoute(_ *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	if c := r.CredentialInjection; c != nil {
		if out.TypedPerFilterConfig == nil {
			out.TypedPerFilterConfig = map[string]*anypb.Any{}
		}
		out.TypedPerFilterConfig[credentialFilterName(c)] = enableFilter
	}
	for i, m := range r.Match.Cookies {
		sm, err := stringMatcher(m) // route.go
		if err != nil {
			return fmt.Errorf("Match.Cookies[%d]: %w", i, err)
		}
		out.Match.Cookies = append(out.Match.Cookies, &routev3.CookieMatcher{Name: m.Name, StringMatch: sm})
	}
	if d := r.DirectResponse; d != nil && (d.Formatted && d.Body != "" || len(d.BinaryBody) > 0) {
		dr := out.GetDirectResponse()
		if dr == nil {
			return fmt.Errorf("DirectResponse: no direct response action")
		}
		if len(d.BinaryBody) > 0 {
			// A ConfigMap's binaryData: bytes, sent as they are.
			dr.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: d.BinaryBody}}
		} else {
			// A format string: command operators are expanded per request.
			dr.Body = nil
			dr.BodyFormat = &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
				TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: d.Body}},
			}}
		}
	}
	return nil
}

// raiseDirectResponseLimit lets a route configuration carry the direct
// response bodies its routes have: Envoy refuses one over the limit.
func raiseDirectResponseLimit(b *builder, _ *ir.Proxy) error {
	for _, rc := range b.res.Routes {
		largest := 0
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				dr := r.GetDirectResponse()
				if dr == nil {
					continue
				}
				n := len(dr.GetBody().GetInlineString()) + len(dr.GetBody().GetInlineBytes())
				if f := dr.GetBodyFormat().GetTextFormatSource(); f != nil {
					n = max(n, len(f.GetInlineString())+len(f.GetInlineBytes()))
				}
				largest = max(largest, n)
			}
		}
		if largest > defaultMaxDirectResponseBody {
			rc.MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(uint32(largest))
		}
	}
	return nil
}

// staticClusterCredentials names the static secrets of a cluster's
// upstream credential injector, for a static bootstrap.
func staticClusterCredentials(c *clusterv3.Cluster) error {
	a := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]
	if a == nil {
		return nil
	}
	o := &httpv3.HttpProtocolOptions{}
	if err := a.UnmarshalTo(o); err != nil {
		return fmt.Errorf("cluster %q: %w", c.GetName(), err)
	}
	changed := false
	for _, f := range o.HttpFilters {
		if isFilterType(f, credentialInjectorFilterName) {
			if err := staticCredentialInjector(f); err != nil {
				return fmt.Errorf("cluster %q: %w", c.GetName(), err)
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	na, err := toAny(o)
	if err != nil {
		return err
	}
	c.TypedExtensionProtocolOptions[httpProtocolOptionsKey] = na
	return nil
}
