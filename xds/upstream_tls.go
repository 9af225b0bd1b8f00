package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/egctl/egctl/ir"
)

// SystemCABundle is the trust store used for wellKnownCACertificates:
// System. Envoy has no built-in store, so it reads the distribution's
// bundle (the path Envoy Gateway's proxy image uses).
const SystemCABundle = "/etc/ssl/certs/ca-certificates.crt"

// TLS to backends is spelled as Envoy Gateway spells it: every TLS backend
// of a cluster gets a transport socket match ("<cluster>/tls/<i>", i the
// backend's index) and its endpoints carry the match's name in their
// envoy.transport_socket_match metadata, so one cluster can hold backends
// with different TLS settings, or TLS and plain backends side by side.
// Trust anchors travel as SDS validation secrets (the system store as
// system_ca_certificates, a BackendTLSPolicy's CA certificates as
// "<policy>/<namespace>-ca"); the certificate's names are checked in the
// context's default validation context. When every backend speaks TLS the
// cluster's own socket is a placeholder TLS socket no endpoint uses
// (dummy.transport_socket): Envoy wants a socket that can do ALPN on a
// cluster whose HTTP protocol ALPN picks (applyUpstreamSNI).
//
// Clusters made from a URL (a remote JWKS, an OIDC token endpoint) keep one
// transport socket with the trust anchors inline, as Envoy Gateway spells
// them; egctl also checks there that the certificate names the host, which
// Envoy Gateway does not.

// dummyTLSSocketName names the placeholder socket, as Envoy Gateway does.
const dummyTLSSocketName = "dummy.transport_socket"

// tlsMatchKey is the endpoint metadata key transport socket matches read.
const tlsMatchKey = "envoy.transport_socket_match"

// tlsMatchName names backend i's transport socket match in cluster c.
func tlsMatchName(cluster string, i int) string {
	return cluster + "/tls/" + strconv.Itoa(i)
}

// upstreamTLSState holds what the TLS of a proxy's clusters share: one
// built socket per TLS setting (10,000 routes to backends of
// one policy build it once), the placeholder socket, and the endpoint
// metadata naming each match.
type upstreamTLSState struct {
	sockets map[*ir.BackendTLS]*corev3.TransportSocket
	dummy   *corev3.TransportSocket
	matchMD map[string]*corev3.Metadata
}

func (b *builder) upstreamTLS() *upstreamTLSState {
	return featureState(b, "upstreamTLS", func() *upstreamTLSState {
		return &upstreamTLSState{sockets: map[*ir.BackendTLS]*corev3.TransportSocket{}, matchMD: map[string]*corev3.Metadata{}}
	})
}

// tlsMatchMetadata is the endpoint metadata selecting match name.
func (b *builder) tlsMatchMetadata(name string) *corev3.Metadata {
	st := b.upstreamTLS()
	if md, ok := st.matchMD[name]; ok {
		return md
	}
	md := &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		tlsMatchKey: {Fields: map[string]*structpb.Value{"name": structpb.NewStringValue(name)}},
	}}
	st.matchMD[name] = md
	return md
}

// matchedTLS reports whether a backend's TLS is chosen per endpoint by a
// transport socket match.
func matchedTLS(be *ir.Backend) bool {
	return be != nil && be.TLS != nil && !be.TLS.FromURL
}

// allTLS reports whether every backend speaks TLS by a socket match.
func allTLS(backends []*ir.Backend) bool {
	for _, be := range backends {
		if !matchedTLS(be) {
			return false
		}
	}
	return len(backends) > 0
}

// applyUpstreamTLS sets the cluster's TLS: a transport socket match per
// TLS backend, or one socket for a cluster made from a URL.
func (b *builder) applyUpstreamTLS(c *clusterv3.Cluster, backends []*ir.Backend) error {
	var any bool
	for _, be := range backends {
		any = any || (be != nil && be.TLS != nil)
	}
	if !any {
		return nil
	}
	if !ir.TLSMixable(backends) {
		return fmt.Errorf("cluster %q: backends differ in TLS settings one cluster cannot mix", c.GetName())
	}
	if backends[0].TLS != nil && backends[0].TLS.FromURL {
		return b.applyURLTLS(c, backends[0])
	}
	st := b.upstreamTLS()
	for i, be := range backends {
		if !matchedTLS(be) {
			continue
		}
		key := be.TLS
		sock, ok := st.sockets[key]
		if !ok {
			ctx, err := b.upstreamTLSContext(be.TLS)
			if err != nil {
				return fmt.Errorf("cluster %q: TLS: %w", c.GetName(), err)
			}
			typed, err := toAny(ctx)
			if err != nil {
				return err
			}
			sock = &corev3.TransportSocket{Name: tlsTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed}}
			st.sockets[key] = sock
		}
		name := tlsMatchName(c.GetName(), i)
		c.TransportSocketMatches = append(c.TransportSocketMatches, &clusterv3.Cluster_TransportSocketMatch{
			Name:            name,
			Match:           b.tlsMatchMetadata(name).FilterMetadata[tlsMatchKey],
			TransportSocket: sock,
		})
	}
	if allTLS(backends) {
		if st.dummy == nil {
			typed, err := toAny(&tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}})
			if err != nil {
				return err
			}
			st.dummy = &corev3.TransportSocket{Name: dummyTLSSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed}}
		}
		c.TransportSocket = st.dummy
	}
	return nil
}

