package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	commondnsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/common/dns/v3"
	dnsclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	admissioncontrolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/admission_control/v3"
	upstreamcodecv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/upstream_codec/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// What a BackendTrafficPolicy asks of a cluster's connections: connect
// timeout, TCP keepalive, buffer limit, preconnect, the PROXY protocol,
// DNS resolution, and the upstream HTTP protocol options (idle and maximum
// connection time, requests per connection, HTTP/2 settings, the client's
// protocol, the admission control upstream filter).
func init() {
	register(&feature{name: "backendtrafficpolicy.upstream", patchCluster: patchUpstream})
}

const (
	proxyProtocolSocketName = "envoy.transport_sockets.upstream_proxy_protocol"
	rawBufferSocketName     = "envoy.transport_sockets.raw_buffer"
	admissionControlName    = "envoy.filters.http.admission_control"
	upstreamCodecName       = "envoy.filters.http.upstream_codec"
)

func patchUpstream(b *builder, d *ir.RouteDestination, backends []*ir.Backend, c *clusterv3.Cluster) error {
	cs := d.Cluster
	if cs == nil {
		return nil
	}
	if cs.ConnectTimeout > 0 {
		c.ConnectTimeout = b.sharedDuration(cs.ConnectTimeout)
	}
	if cs.BufferLimit > 0 {
		c.PerConnectionBufferLimitBytes = wrapperspb.UInt32(cs.BufferLimit)
	}
	if k := cs.TCPKeepalive; k != nil {
		ka := &corev3.TcpKeepalive{}
		if k.Probes > 0 {
			ka.KeepaliveProbes = wrapperspb.UInt32(k.Probes)
		}
		if k.IdleTime > 0 {
			ka.KeepaliveTime = wrapperspb.UInt32(uint32(k.IdleTime.Seconds()))
		}
		if k.Interval > 0 {
			ka.KeepaliveInterval = wrapperspb.UInt32(uint32(k.Interval.Seconds()))
		}
		c.UpstreamConnectionOptions = &clusterv3.UpstreamConnectionOptions{TcpKeepalive: ka}
	}
	if p := cs.Preconnect; p != nil {
		pp := &clusterv3.Cluster_PreconnectPolicy{}
		if p.PerEndpointPercent > 0 {
			pp.PerUpstreamPreconnectRatio = wrapperspb.Double(float64(p.PerEndpointPercent) / 100)
		}
		if p.PredictivePercent > 0 {
			pp.PredictivePreconnectRatio = wrapperspb.Double(float64(p.PredictivePercent) / 100)
		}
		c.PreconnectPolicy = pp
	}
	if cs.ProxyProtocol != "" {
		if err := wrapProxyProtocol(c, cs.ProxyProtocol); err != nil {
			return err
		}
	}
	if cs.DNS != nil {
		if err := applyDNS(c, cs.DNS); err != nil {
			return err
		}
	}
	if cs.HTTPProtocolOptions() {
		proto := ir.ProtocolHTTP1
		if len(backends) > 0 {
			proto = backends[0].Protocol
		}
		cache := *featureState(b, "httpOptionsCache", func() *httpOptionsCache { return &httpOptionsCache{} })
		k := httpOptionsKey{cs, proto}
		opts, ok := cache[k]
		if !ok {
			var err error
			if opts, err = httpOptions(cs, proto); err != nil {
				return err
			}
			cache[k] = opts
		}
		c.TypedExtensionProtocolOptions = map[string]*anyMsg{httpProtocolOptionsKey: opts}
	}
	return nil
}

// httpOptionsCache shares the protocol options of one cluster setting and
// upstream protocol between clusters.
type httpOptionsKey struct {
	cs    *ir.ClusterSettings
	proto ir.AppProtocol
}

type httpOptionsCache map[httpOptionsKey]*anyMsg

// wrapProxyProtocol puts the PROXY protocol header in front of whatever the
// cluster's transports are: its own socket (plain, or the placeholder TLS
// socket of upstream_tls.go) and each TLS backend's socket match.
func wrapProxyProtocol(c *clusterv3.Cluster, version string) error {
	v := corev3.ProxyProtocolConfig_V1
	if version == "V2" {
		v = corev3.ProxyProtocolConfig_V2
	}
	wrap := func(inner *corev3.TransportSocket) (*corev3.TransportSocket, error) {
		if inner == nil {
			raw, err := toAny(&rawbufferv3.RawBuffer{})
			if err != nil {
				return nil, err
			}
			inner = &corev3.TransportSocket{Name: rawBufferSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: raw}}
		}
		pp, err := toAny(&proxyprotocolv3.ProxyProtocolUpstreamTransport{
			Config:          &corev3.ProxyProtocolConfig{Version: v},
			TransportSocket: inner,
		})
		if err != nil {
			return nil, err
		}
		return &corev3.TransportSocket{Name: proxyProtocolSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: pp}}, nil
	}
	ts, err := wrap(c.TransportSocket)
	if err != nil {
		return err
	}
	c.TransportSocket = ts
	if len(c.TransportSocketMatches) == 0 {
		return nil
	}
	// The matches (and their sockets) may be shared: new ones replace them.
	ms := make([]*clusterv3.Cluster_TransportSocketMatch, len(c.TransportSocketMatches))
	for i, m := range c.TransportSocketMatches {
		ts, err := wrap(m.TransportSocket)
		if err != nil {
			return err
		}
		ms[i] = &clusterv3.Cluster_TransportSocketMatch{Name: m.Name, Match: m.Match, TransportSocket: ts}
	}
	c.TransportSocketMatches = ms
	return nil
}

