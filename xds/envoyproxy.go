package xds

import (
	"fmt"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcstatsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	hcfilev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/health_check/event_sinks/file/v3"
	uuidv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// An EnvoyProxy's settings (ir.ProxySettings) as Envoy spells them, per
// proxy: listener address family, access logs (accesslog.go), tracing
// (tracing.go), stats (metrics.go), the request ID extension and health
// check event logs. What lives in the bootstrap (stats listener, stat
// sinks, bootstrap patches) is in bootstrap_envoyproxy.go. Every proto is
// built once per proxy and shared by the resources that use it.

// proxyState holds what is built once per proxy from its settings.
type proxyState struct {
	logs      map[ir.AccessLogType][]*accesslogv3.AccessLog
	tracing   *hcmv3.HttpConnectionManager_Tracing
	requestID *hcmv3.RequestIDExtension
	routers   map[*anyMsg]*hcmv3.HttpFilter
	grpcStats *hcmv3.HttpFilter
	hcLogger  []*corev3.TypedExtensionConfig
	// trackStats is shared by every cluster; statName is the parsed
	// clusterStatName pattern.
	trackStats *clusterv3.TrackClusterStats
	statName   []statPart
	err        error
}

const grpcStatsFilterName = "envoy.filters.http.grpc_stats"

func init() {
	register(&feature{
		name:          "envoyproxy",
		httpFilters:   epHTTPFilters,
		patchHCM:      epPatchHCM,
		patchTCPRoute: epPatchTCPRoute,
		patchUDPRoute: epPatchUDPRoute,
		patchCluster:  epPatchCluster,
		patchListener: epPatchListener,
		resources:     epResources,
		finish:        epFinish,
	})
}

// settings returns the proxy's EnvoyProxy settings, nil when it has none.
func (b *builder) settings() *ir.ProxySettings {
	if b.proxy == nil {
		return nil
	}
	return b.proxy.Settings
}

// ep returns the per-proxy state, building it on first use.
func (b *builder) epState() (*proxyState, error) {
	if b.ep != nil {
		return b.ep, b.ep.err
	}
	st := &proxyState{routers: map[*anyMsg]*hcmv3.HttpFilter{}}
	b.ep = st
	s := b.settings()
	if s == nil {
		return st, nil
	}
	if err := st.build(s); err != nil {
		st.err = err
	}
	return st, st.err
}

func (st *proxyState) build(s *ir.ProxySettings) error {
	var err error
	if s.AccessLog != nil {
		st.logs = map[ir.AccessLogType][]*accesslogv3.AccessLog{}
		for _, where := range []ir.AccessLogType{ir.AccessLogListener, ir.AccessLogRoute, ir.AccessLogUpstream} {
			if st.logs[where], err = buildAccessLogs(s.AccessLog, where); err != nil {
				return fmt.Errorf("access log: %w", err)
			}
		}
	}
	if s.Tracing != nil {
		if st.tracing, err = buildTracing(s.Tracing); err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
	}
	if s.RequestID != "" && s.RequestID != ir.RequestIDPackAndSample {
		cfg := &uuidv3.UuidRequestIdConfig{
			PackTraceReason:              wrapperspb.Bool(s.RequestID == ir.RequestIDPack),
			UseRequestIdForTraceSampling: wrapperspb.Bool(s.RequestID == ir.RequestIDSample),
		}
		a, err := toAny(cfg)
		if err != nil {
			return err
		}
		st.requestID = &hcmv3.RequestIDExtension{TypedConfig: a}
	}
	if m := s.Metrics; m != nil {
		if m.PerEndpointStats || m.RequestResponseSizes {
			st.trackStats = &clusterv3.TrackClusterStats{PerEndpointStats: m.PerEndpointStats, RequestResponseSizes: m.RequestResponseSizes}
		}
		st.statName = parseStatName(m.ClusterStatName)
	}
	if h := s.HealthCheckLog; h != nil {
		for _, p := range h.Paths {
			a, err := toAny(&hcfilev3.HealthCheckEventFileSink{EventLogPath: p})
			if err != nil {
				return err
			}
			st.hcLogger = append(st.hcLogger, &corev3.TypedExtensionConfig{Name: "envoy.health_check.event_sink.file", TypedConfig: a})
		}
	}
	return nil
}

func epHTTPFilters(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	if !grpcStatsOn(b.settings(), h) {
		return nil, nil
	}
	st, err := b.epState()
	if err != nil {
		return nil, err
	}
	if st.grpcStats == nil {
		// Envoy Gateway's filter: per-method stats for every method and
		// the filter state access logs read.
		a, err := toAny(&grpcstatsv3.FilterConfig{
			EmitFilterState:        true,
			PerMethodStatSpecifier: &grpcstatsv3.FilterConfig_StatsForAllMethods{StatsForAllMethods: wrapperspb.Bool(true)},
		})
		if err != nil {
			return nil, err
		}
		st.grpcStats = &hcmv3.HttpFilter{Name: grpcStatsFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}
	}
	return []*hcmv3.HttpFilter{st.grpcStats}, nil
}

// grpcStatsOn: EnvoyProxy telemetry.metrics.enableGRPCStats when it is
// set; otherwise on for the listeners that serve a GRPCRoute, which the
// API documents as the default ("enabled by default for GRPCRoute").
func grpcStatsOn(s *ir.ProxySettings, h *hcmBuild) bool {
	if s != nil && s.Metrics != nil && s.Metrics.GRPCStatsSet {
		return s.Metrics.GRPCStats
	}
	return h.anyRoute(isGRPCRoute)
}

// isGRPCRoute: the route comes from a GRPCRoute.
func isGRPCRoute(r *ir.HTTPRoute) bool {
	return r.Metadata != nil && r.Metadata.Kind == "GRPCRoute"
}

func epPatchHCM(b *builder, _ *hcmBuild, mgr *hcmv3.HttpConnectionManager) error {
	if b.settings() == nil {
		return nil
	}
	st, err := b.epState()
	if err != nil {
		return err
	}
	mgr.AccessLog = st.logs[ir.AccessLogRoute]
	mgr.Tracing = st.tracing
	mgr.RequestIdExtension = st.requestID
	if up := st.logs[ir.AccessLogUpstream]; len(up) > 0 {
		for i, f := range mgr.HttpFilters {
			if f.GetName() != routerFilterName {
				continue
			}
			nf, err := st.routerWithUpstreamLog(f, up)
			if err != nil {
				return err
			}
			mgr.HttpFilters[i] = nf
		}
	}
	return nil
}

func epPatchTCPRoute(b *builder, _ *ir.TCPListener, _ *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
	if s := b.settings(); s == nil || s.AccessLog == nil {
		return nil, nil
	}
	st, err := b.epState()
	if err != nil {
		return nil, err
	}
	tp.AccessLog = st.logs[ir.AccessLogRoute]
	return nil, nil
}

func epPatchUDPRoute(b *builder, _ *ir.UDPListener, _ *ir.UDPRoute, up *udpproxyv3.UdpProxyConfig) error {
	if s := b.settings(); s == nil || s.AccessLog == nil {
		return nil
	}
	st, err := b.epState()
	if err != nil {
		return err
	}
	up.AccessLog = st.logs[ir.AccessLogRoute]
	return nil
}

// epPatchListener makes an IPv6 wildcard listener accept IPv4 too for
// DualStack, and adds the listener access logs (with the no-route filter
// for logs not typed Listener, as Envoy Gateway does: the HCM logs every
// request a route matched).
func epPatchListener(b *builder, l *listenerv3.Listener, _ []*ir.HTTPListener, _ []*ir.TCPListener, _ []*ir.UDPListener) error {
	s := b.settings()
	if s == nil {
		return nil
	}
	if s.IPFamily == ir.DualStack {
		if sa := l.GetAddress().GetSocketAddress(); sa != nil && sa.GetAddress() == "::" {
			sa.Ipv4Compat = true
		}
	}
	if s.AccessLog != nil {
		st, err := b.epState()
		if err != nil {
			return err
		}
		l.AccessLog = st.logs[ir.AccessLogListener]
	}
	return nil
}

// epPatchCluster: DNS resolution follows the proxy's address family, and
// the cluster stats the EnvoyProxy asks for. Clusters of the proxy's own
// collectors are named by Envoy Gateway's conventions and keep theirs.
func epPatchCluster(b *builder, d *ir.RouteDestination, _ []*ir.Backend, c *clusterv3.Cluster) error {
	s := b.settings()
	if s == nil {
		return nil
	}
	if c.GetType() == clusterv3.Cluster_STRICT_DNS || c.GetType() == clusterv3.Cluster_LOGICAL_DNS {
		switch s.IPFamily {
		case ir.IPv6:
			c.DnsLookupFamily = clusterv3.Cluster_V6_ONLY
		case ir.DualStack:
			c.DnsLookupFamily = clusterv3.Cluster_ALL
		}
	}
	if s.Metrics == nil {
		return nil
	}
	st, err := b.epState()
	if err != nil {
		return err
	}
	c.TrackClusterStats = st.trackStats
	if len(st.statName) > 0 && d != nil && d.Metadata != nil && isRouteKind(d.Metadata.Kind) {
		c.AltStatName = clusterStatName(st.statName, d)
	}
	return nil
}

func isRouteKind(k string) bool {
	switch k {
	case "HTTPRoute", "GRPCRoute":
		return true
	}
	return false
}

// statPart is a literal of a clusterStatName pattern, or one of its
// operators ("%ROUTE_NAME%" …).
type statPart struct {
	text string
	op   bool
}

// parseStatName splits a pattern once per proxy; filling it in is then a
// concatenation per cluster.
func parseStatName(pattern string) []statPart {
	var out []statPart
	for pattern != "" {
		i := strings.IndexByte(pattern, '%')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(pattern[i+1:], '%')
		}
		if i < 0 || j < 0 {
			return append(out, statPart{text: pattern})
		}
		if i > 0 {
			out = append(out, statPart{text: pattern[:i]})
		}
		out = append(out, statPart{text: pattern[i : i+j+2], op: true})
		pattern = pattern[i+j+2:]
	}
	return out
}