// applyURLTLS gives a cluster made from a URL its one TLS socket.
func (b *builder) applyURLTLS(c *clusterv3.Cluster, be *ir.Backend) error {
	t := be.TLS
	if t.SNI == "" {
		return fmt.Errorf("cluster %q: TLS from a URL without SNI", c.GetName())
	}
	ctx := &tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: &tlsv3.CommonTlsContext{}}
	vc := &tlsv3.CertificateValidationContext{}
	switch {
	case t.InsecureSkipVerify:
		vc = nil
	case t.UseSystemCA:
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: SystemCABundle}}
	case t.CACertificates != "":
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: t.CACertificates}}
	default:
		return fmt.Errorf("cluster %q: TLS: no trust anchors (CACertificates, UseSystemCA or InsecureSkipVerify)", c.GetName())
	}
	if vc != nil {
		// The fetched host's certificate must name it: Envoy would
		// otherwise accept any certificate the trust store signs.
		vc.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{SanType: tlsv3.SubjectAltNameMatcher_DNS,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: t.SNI}}}}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	}
	if err := upstreamTLSParams(ctx.CommonTlsContext, t); err != nil {
		return fmt.Errorf("cluster %q: TLS: %w", c.GetName(), err)
	}
	typed, err := toAny(ctx)
	if err != nil {
		return err
	}
	c.TransportSocket = &corev3.TransportSocket{Name: tlsTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed}}
	return nil
}

// upstreamTLSContext is the TLS context of a transport socket match.
func (b *builder) upstreamTLSContext(t *ir.BackendTLS) (*tlsv3.UpstreamTlsContext, error) {
	autos := 0
	for _, set := range []bool{t.SNI != "", t.AutoSNI, t.AutoHostSNI} {
		if set {
			autos++
		}
	}
	if autos != 1 {
		return nil, fmt.Errorf("exactly one of SNI, AutoSNI and AutoHostSNI must be set")
	}
	ctx := &tlsv3.UpstreamTlsContext{Sni: t.SNI, AutoHostSni: t.AutoHostSNI}
	common := &tlsv3.CommonTlsContext{}
	if t.ALPNProtocols != nil {
		// Without a list Envoy offers the cluster's protocol (h2 for an
		// HTTP/2 cluster), or h2 and http/1.1 where ALPN picks it.
		common.AlpnProtocols = append([]string(nil), t.ALPNProtocols...)
	}
	ctx.CommonTlsContext = common
	switch {
	case t.InsecureSkipVerify:
		if t.UseSystemCA || t.CACertificates != "" || len(t.SubjectAltNames) > 0 {
			return nil, fmt.Errorf("InsecureSkipVerify with trust anchors or names to check")
		}
		// No validation context: Envoy accepts any certificate.
	case t.UseSystemCA && t.CACertificates != "":
		return nil, fmt.Errorf("both UseSystemCA and CACertificates are set")
	case t.UseSystemCA, t.CACertificates != "":
		name, err := b.addCASecret(t)
		if err != nil {
			return nil, err
		}
		vc := &tlsv3.CertificateValidationContext{}
		sans := t.SubjectAltNames
		if len(sans) == 0 && t.SNI != "" {
			// Gateway API: without subjectAltNames the certificate must be
			// valid for the hostname sent as SNI.
			sans = []ir.SubjectAltName{{Type: ir.SANDNS, Value: t.SNI}}
		}
		if len(sans) == 0 {
			// The name sent is chosen per connection (the request's Host,
			// the endpoint's hostname): check the certificate against it.
			ctx.AutoSniSanValidation = true
		}
		for i, s := range sans {
			m := &tlsv3.SubjectAltNameMatcher{Matcher: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s.Value},
			}}
			switch s.Type {
			case ir.SANDNS:
				m.SanType = tlsv3.SubjectAltNameMatcher_DNS
			case ir.SANURI:
				m.SanType = tlsv3.SubjectAltNameMatcher_URI
			default:
				return nil, fmt.Errorf("SubjectAltNames[%d]: unknown type %q", i, s.Type)
			}
			vc.MatchTypedSubjectAltNames = append(vc.MatchTypedSubjectAltNames, m)
		}
		common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         vc,
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()},
			},
		}
	default:
		return nil, fmt.Errorf("no trust anchors (CACertificates, UseSystemCA or InsecureSkipVerify)")
	}
	if err := upstreamTLSParams(common, t); err != nil {
		return nil, err
	}
	if common.TlsParams.TlsMinimumProtocolVersion == tlsv3.TlsParameters_TLS_AUTO {
		// Envoy's own minimum, written out as Envoy Gateway does.
		common.TlsParams.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TLSv1_2
	}
	if c := t.ClientCertificate; c != nil {
		if c.Name == "" {
			return nil, fmt.Errorf("ClientCertificate: empty Name")
		}
		if err := b.addSecret(c); err != nil {
			return nil, fmt.Errorf("ClientCertificate: %w", err)
		}
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: c.Name, SdsConfig: adsConfigSource()}}
	}
	return ctx, nil
}

