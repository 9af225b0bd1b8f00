package xds

import (
	"fmt"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

const (
	proxyProtocolFilterName   = "envoy.filters.listener.proxy_protocol"
	connectionLimitFilterName = "envoy.filters.network.connection_limit"
)

// Socket option levels and names (Linux values, written out: the syscall
// package's differ on other systems, and the output must not).
const (
	solSocket   = 0x1
	soKeepalive = 0x9
	soSndbuf    = 0x7
	soRcvbuf    = 0x8
	ipprotoTCP  = 0x6
	tcpKeepidle = 0x4
	tcpKeepintv = 0x5
	tcpKeepcnt  = 0x6
)

// ClientTrafficPolicy settings of the Envoy listener (socket level) and of
// its filter chains (connection limits, handshake and TCP timeouts).
// translate made the IR listeners sharing a piece agree (ir.ClientSettings).
func init() {
	register(&feature{
		name:          "client.listener",
		patchListener: patchClientListener,
		patchTCPRoute: patchClientTCPRoute,
	})
}

func patchClientListener(b *builder, l *listenerv3.Listener, http []*ir.HTTPListener, tcp []*ir.TCPListener, _ []*ir.UDPListener) error {
	// Entries agree on the socket settings, except TLS fingerprints, which
	// the inspector computes for the whole port: their union.
	var socket *ir.ClientSocket
	var fingerprints []string
	seenFP := map[string]bool{}
	take := func(c *ir.ClientSettings) {
		if c == nil || c.Socket == nil {
			return
		}
		if socket == nil {
			socket = c.Socket
		}
		for _, f := range c.Socket.TLSFingerprints {
			if !seenFP[f] {
				seenFP[f] = true
				fingerprints = append(fingerprints, f)
			}
		}
	}
	tlsChains := false
	for _, e := range http {
		take(e.Client)
		tlsChains = tlsChains || e.TLS != nil
	}
	for _, e := range tcp {
		take(e.Client)
		tlsChains = tlsChains || isTLSEntry(e)
	}
	if socket != nil {
		if err := applyClientSocket(l, socket); err != nil {
			return err
		}
	}
	if len(fingerprints) > 0 && tlsChains {
		sort.Strings(fingerprints)
		if err := enableFingerprints(l, fingerprints); err != nil {
			return err
		}
	}
	chains := map[string]*ir.ClientChain{}
	plainDone := false
	for _, e := range http {
		if e.Client == nil || e.Client.Chain == nil {
			continue
		}
		if e.TLS == nil {
			// Plain HTTP listeners of the port share the default chain
			// and agree on its settings: apply them once.
			if fc := l.DefaultFilterChain; fc != nil && !plainDone {
				plainDone = true
				if err := applyClientChain(fc, e.Client.Chain, fmt.Sprintf("http-%d", e.Port)); err != nil {
					return err
				}
			}
			continue
		}
		chains[e.Name] = e.Client.Chain
	}
	for _, fc := range l.FilterChains {
		if c := chains[fc.GetName()]; c != nil {
			if err := applyClientChain(fc, c, fmt.Sprintf("https-%d", addressPort(l))); err != nil {
				return err
			}
		}
	}
	// TCP and TLS chains are one per route; their filters are added with
	// the tcp_proxy (patchClientTCPRoute), the handshake timeout here.
	byChain := map[string]*ir.ClientChain{}
	for _, e := range tcp {
		if e.Client == nil || e.Client.Chain == nil || e.Client.Chain.TLSHandshakeTimeout == nil {
			continue
		}
		for _, r := range e.Routes {
			if _, ok := byChain[r.Name]; !ok {
				byChain[r.Name] = e.Client.Chain
			}
			byChain[e.Name+"/"+r.Name] = e.Client.Chain
		}
	}
	for _, fc := range l.FilterChains {
		if c := byChain[fc.GetName()]; c != nil {
			fc.TransportSocketConnectTimeout = durationpb.New(c.TLSHandshakeTimeout.D())
		}
	}
	return nil
}

func addressPort(l *listenerv3.Listener) uint32 {
	return l.GetAddress().GetSocketAddress().GetPortValue()
}

// applyClientSocket sets what belongs to the whole listener.
func applyClientSocket(l *listenerv3.Listener, s *ir.ClientSocket) error {
	if k := s.TCPKeepalive; k != nil {
		l.SocketOptions = append(l.SocketOptions, &corev3.SocketOption{
			Description: "socket option to enable tcp keep alive",
			Level:       solSocket, Name: soKeepalive,
			Value: &corev3.SocketOption_IntValue{IntValue: 1},
		})
		for _, o := range []struct {
			v    *uint32
			name int64
			desc string
		}{
			{k.Probes, tcpKeepcnt, "socket option for keep alive probes"},
			{k.IdleTime, tcpKeepidle, "socket option for keep alive idle time"},
			{k.Interval, tcpKeepintv, "socket option for keep alive interval"},
		} {
			if o.v != nil {
				l.SocketOptions = append(l.SocketOptions, &corev3.SocketOption{
					Description: o.desc, Level: ipprotoTCP, Name: o.name,
					Value: &corev3.SocketOption_IntValue{IntValue: int64(*o.v)},
					State: corev3.SocketOption_STATE_PREBIND,
				})
			}
		}
	}
	if n := s.SocketBufferLimitBytes; n != nil {
		// Set on the listening socket, inherited by accepted ones.
		for _, o := range []struct {
			name int64
			desc string
		}{{soRcvbuf, "socket option for the receive buffer size"}, {soSndbuf, "socket option for the send buffer size"}} {
			l.SocketOptions = append(l.SocketOptions, &corev3.SocketOption{
				Description: o.desc, Level: solSocket, Name: o.name,
				Value: &corev3.SocketOption_IntValue{IntValue: int64(*n)},
				State: corev3.SocketOption_STATE_PREBIND,
			})
		}
	}
	if n := s.BufferLimitBytes; n != nil {
		l.PerConnectionBufferLimitBytes = wrapperspb.UInt32(*n)
	}
	if n := s.MaxAcceptPerSocketEvent; n != nil && *n > 0 {
		l.MaxConnectionsToAcceptPerSocketEvent = wrapperspb.UInt32(*n)
	}
	if d := s.InspectionTimeout; d != nil {
		l.ListenerFiltersTimeout = durationpb.New(d.D())
	}
	if pp := s.ProxyProtocol; pp != nil {
		cfg, err := toAny(&proxyprotocolv3.ProxyProtocol{AllowRequestsWithoutProxyProtocol: pp.Optional})
		if err != nil {
			return err
		}
		// First: the PROXY header precedes the TLS ClientHello.
		l.ListenerFilters = append([]*listenerv3.ListenerFilter{{
			Name: proxyProtocolFilterName, ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: cfg},
		}}, l.ListenerFilters...)
	}
	return nil
}