// clusterStatName fills the operators of an alt_stat_name pattern for the
// cluster of destination d ("httproute/ns/name/rule/I").
func clusterStatName(parts []statPart, d *ir.RouteDestination) string {
	md := d.Metadata
	var sb strings.Builder
	for _, p := range parts {
		if !p.op {
			sb.WriteString(p.text)
			continue
		}
		switch p.text {
		case "%ROUTE_KIND%":
			sb.WriteString(strings.ToLower(md.Kind))
		case "%ROUTE_NAMESPACE%":
			sb.WriteString(md.Namespace)
		case "%ROUTE_NAME%":
			sb.WriteString(md.Name)
		case "%ROUTE_RULE_NAME%":
			sb.WriteString(md.SectionName)
		case "%ROUTE_RULE_NUMBER%":
			if i := strings.LastIndex(d.Name, "/rule/"); i >= 0 {
				sb.WriteString(d.Name[i+len("/rule/"):])
			}
		case "%BACKEND_REFS%":
			for i, be := range d.Backends {
				if be.Metadata == nil {
					continue
				}
				if i > 0 {
					sb.WriteByte('|')
				}
				sb.WriteString(be.Metadata.Namespace + "/" + be.Metadata.Name)
			}
		default:
			sb.WriteString(p.text)
		}
	}
	return sb.String()
}