// staticProxyProtocol makes the TLS socket inside a PROXY protocol wrapper
// static for a bootstrap (staticUpstreamTLS).
func staticProxyProtocol(c *clusterv3.Cluster, ts *corev3.TransportSocket) error {
	pp := &proxyprotocolv3.ProxyProtocolUpstreamTransport{}
	if err := ts.GetTypedConfig().UnmarshalTo(pp); err != nil {
		return fmt.Errorf("cluster %q: %w", c.GetName(), err)
	}
	if pp.GetTransportSocket().GetName() != tlsTransportSocketName {
		return nil
	}
	if err := staticTLSSocket(c, pp.TransportSocket); err != nil {
		return err
	}
	a, err := toAny(pp)
	if err != nil {
		return err
	}
	ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
	return nil
}

var lookupFamilies = map[string]commondnsv3.DnsLookupFamily{
	"":              commondnsv3.DnsLookupFamily_V4_PREFERRED,
	"IPv4":          commondnsv3.DnsLookupFamily_V4_ONLY,
	"IPv6":          commondnsv3.DnsLookupFamily_V6_ONLY,
	"IPv4Preferred": commondnsv3.DnsLookupFamily_V4_PREFERRED,
	"IPv6Preferred": commondnsv3.DnsLookupFamily_AUTO,
	"IPv4AndIPv6":   commondnsv3.DnsLookupFamily_ALL,
}

// applyDNS makes an FQDN cluster Envoy's DNS cluster with the policy's
// refresh, TTL and lookup settings (the Cluster fields for them are
// deprecated). IP and unix clusters resolve nothing: DNS settings do not
// concern them.
func applyDNS(c *clusterv3.Cluster, dns *ir.DNS) error {
	if c.GetType() != clusterv3.Cluster_STRICT_DNS {
		return nil
	}
	fam, ok := lookupFamilies[dns.LookupFamily]
	if !ok {
		return fmt.Errorf("DNS: unknown lookup family %q", dns.LookupFamily)
	}
	dc := &dnsclusterv3.DnsCluster{
		DnsRefreshRate:  durationpb.New(dnsDefaultRefresh),
		RespectDnsTtl:   !dns.IgnoreTTL,
		DnsLookupFamily: fam,
	}
	if dns.RefreshRate > 0 {
		dc.DnsRefreshRate = durationpb.New(dns.RefreshRate)
	}
	a, err := toAny(dc)
	if err != nil {
		return err
	}
	c.ClusterDiscoveryType = &clusterv3.Cluster_ClusterType{ClusterType: &clusterv3.Cluster_CustomClusterType{Name: dnsClusterTypeName, TypedConfig: a}}
	// The extension reads its own lookup family; the cluster's is unused.
	c.DnsLookupFamily = clusterv3.Cluster_AUTO
	return nil
}

const dnsDefaultRefresh = 30_000_000_000 // 30s, Envoy Gateway's default

// httpOptions builds the cluster's upstream HTTP protocol options for
// backends speaking proto.
func httpOptions(cs *ir.ClusterSettings, proto ir.AppProtocol) (*anyMsg, error) {
	o := &httpv3.HttpProtocolOptions{}
	if cs.HTTPIdleTimeout > 0 || cs.MaxConnectionDuration > 0 || cs.MaxStreamDuration > 0 || cs.MaxRequestsPerConnection > 0 {
		co := &corev3.HttpProtocolOptions{}
		if cs.MaxStreamDuration > 0 {
			co.MaxStreamDuration = durationpb.New(cs.MaxStreamDuration)
		}
		if cs.HTTPIdleTimeout > 0 {
			co.IdleTimeout = durationpb.New(cs.HTTPIdleTimeout)
		}
		if cs.MaxConnectionDuration > 0 {
			co.MaxConnectionDuration = durationpb.New(cs.MaxConnectionDuration)
		}
		if cs.MaxRequestsPerConnection > 0 {
			co.MaxRequestsPerConnection = wrapperspb.UInt32(cs.MaxRequestsPerConnection)
		}
		o.CommonHttpProtocolOptions = co
	}
	h2 := http2Options(cs.HTTP2)
	switch {
	case cs.UseClientProtocol:
		o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
			UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
				HttpProtocolOptions: &corev3.Http1ProtocolOptions{}, Http2ProtocolOptions: h2,
			},
		}
	case proto == ir.ProtocolHTTP2:
		o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: h2},
		}}
	default:
		// HTTP/2 settings are kept for nothing here: the backend speaks
		// HTTP/1.1 (unless the client protocol is used).
		o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}}
	}
	if ac := cs.AdmissionControl; ac != nil {
		f, err := admissionControlFilter(ac)
		if err != nil {
			return nil, err
		}
		codec, err := toAny(&upstreamcodecv3.UpstreamCodec{})
		if err != nil {
			return nil, err
		}
		o.HttpFilters = []*hcmv3.HttpFilter{f, {Name: upstreamCodecName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: codec}}}
	}
	return toAny(o)
}