// enableFingerprints has the TLS inspector compute JA3/JA4 fingerprints.
func enableFingerprints(l *listenerv3.Listener, fps []string) error {
	if err := ensureTLSInspector(l); err != nil { // tls_passthrough.go
		return err
	}
	ti := &tlsinspectorv3.TlsInspector{}
	for _, f := range fps {
		switch f {
		case "JA3":
			ti.EnableJa3Fingerprinting = wrapperspb.Bool(true)
		case "JA4":
			ti.EnableJa4Fingerprinting = wrapperspb.Bool(true)
		default:
			return fmt.Errorf("unknown TLS fingerprint %q", f)
		}
	}
	cfg, err := toAny(ti)
	if err != nil {
		return err
	}
	for _, f := range l.ListenerFilters {
		if f.GetName() == tlsInspectorFilterName {
			f.ConfigType = &listenerv3.ListenerFilter_TypedConfig{TypedConfig: cfg}
		}
	}
	return nil
}

// applyClientChain sets what belongs to one HTTP(S) filter chain.
func applyClientChain(fc *listenerv3.FilterChain, c *ir.ClientChain, statPrefix string) error {
	if d := c.TLSHandshakeTimeout; d != nil {
		fc.TransportSocketConnectTimeout = durationpb.New(d.D())
	}
	if c.ConnectionLimit != nil {
		f, err := connectionLimitFilter(c.ConnectionLimit, statPrefix)
		if err != nil {
			return err
		}
		fc.Filters = append([]*listenerv3.Filter{f}, fc.Filters...)
	}
	return nil
}

func connectionLimitFilter(cl *ir.ConnectionLimit, statPrefix string) (*listenerv3.Filter, error) {
	m := &connlimitv3.ConnectionLimit{StatPrefix: statPrefix, MaxConnections: wrapperspb.UInt64(cl.Max)}
	if cl.CloseDelay != nil {
		m.Delay = durationpb.New(cl.CloseDelay.D())
	}
	cfg, err := toAny(m)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: connectionLimitFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: cfg}}, nil
}

// patchClientTCPRoute: a TCP or TLS listener's connection limit runs before
// its tcp_proxy, whose idle timeout and maximum connection duration it sets.
func patchClientTCPRoute(_ *builder, e *ir.TCPListener, _ *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
	if e.Client == nil || e.Client.Chain == nil {
		return nil, nil
	}
	c := e.Client.Chain
	if c.TCPIdleTimeout != nil {
		tp.IdleTimeout = durationpb.New(c.TCPIdleTimeout.D())
	}
	if c.TCPMaxConnectionDuration != nil {
		tp.MaxDownstreamConnectionDuration = durationpb.New(c.TCPMaxConnectionDuration.D())
	}
	if c.ConnectionLimit == nil {
		return nil, nil
	}
	f, err := connectionLimitFilter(c.ConnectionLimit, tp.GetStatPrefix())
	if err != nil {
		return nil, err
	}
	return []*listenerv3.Filter{f}, nil
}
