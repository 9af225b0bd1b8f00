package xds

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Well-known extension names (the strings Envoy registers them under).
const (
	hcmFilterName          = "envoy.filters.network.http_connection_manager"
	routerFilterName       = "envoy.filters.http.router"
	corsFilterName         = "envoy.filters.http.cors"
	tlsInspectorFilterName = "envoy.filters.listener.tls_inspector"
	tlsTransportSocketName = "envoy.transport_sockets.tls"
)

// Buffer limit Envoy Gateway applies to listeners and clusters; same value
// so that resource usage matches a proxy managed by Envoy Gateway.
const connectionBufferLimitBytes = 32768

// toAny packs m after validating it: ValidateAll on the outer resource does
// not look inside typed_config, so this is where nested configs are checked.
// The bytes are marshalled deterministically (anypb.New is not: maps, such
// as an access log's JSON format, come out in random order), so that the
// same input gives the same bytes and a resource's version, its content
// hash, changes only when its content does.
func toAny(m proto.Message) (*anypb.Any, error) {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, fmt.Errorf("invalid %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
		}
	}
	a := &anypb.Any{}
	err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true})
	if err != nil {
		return nil, fmt.Errorf("packing %T: %w", m, err)
	}
	return a, nil
}

// buildListeners groups the IR listeners by port: every group becomes one
// Envoy listener named after its first entry.
func (b *builder) buildListeners(entries []*ir.HTTPListener) error {
	var order []uint32
	groups := map[uint32][]*ir.HTTPListener{}
	for i, l := range entries {
		if l == nil {
			return fmt.Errorf("HTTP[%d] is nil", i)
		}
		if _, ok := groups[l.Port]; !ok {
			order = append(order, l.Port)
		}
		groups[l.Port] = append(groups[l.Port], l)
	}
	for _, port := range order {
		if err := b.buildPortListener(groups[port]); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) buildPortListener(entries []*ir.HTTPListener) error {
	first := entries[0]
	if first.Port == 0 || first.Port > 65535 {
		return fmt.Errorf("listener %q: Port %d out of range 1..65535", first.Name, first.Port)
	}
	addr := first.Address
	if addr == "" {
		addr = "0.0.0.0"
	}
	l := &listenerv3.Listener{
		Name:                          first.Name,
		Address:                       socketAddress(addr, first.Port),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(connectionBufferLimitBytes),
	}

	var plain, secure []*ir.HTTPListener
	for _, e := range entries {
		if other := e.Address; other != addr && !(other == "" && addr == "0.0.0.0") {
			return fmt.Errorf("listener %q: Address %q differs from %q of %q on the same port %d",
				e.Name, e.Address, addr, first.Name, e.Port)
		}
		if e.TLS != nil {
			secure = append(secure, e)
		} else {
			plain = append(plain, e)
		}
	}

	if len(plain) > 0 {
		// All plain HTTP entries on a port share one HCM and one route
		// configuration: without TLS there is no SNI to tell them apart,
		// only the Host header. Like Envoy Gateway it is the listener's
		// default filter chain, so TLS chains keep their SNI matches.
		name := plain[0].Name
		rc, err := b.buildRouteConfig(name, plain)
		if err != nil {
			return err
		}
		hcm, err := b.buildHCM(&hcmBuild{proxy: b.proxy, listeners: plain, statPrefix: fmt.Sprintf("http-%d", first.Port), routeName: name})
		if err != nil {
			return fmt.Errorf("listener %q: %w", first.Name, err)
		}
		l.DefaultFilterChain = &listenerv3.FilterChain{Name: name, Filters: []*listenerv3.Filter{hcm}}
		b.res.Routes = append(b.res.Routes, rc)
	}

	// The TLS inspector reads SNI and ALPN before a chain is chosen: only
	// needed when some chain matches on them (as Envoy Gateway adds it).
	inspect := false
	sniOwner := map[string]string{}
	for _, e := range secure {
		// Envoy refuses two filter chains with the same match.
		if other, ok := sniOwner[strings.ToLower(e.Hostname)]; ok {
			return fmt.Errorf("listener %q: hostname %q on port %d is already served by %q", e.Name, e.Hostname, e.Port, other)
		}
		sniOwner[strings.ToLower(e.Hostname)] = e.Name
		rc, err := b.buildRouteConfig(e.Name, []*ir.HTTPListener{e})
		if err != nil {
			return err
		}
		addMisdirected(rc, e, secure)
		hcm, err := b.buildHCM(&hcmBuild{proxy: b.proxy, listeners: []*ir.HTTPListener{e}, statPrefix: fmt.Sprintf("https-%d", first.Port), routeName: e.Name, secure: true})
		if err != nil {
			return fmt.Errorf("listener %q: %w", e.Name, err)
		}
		ts, err := b.buildDownstreamTLS(e)
		if err != nil {
			return fmt.Errorf("listener %q: %w", e.Name, err)
		}
		fc := &listenerv3.FilterChain{
			Name:            e.Name,
			Filters:         []*listenerv3.Filter{hcm},
			TransportSocket: ts,
		}
		var match listenerv3.FilterChainMatch
		if e.Hostname != "" {
			match.ServerNames = []string{e.Hostname}
		}
		if len(plain) > 0 {
			// Plaintext on the same port must reach the default chain, not
			// a TLS chain without server names.
			match.TransportProtocol = "tls"
		}
		if len(match.ServerNames) > 0 || match.TransportProtocol != "" {
			fc.FilterChainMatch = &match
			inspect = true
		}
		l.FilterChains = append(l.FilterChains, fc)
		b.res.Routes = append(b.res.Routes, rc)
	}

	if inspect {
		inspector, err := toAny(&tlsinspectorv3.TlsInspector{})
		if err != nil {
			return err
		}
		l.ListenerFilters = []*listenerv3.ListenerFilter{{
			Name:       tlsInspectorFilterName,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: inspector},
		}}
	}
	b.res.Listeners = append(b.res.Listeners, l)
	b.served(l).http = append(b.served(l).http, entries...)
	return nil
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol:      corev3.SocketAddress_TCP,
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// adsConfigSource is the config source of every dynamic reference: the
// aggregated stream the bootstrap opens.
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// buildHCM returns the HTTP connection manager network filter. Its settings
// follow Envoy Gateway's defaults: client address from the connection, paths
// normalized (RFC 3986), duplicate slashes merged and escaped slashes
// unescaped with a redirect, so route matching sees one canonical path.
// Features (features.go) add their HTTP filters and settings.
func (b *builder) buildHCM(h *hcmBuild) (*listenerv3.Filter, error) {
	filters, err := b.featureHTTPFilters(h)
	if err != nil {
		return nil, err
	}
	statPrefix, routeConfigName := h.statPrefix, h.routeName
	mgr := &hcmv3.HttpConnectionManager{
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		StatPrefix: statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsConfigSource(),
			RouteConfigName: routeConfigName,
		}},
		HttpFilters:                filters,
		ServerHeaderTransformation: hcmv3.HttpConnectionManager_PASS_THROUGH,
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        wrapperspb.UInt32(100),
			InitialStreamWindowSize:     wrapperspb.UInt32(65536),
			InitialConnectionWindowSize: wrapperspb.UInt32(1048576),
		},
		UseRemoteAddress:             wrapperspb.Bool(true),
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		},
	}
	if err := b.patchHCMFeatures(h, mgr); err != nil {
		return nil, err
	}
	typed, err := toAny(mgr)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}, nil
}

// routerFilter is the terminal HTTP filter, built once per proxy.
func (b *builder) routerFilter() (*hcmv3.HttpFilter, error) {
	if b.router == nil {
		router, err := toAny(&routerv3.Router{SuppressEnvoyHeaders: true})
		if err != nil {
			return nil, err
		}
		b.router = router
	}
	return &hcmv3.HttpFilter{Name: routerFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: b.router}}, nil
}

// servedBy is what one Envoy listener serves, for patchListener hooks.
type servedBy struct {
	http []*ir.HTTPListener
	tcp  []*ir.TCPListener
	udp  []*ir.UDPListener
}

func (b *builder) served(l *listenerv3.Listener) *servedBy {
	if b.servedBy == nil {
		b.servedBy = map[*listenerv3.Listener]*servedBy{}
	}
	s := b.servedBy[l]
	if s == nil {
		s = &servedBy{}
		b.servedBy[l] = s
	}
	return s
}