// http2Options are egctl's HTTP/2 upstream defaults (those of cluster.go)
// with the policy's settings over them.
func http2Options(h *ir.HTTP2) *corev3.Http2ProtocolOptions {
	o := &corev3.Http2ProtocolOptions{
		InitialStreamWindowSize:     wrapperspb.UInt32(65536),
		InitialConnectionWindowSize: wrapperspb.UInt32(1048576),
	}
	if h == nil {
		return o
	}
	if h.InitialStreamWindowSize > 0 {
		o.InitialStreamWindowSize = wrapperspb.UInt32(h.InitialStreamWindowSize)
	}
	if h.InitialConnectionWindowSize > 0 {
		o.InitialConnectionWindowSize = wrapperspb.UInt32(h.InitialConnectionWindowSize)
	}
	if h.MaxConcurrentStreams > 0 {
		o.MaxConcurrentStreams = wrapperspb.UInt32(h.MaxConcurrentStreams)
	}
	if h.ResetStreamOnError {
		o.OverrideStreamErrorOnInvalidHttpMessage = wrapperspb.Bool(true)
	}
	if k := h.Keepalive; k != nil {
		ka := &corev3.KeepaliveSettings{Timeout: durationpb.New(k.Timeout)}
		if k.Interval > 0 {
			ka.Interval = durationpb.New(k.Interval)
		}
		if k.IdleInterval > 0 {
			ka.ConnectionIdleInterval = durationpb.New(k.IdleInterval)
		}
		if k.JitterPercent != nil {
			ka.IntervalJitter = &typev3.Percent{Value: float64(*k.JitterPercent)}
		}
		o.ConnectionKeepalive = ka
	}
	return o
}

func admissionControlFilter(ac *ir.AdmissionControl) (*hcmv3.HttpFilter, error) {
	cfg := &admissioncontrolv3.AdmissionControl{
		Enabled: &corev3.RuntimeFeatureFlag{DefaultValue: wrapperspb.Bool(true), RuntimeKey: "admission_control.enabled"},
	}
	if ac.SamplingWindow > 0 {
		cfg.SamplingWindow = durationpb.New(ac.SamplingWindow)
	}
	if v := ac.MinSuccessRate; v != nil {
		cfg.SrThreshold = &corev3.RuntimePercent{DefaultValue: &typev3.Percent{Value: float64(*v)}, RuntimeKey: "admission_control.sr_threshold"}
	}
	if v := ac.Aggression; v != nil {
		cfg.Aggression = &corev3.RuntimeDouble{DefaultValue: float64(*v), RuntimeKey: "admission_control.aggression"}
	}
	if v := ac.MinRequestRate; v != nil {
		cfg.RpsThreshold = &corev3.RuntimeUInt32{DefaultValue: *v, RuntimeKey: "admission_control.rps_threshold"}
	}
	if v := ac.MaxRejectionPercent; v != nil {
		cfg.MaxRejectionProbability = &corev3.RuntimePercent{DefaultValue: &typev3.Percent{Value: float64(*v)}, RuntimeKey: "admission_control.max_rejection_probability"}
	}
	sc := &admissioncontrolv3.AdmissionControl_SuccessCriteria{}
	if len(ac.SuccessHTTPStatuses) > 0 {
		hc := &admissioncontrolv3.AdmissionControl_SuccessCriteria_HttpCriteria{}
		for _, s := range ac.SuccessHTTPStatuses {
			hc.HttpSuccessStatus = append(hc.HttpSuccessStatus, &typev3.Int32Range{Start: int32(s), End: int32(s) + 1})
		}
		sc.HttpCriteria = hc
	}
	if len(ac.SuccessGRPCStatuses) > 0 {
		sc.GrpcCriteria = &admissioncontrolv3.AdmissionControl_SuccessCriteria_GrpcCriteria{GrpcSuccessStatus: append([]uint32(nil), ac.SuccessGRPCStatuses...)}
	}
	cfg.EvaluationCriteria = &admissioncontrolv3.AdmissionControl_SuccessCriteria_{SuccessCriteria: sc}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: admissionControlName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}
