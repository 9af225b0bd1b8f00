package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

var defaultALPN = []string{"h2", "http/1.1"}

var tlsVersions = map[string]tlsv3.TlsParameters_TlsProtocol{
	"":    tlsv3.TlsParameters_TLS_AUTO,
	"1.0": tlsv3.TlsParameters_TLSv1_0,
	"1.1": tlsv3.TlsParameters_TLSv1_1,
	"1.2": tlsv3.TlsParameters_TLSv1_2,
	"1.3": tlsv3.TlsParameters_TLSv1_3,
}

// buildDownstreamTLS terminates TLS for an HTTPS entry. Certificates are
// referenced by SDS name: the secrets travel separately (SDS over ADS, or
// static secrets in a static bootstrap).
func (b *builder) buildDownstreamTLS(l *ir.HTTPListener) (*corev3.TransportSocket, error) {
	t := l.TLS
	if len(t.Certificates) == 0 {
		return nil, fmt.Errorf("TLS.Certificates: at least one certificate is required")
	}
	minV, ok := tlsVersions[t.MinVersion]
	if !ok {
		return nil, fmt.Errorf("TLS.MinVersion: unknown version %q", t.MinVersion)
	}
	maxV, ok := tlsVersions[t.MaxVersion]
	if !ok {
		return nil, fmt.Errorf("TLS.MaxVersion: unknown version %q", t.MaxVersion)
	}
	alpn := t.ALPNProtocols
	if len(alpn) == 0 {
		alpn = defaultALPN
	}
	common := &tlsv3.CommonTlsContext{AlpnProtocols: append([]string(nil), alpn...)}
	if minV != tlsv3.TlsParameters_TLS_AUTO || maxV != tlsv3.TlsParameters_TLS_AUTO || len(t.Ciphers) > 0 {
		common.TlsParams = &tlsv3.TlsParameters{
			TlsMinimumProtocolVersion: minV,
			TlsMaximumProtocolVersion: maxV,
			CipherSuites:              append([]string(nil), t.Ciphers...),
		}
	}
	for i, c := range t.Certificates {
		if c == nil || c.Name == "" {
			return nil, fmt.Errorf("TLS.Certificates[%d]: missing certificate or Name", i)
		}
		if err := b.addSecret(c); err != nil {
			return nil, fmt.Errorf("TLS.Certificates[%d]: %w", i, err)
		}
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs,
			&tlsv3.SdsSecretConfig{Name: c.Name, SdsConfig: adsConfigSource()})
	}
	ctx := &tlsv3.DownstreamTlsContext{
		CommonTlsContext: common,
		// Envoy Gateway turns session resumption off: a resumed session
		// skips SNI-based filter chain selection checks.
		SessionTicketKeysType: &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{
			DisableStatelessSessionResumption: true,
		},
		DisableStatefulSessionResumption: true,
	}
	if t.Client == nil || t.Client.Validation == nil { // a ClientTrafficPolicy's replaces it
		if err := b.applyClientValidation(ctx, t.ClientValidation); err != nil { // downstream_validation.go
			return nil, err
		}
	}
	if err := b.applyClientTLS(ctx, t.Client); err != nil { // client_tls.go
		return nil, err
	}
	typed, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{
		Name:       tlsTransportSocketName,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed},
	}, nil
}
