package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	quicv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/quic/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

const quicTransportSocketName = "envoy.transport_sockets.quic"

// HTTP/3 (ClientTrafficPolicy http3): an HTTPS listener that asks for it is
// also served over QUIC, by a UDP listener on the same port named
// "<listener>-quic" as Envoy Gateway names it, whose filter chains use the
// same route configurations; responses advertise it with alt-svc.
func init() {
	register(&feature{name: "client.http3", resources: buildQUICListeners})
}

func wantsHTTP3(e *ir.HTTPListener) bool {
	return e.TLS != nil && e.Client != nil && e.Client.HTTP != nil && e.Client.HTTP.HTTP3
}

func buildQUICListeners(b *builder, p *ir.Proxy) error {
	var order []uint32
	byPort := map[uint32][]*ir.HTTPListener{}
	for _, e := range p.HTTP {
		if !wantsHTTP3(e) {
			continue
		}
		if _, ok := byPort[e.Port]; !ok {
			order = append(order, e.Port)
		}
		byPort[e.Port] = append(byPort[e.Port], e)
	}
	for _, port := range order {
		tcp := b.listenerOnPort(port) // tcp.go
		if tcp == nil {
			return fmt.Errorf("HTTP/3 on port %d: no TCP listener to serve beside", port)
		}
		for _, l := range b.res.Listeners {
			if sa := l.GetAddress().GetSocketAddress(); sa.GetPortValue() == port && sa.GetProtocol() == corev3.SocketAddress_UDP {
				return fmt.Errorf("HTTP/3 on port %d: UDP listener %q already uses the port", port, l.GetName())
			}
		}
		sa := socketAddress(tcp.GetAddress().GetSocketAddress().GetAddress(), port)
		sa.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
		ql := &listenerv3.Listener{
			Name:    tcp.GetName() + "-quic",
			Address: sa,
			UdpListenerConfig: &listenerv3.UdpListenerConfig{
				DownstreamSocketConfig: &corev3.UdpSocketConfig{},
				QuicOptions:            &listenerv3.QuicProtocolOptions{},
			},
			// As Envoy Gateway: /healthcheck/fail does not drain it.
			DrainType: listenerv3.Listener_MODIFY_ONLY,
		}
		for _, e := range byPort[port] {
			fc, err := b.quicChain(e)
			if err != nil {
				return fmt.Errorf("listener %q: HTTP/3: %w", e.Name, err)
			}
			ql.FilterChains = append(ql.FilterChains, fc)
			if err := addAltSvc(b, e); err != nil {
				return fmt.Errorf("listener %q: %w", e.Name, err)
			}
		}
		b.res.Listeners = append(b.res.Listeners, ql)
	}
	return nil
}

// quicChain serves e over QUIC: its TLS context with ALPN h3 inside a QUIC
// transport socket, an HTTP/3 connection manager on its route
// configuration, its connection limit. QUIC reads the server name itself,
// so the chain matches it without a TLS inspector.
func (b *builder) quicChain(e *ir.HTTPListener) (*listenerv3.FilterChain, error) {
	ts, err := b.buildDownstreamTLS(e) // tls.go
	if err != nil {
		return nil, err
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return nil, err
	}
	ctx.GetCommonTlsContext().AlpnProtocols = []string{"h3"}
	q, err := toAny(&quicv3.QuicDownstreamTransport{DownstreamTlsContext: ctx})
	if err != nil {
		return nil, err
	}
	statPrefix := fmt.Sprintf("https-%d", e.Port)
	hcm, err := b.buildHCM(&hcmBuild{proxy: b.proxy, listeners: []*ir.HTTPListener{e}, statPrefix: statPrefix, routeName: e.Name, secure: true, quic: true})
	if err != nil {
		return nil, err
	}
	fc := &listenerv3.FilterChain{
		Name:            e.Name,
		Filters:         []*listenerv3.Filter{hcm},
		TransportSocket: &corev3.TransportSocket{Name: quicTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: q}},
	}
	if e.Hostname != "" {
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{e.Hostname}}
	}
	if c := e.Client.Chain; c != nil && c.ConnectionLimit != nil {
		f, err := connectionLimitFilter(c.ConnectionLimit, statPrefix) // client_listener.go
		if err != nil {
			return nil, err
		}
		fc.Filters = append([]*listenerv3.Filter{f}, fc.Filters...)
	}
	return fc, nil
}

// addAltSvc makes every response of e's route configuration advertise
// HTTP/3 on the port clients use (the Gateway's).
func addAltSvc(b *builder, e *ir.HTTPListener) error {
	for _, rc := range b.res.Routes {
		if rc.GetName() != e.Name {
			continue
		}
		rc.ResponseHeadersToAdd = append(rc.ResponseHeadersToAdd, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: "alt-svc", Value: fmt.Sprintf(`h3=":%d"; ma=86400`, e.GatewayPort)},
			AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		})
		return nil
	}
	return fmt.Errorf("route configuration %q not found for alt-svc", e.Name)
}

// staticQUIC makes the SDS references of a QUIC transport socket static,
// for a bootstrap whose secrets are in static_resources (bootstrap.go).
func staticQUIC(ts *corev3.TransportSocket) error {
	q := &quicv3.QuicDownstreamTransport{}
	if err := ts.GetTypedConfig().UnmarshalTo(q); err != nil {
		return err
	}
	staticDownstreamTLS(q.GetDownstreamTlsContext()) // downstream_validation.go
	a, err := toAny(q)
	if err != nil {
		return err
	}
	ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
	return nil
}