// addCASecret adds the SDS validation secret holding t's trust anchors and
// returns its name: the system store by file, CA certificates inline. Two
// different bundles under one name are an IR error.
func (b *builder) addCASecret(t *ir.BackendTLS) (string, error) {
	name := t.CAName
	vc := &tlsv3.CertificateValidationContext{}
	if t.UseSystemCA {
		if name == "" {
			name = ir.SystemCASecret
		}
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: SystemCABundle}}
	} else {
		if name == "" {
			sum := sha256.Sum256([]byte(t.CACertificates))
			name = "ca-" + hex.EncodeToString(sum[:8])
		}
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(t.CACertificates)}}
	}
	if old, ok := b.secrets[name]; ok {
		if !proto.Equal(old.GetValidationContext(), vc) {
			return "", fmt.Errorf("CA secret %q: two different sets of trust anchors share this name", name)
		}
		return name, nil
	}
	b.secrets[name] = &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: vc}}
	return name, nil
}

// upstreamTLSParams sets the versions, ciphers, curves and signature
// algorithms a backend's TLS asks for.
func upstreamTLSParams(common *tlsv3.CommonTlsContext, t *ir.BackendTLS) error {
	minV, ok := tlsVersions[t.MinVersion] // tls.go
	if !ok {
		return fmt.Errorf("MinVersion %q", t.MinVersion)
	}
	maxV, ok := tlsVersions[t.MaxVersion]
	if !ok {
		return fmt.Errorf("MaxVersion %q", t.MaxVersion)
	}
	if maxV == tlsv3.TlsParameters_TLS_AUTO {
		// Envoy's automatic maximum for upstreams is TLS 1.2: a backend
		// that speaks only TLS 1.3 (or a minimum of 1.3) would fail every
		// handshake. Envoy Gateway asks for 1.3, and so does egctl.
		maxV = tlsv3.TlsParameters_TLSv1_3
	}
	common.TlsParams = &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: minV,
		TlsMaximumProtocolVersion: maxV,
		CipherSuites:              append([]string(nil), t.Ciphers...),
		EcdhCurves:                append([]string(nil), t.ECDHCurves...),
		SignatureAlgorithms:       append([]string(nil), t.SignatureAlgorithms...),
	}
	return nil
}

// staticUpstreamTLS makes the SDS references of a cluster's TLS contexts
// (its own socket and its socket matches) static, for a bootstrap whose
// secrets are in static_resources.
func staticUpstreamTLS(c *clusterv3.Cluster) error {
	static := func(ts *corev3.TransportSocket) error {
		if ts.GetName() == proxyProtocolSocketName {
			return staticProxyProtocol(c, ts) // upstream.go
		}
		return staticTLSSocket(c, ts)
	}
	if err := static(c.GetTransportSocket()); err != nil {
		return err
	}
	for _, m := range c.GetTransportSocketMatches() {
		if err := static(m.GetTransportSocket()); err != nil {
			return err
		}
	}
	return nil
}

func staticTLSSocket(c *clusterv3.Cluster, ts *corev3.TransportSocket) error {
	if ts == nil || ts.GetName() != tlsTransportSocketName {
		return nil
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return fmt.Errorf("cluster %q: %w", c.GetName(), err)
	}
	vcs := ctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig()
	if len(ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()) == 0 && vcs == nil {
		return nil
	}
	// A SdsSecretConfig without sds_config names a static secret.
	for _, s := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		s.SdsConfig = nil
	}
	if vcs != nil {
		vcs.SdsConfig = nil
	}
	a, err := toAny(ctx)
	if err != nil {
		return err
	}
	ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
	return nil
}
