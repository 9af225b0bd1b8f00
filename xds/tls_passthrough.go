package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// ensureTLSInspector adds the TLS inspector listener filter to l unless it
// is there: SNI and transport protocol matches need it.
func ensureTLSInspector(l *listenerv3.Listener) error {
	for _, f := range l.ListenerFilters {
		if f.GetName() == tlsInspectorFilterName {
			return nil
		}
	}
	inspector, err := toAny(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		return err
	}
	l.ListenerFilters = append(l.ListenerFilters, &listenerv3.ListenerFilter{
		Name:       tlsInspectorFilterName,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: inspector},
	})
	return nil
}

// buildTerminateTLS is the downstream TLS context of a TLS listener in mode
// Terminate. It is the HTTPS context without ALPN: the decrypted stream is
// opaque, so advertising h2 or http/1.1 would be a lie.
func (b *builder) buildTerminateTLS(t *ir.TLSConfig) (*corev3.TransportSocket, error) {
	ts, err := b.buildDownstreamTLS(&ir.HTTPListener{TLS: t})
	if err != nil {
		return nil, err
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	ctx.GetCommonTlsContext().AlpnProtocols = append([]string(nil), t.ALPNProtocols...)
	typed, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: typed}
	return ts, nil
}