// epResources adds the collectors' clusters: tracing and access log
// clusters are xDS clusters as any other; stat sink clusters go into the
// bootstrap (stat sinks start before xDS arrives).
func epResources(b *builder, p *ir.Proxy) error {
	s := p.Settings
	if s == nil {
		return nil
	}
	if _, err := b.epState(); err != nil {
		return err
	}
	add := func(svc *ir.TelemetryService) error {
		if svc == nil || svc.Destination == nil {
			return fmt.Errorf("collector without a destination")
		}
		return b.addCluster(svc.Destination, svc.Destination.Name, svc.Destination.Backends)
	}
	if s.Tracing != nil {
		if err := add(s.Tracing.Service); err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
	}
	if s.AccessLog != nil {
		for i, e := range s.AccessLog.Entries {
			var err error
			switch {
			case e.OpenTelemetry != nil:
				err = add(e.OpenTelemetry.Service)
			case e.ALS != nil:
				err = add(e.ALS.Service)
			}
			if err != nil {
				return fmt.Errorf("access log %d: %w", i, err)
			}
		}
	}
	if s.Metrics != nil {
		for i, m := range s.Metrics.Sinks {
			if err := add(m.Service); err != nil {
				return fmt.Errorf("metric sink %d: %w", i, err)
			}
			// Moved to the bootstrap.
			name := m.Service.Destination.Name
			b.res.bootClusters = append(b.res.bootClusters, staticCopy(cloneOf(b.clusters[name]), b.endpoints[name], cloneOf[proto.Message]))
			delete(b.clusters, name)
			delete(b.endpoints, name)
		}
	}
	return nil
}

// epFinish: virtual host stats on every virtual host, and health check
// event logs on every cluster with health checks (whoever added them).
func epFinish(b *builder, p *ir.Proxy) error {
	s := p.Settings
	if s == nil {
		return nil
	}
	st, err := b.epState()
	if err != nil {
		return err
	}
	if s.Metrics != nil && s.Metrics.VirtualHostStats {
		for _, rc := range b.res.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				addVirtualHostStats(vh)
			}
		}
	}
	if h := s.HealthCheckLog; h != nil {
		for _, c := range b.res.Clusters {
			for _, hc := range c.GetHealthChecks() {
				hc.EventLogger = st.hcLogger
				hc.AlwaysLogHealthCheckFailures = h.AlwaysLogFailures
				hc.AlwaysLogHealthCheckSuccess = h.AlwaysLogSuccess
			}
		}
	}
	return nil
}

// addVirtualHostStats counts the requests of a virtual host by its
// hostname, as Envoy Gateway does.
func addVirtualHostStats(vh *routev3.VirtualHost) {
	if len(vh.GetDomains()) == 0 {
		return
	}
	host := vh.Domains[0]
	hm := &routev3.HeaderMatcher{Name: ":authority"}
	switch {
	case host == "*":
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
	case strings.HasPrefix(host, "*."):
		// The authority may carry a port: the suffix is matched anywhere.
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Contains{Contains: host[1:]}}}
	default:
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: host}}}
	}
	vh.VirtualClusters = []*routev3.VirtualCluster{{Name: strings.ReplaceAll(host, ".", "_"), Headers: []*routev3.HeaderMatcher{hm}}}
}
