package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// SystemCABundle is the trust store used for wellKnownCACertificates:
// System. Envoy has no built-in store, so it reads the distribution's
// bundle (the path Envoy Gateway's proxy image uses).
const SystemCABundle = "/etc/ssl/certs/ca-certificates.crt"

// sameBackendTLS reports whether every backend of d talks to its
// endpoints with the same TLS settings, so they can share one cluster.
func sameBackendTLS(d *ir.RouteDestination) bool {
	for _, be := range d.Backends[1:] {
		if !be.TLS.Equal(d.Backends[0].TLS) {
			return false
		}
	}
	return true
}

// applyUpstreamTLS sets the cluster's TLS transport socket when its
// backends ask for TLS. Backends of one cluster agree on it (singleCluster).
func (b *builder) applyUpstreamTLS(c *clusterv3.Cluster, backends []*ir.Backend) error {
	if len(backends) == 0 || backends[0].TLS == nil {
		return nil
	}
	t := backends[0].TLS
	for _, be := range backends[1:] {
		if !be.TLS.Equal(t) {
			return fmt.Errorf("cluster %q: backends differ in TLS settings", c.GetName())
		}
	}
	ctx, err := b.upstreamTLSContext(t, backends[0].Protocol)
	if err != nil {
		return fmt.Errorf("cluster %q: TLS: %w", c.GetName(), err)
	}
	typed, err := toAny(ctx)
	if err != nil {
		return err
	}
	c.TransportSocket = &corev3.TransportSocket{
		Name:       tlsTransportSocketName,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed},
	}
	return nil
}

func (b *builder) upstreamTLSContext(t *ir.BackendTLS, proto ir.AppProtocol) (*tlsv3.UpstreamTlsContext, error) {
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
	common := &tlsv3.CommonTlsContext{AlpnProtocols: append([]string(nil), t.ALPNProtocols...)}
	ctx.CommonTlsContext = common
	vc := &tlsv3.CertificateValidationContext{}
	switch {
	case t.InsecureSkipVerify:
		if t.UseSystemCA || t.CACertificates != "" || len(t.SubjectAltNames) > 0 {
			return nil, fmt.Errorf("InsecureSkipVerify with trust anchors or names to check")
		}
		vc = nil // no trust anchors: Envoy accepts any certificate
	case t.UseSystemCA && t.CACertificates != "":
		return nil, fmt.Errorf("both UseSystemCA and CACertificates are set")
	case t.UseSystemCA:
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: SystemCABundle}}
	case t.CACertificates != "":
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: t.CACertificates}}
	default:
		return nil, fmt.Errorf("no trust anchors (CACertificates, UseSystemCA or InsecureSkipVerify)")
	}
	if vc != nil {
		sans := t.SubjectAltNames
		switch {
		case len(sans) > 0:
		case t.SNI != "":
			// Gateway API: without subjectAltNames the certificate must be
			// valid for the hostname sent as SNI.
			sans = []ir.SubjectAltName{{Type: ir.SANDNS, Value: t.SNI}}
		default:
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
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	}
	if t.ALPNProtocols == nil && proto == ir.ProtocolHTTP2 {
		// The cluster speaks HTTP/2 only; say so in the handshake.
		common.AlpnProtocols = []string{"h2"}
	}
	if err := upstreamTLSParams(common, t); err != nil {
		return nil, err
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

// staticUpstreamTLS makes the SDS references of a cluster's TLS context
// static, for a bootstrap whose secrets are in static_resources.
func staticUpstreamTLS(c *clusterv3.Cluster) error {
	ts := c.GetTransportSocket()
	if ts.GetName() == proxyProtocolSocketName {
		return staticProxyProtocol(c, ts) // upstream.go
	}
	return staticTLSSocket(c, ts)
}

func staticTLSSocket(c *clusterv3.Cluster, ts *corev3.TransportSocket) error {
	if ts == nil || ts.GetName() != tlsTransportSocketName {
		return nil
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return fmt.Errorf("cluster %q: %w", c.GetName(), err)
	}
	if len(ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()) == 0 {
		return nil
	}
	for _, s := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		s.SdsConfig = nil
	}
	a, err := toAny(ctx)
	if err != nil {
		return err
	}
	ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
	return nil
}

// applyClientValidation asks downstream clients for a certificate.
func applyClientValidation(ctx *tlsv3.DownstreamTlsContext, v *ir.ClientValidation) error {
	if v == nil {
		return nil
	}
	if v.CACertificates == "" {
		return fmt.Errorf("ClientValidation: empty CACertificates")
	}
	vc := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v.CACertificates}},
	}
	if v.AllowInsecureFallback {
		// Ask for a certificate, but let the connection in without one or
		// with one that does not verify.
		vc.TrustChainVerification = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
	} else {
		ctx.RequireClientCertificate = wrapperspb.Bool(true)
	}
	ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	return nil
}
