package xds

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	zstdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	otelsinkv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/stat_sinks/open_telemetry/v3"
	resdetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
)

// The bootstrap-level part of an EnvoyProxy. Envoy Gateway renders a
// bootstrap per proxy (admin, stats listener, stat sinks, stats matcher,
// its xDS cluster) and lets spec.bootstrap change it before the proxy
// starts; xDS resources come later over ADS. egctl builds the same kind of
// base bootstrap for both of its outputs, applies the patch there, so a
// patch written for Envoy Gateway means the same thing, and then either
// keeps ADS (the dynamic bootstrap of config dumps) or puts the xDS
// resources into static_resources instead (the static bootstrap).

// DefaultStatsPort is where the Prometheus stats listener listens, as in
// Envoy Gateway.
const DefaultStatsPort = 19001

const (
	promStatsCluster = "prometheus_stats"
	promStatsPath    = "/stats/prometheus"
)

// statsListenerName is Envoy Gateway's name for the stats listener.
func statsListenerName(addr string, port uint32) string {
	return fmt.Sprintf("envoy-gateway-proxy-stats-%s-%d", addr, port)
}

// addProxyBootstrap adds what s asks of the bootstrap itself: the
// Prometheus stats listener, stat sinks and their clusters, the stats
// matcher. Listeners and clusters go first in static_resources, as in
// Envoy Gateway's template, so JSON Patch indexes agree.
func addProxyBootstrap(bs *bootstrapv3.Bootstrap, s *ir.ProxySettings, bootClusters []*clusterv3.Cluster, statsPort uint32) error {
	if s == nil || s.Metrics == nil {
		return nil
	}
	m := s.Metrics
	static := bs.GetStaticResources()
	if static == nil {
		static = &bootstrapv3.Bootstrap_StaticResources{}
		bs.StaticResources = static
	}
	var clusters []*clusterv3.Cluster
	if m.Prometheus != nil {
		if statsPort == 0 {
			statsPort = DefaultStatsPort
		}
		l, c, err := prometheusListener(m.Prometheus, s.IPFamily, statsPort, bs.GetAdmin().GetAddress())
		if err != nil {
			return fmt.Errorf("stats listener: %w", err)
		}
		static.Listeners = append([]*listenerv3.Listener{l}, static.Listeners...)
		clusters = append(clusters, c)
	}
	for i, sink := range m.Sinks {
		cfg := &otelsinkv3.SinkConfig{
			ReportCountersAsDeltas:   sink.ReportCountersAsDeltas,
			ReportHistogramsAsDeltas: sink.ReportHistogramsAsDeltas,
		}
		svc, err := grpcService(sink.Service, sink.Headers)
		if err != nil {
			return fmt.Errorf("stat sink %d: %w", i, err)
		}
		cfg.ProtocolSpecifier = &otelsinkv3.SinkConfig_GrpcService{GrpcService: svc}
		if len(sink.ResourceAttributes) > 0 {
			attrs := map[string]string{}
			for _, h := range sink.ResourceAttributes {
				attrs[h.Name] = h.Value
			}
			a, err := toAny(&resdetv3.StaticConfigResourceDetectorConfig{Attributes: attrs})
			if err != nil {
				return err
			}
			cfg.ResourceDetectors = []*corev3.TypedExtensionConfig{{Name: "envoy.tracers.opentelemetry.resource_detectors.static_config", TypedConfig: a}}
		}
		a, err := toAny(cfg)
		if err != nil {
			return err
		}
		bs.StatsSinks = append(bs.StatsSinks, &metricsv3.StatsSink{Name: "envoy.stat_sinks.open_telemetry", ConfigType: &metricsv3.StatsSink_TypedConfig{TypedConfig: a}})
	}
	for _, c := range bootClusters {
		clusters = append(clusters, cloneOf(c))
	}
	static.Clusters = append(clusters, static.Clusters...)
	if len(m.Matches) > 0 {
		var pats []*matcherv3.StringMatcher
		for _, sm := range m.Matches {
			p := &matcherv3.StringMatcher{}
			switch sm.Type {
			case "Exact":
				p.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: sm.Value}
			case "Prefix":
				p.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: sm.Value}
			case "Suffix":
				p.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: sm.Value}
			case "RegularExpression":
				p.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: sm.Value}}
			default:
				return fmt.Errorf("stats matcher: unknown type %q", sm.Type)
			}
			pats = append(pats, p)
		}
		bs.StatsConfig = &metricsv3.StatsConfig{StatsMatcher: &metricsv3.StatsMatcher{
			StatsMatcher: &metricsv3.StatsMatcher_InclusionList{InclusionList: &matcherv3.ListStringMatcher{Patterns: pats}},
		}}
	}
	return nil
}

// prometheusListener serves /stats/prometheus (GET only) from the admin
// interface on its own port, so scrapers never reach the admin API.
func prometheusListener(p *ir.Prometheus, fam ir.IPFamily, port uint32, admin *corev3.Address) (*listenerv3.Listener, *clusterv3.Cluster, error) {
	addr := "0.0.0.0"
	if fam == ir.IPv6 || fam == ir.DualStack {
		addr = "::"
	}
	var filters []*hcmv3.HttpFilter
	if p.Compression != "" {
		var lib proto.Message
		switch p.Compression {
		case "Gzip":
			lib = &gzipv3.Gzip{}
		case "Brotli":
			lib = &brotliv3.Brotli{}
		case "Zstd":
			lib = &zstdv3.Zstd{}
		default:
			return nil, nil, fmt.Errorf("unknown compression %q", p.Compression)
		}
		la, err := toAny(lib)
		if err != nil {
			return nil, nil, err
		}
		ca, err := toAny(&compressorv3.Compressor{CompressorLibrary: &corev3.TypedExtensionConfig{Name: "text_optimized", TypedConfig: la}})
		if err != nil {
			return nil, nil, err
		}
		filters = append(filters, &hcmv3.HttpFilter{Name: "envoy.filters.http.compressor", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: ca}})
	}
	ra, err := toAny(&routerv3.Router{})
	if err != nil {
		return nil, nil, err
	}
	filters = append(filters, &hcmv3.HttpFilter{Name: routerFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: ra}})
	mgr := &hcmv3.HttpConnectionManager{
		StatPrefix:    "eg-stats-http",
		NormalizePath: wrapperspb.Bool(true),
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: "local_route",
			VirtualHosts: []*routev3.VirtualHost{{
				Name:    "prometheus_stats",
				Domains: []string{"*"},
				Routes: []*routev3.Route{{
					Match: &routev3.RouteMatch{
						PathSpecifier: &routev3.RouteMatch_Path{Path: promStatsPath},
						Headers: []*routev3.HeaderMatcher{{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
							StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}}}},
					},
					Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: promStatsCluster}}},
				}},
			}},
		}},
		HttpFilters: filters,
	}
	ma, err := toAny(mgr)
	if err != nil {
		return nil, nil, err
	}
	sa := socketAddress(addr, port)
	if addr == "::" {
		sa.GetSocketAddress().Ipv4Compat = true
	}
	l := &listenerv3.Listener{
		Name:                  statsListenerName(addr, port),
		Address:               sa,
		BypassOverloadManager: true,
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: ma},
		}}}},
	}
	if admin == nil {
		admin = socketAddress(DefaultAdminAddress, DefaultAdminPort)
	}
	c := &clusterv3.Cluster{
		Name:                 promStatsCluster,
		ConnectTimeout:       durationpb.New(250 * time.Millisecond),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: promStatsCluster,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: cloneOf(admin)}},
			}}}},
		},
	}
	return l, c, nil
}

// applyBootstrapPatch applies an EnvoyProxy's spec.bootstrap to base (the
// bootstrap before xDS content) and returns the result. JSON Patch paths
// are read against the bootstrap in proto field names (snake_case), as in
// Envoy Gateway's YAML template.
func applyBootstrapPatch(base *bootstrapv3.Bootstrap, p *ir.BootstrapPatch) (*bootstrapv3.Bootstrap, error) {
	if p == nil {
		return base, nil
	}
	var out *bootstrapv3.Bootstrap
	switch p.Type {
	case ir.BootstrapMerge:
		src, err := bootstrapFromYAML(p.Value)
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		out = cloneOf(base)
		proto.Merge(out, src)
	case ir.BootstrapReplace:
		src, err := bootstrapFromYAML(p.Value)
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		out = src
	case ir.BootstrapJSONPatch:
		doc, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(base)
		if err != nil {
			return nil, err
		}
		for i, op := range p.JSONPatches {
			one, err := json.Marshal([]map[string]any{jsonPatchOp(op)})
			if err != nil {
				return nil, err
			}
			patch, err := jsonpatch.DecodePatch(one)
			if err != nil {
				return nil, fmt.Errorf("jsonPatches[%d]: %w", i, err)
			}
			if doc, err = patch.Apply(doc); err != nil {
				return nil, fmt.Errorf("jsonPatches[%d] (%s %s): %w", i, op.Op, op.Path, err)
			}
		}
		out = &bootstrapv3.Bootstrap{}
		if err := protojson.Unmarshal(doc, out); err != nil {
			return nil, fmt.Errorf("the patched bootstrap is not a bootstrap: %w", stableProtoErr(err))
		}
	default:
		return nil, fmt.Errorf("unknown type %q", p.Type)
	}
	if err := checkXDSUnchanged(base, out); err != nil {
		return nil, err
	}
	if err := out.ValidateAll(); err != nil {
		return nil, fmt.Errorf("the result is not a valid bootstrap: %w", err)
	}
	return out, nil
}

func jsonPatchOp(op ir.BootstrapPatchOp) map[string]any {
	m := map[string]any{"op": op.Op, "path": op.Path}
	if op.From != "" {
		m["from"] = op.From
	}
	if op.Value != nil {
		m["value"] = op.Value
	}
	return m
}

func bootstrapFromYAML(y string) (*bootstrapv3.Bootstrap, error) {
	js, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		return nil, err
	}
	bs := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, bs); err != nil {
		err = stableProtoErr(err)
		if strings.Contains(err.Error(), "unable to resolve") {
			return nil, fmt.Errorf("%w (an extension type egctl does not know; it cannot check or place it)", err)
		}
		return nil, err
	}
	return bs, nil
}

// stableProtoErr returns err with the protobuf runtime's deliberate
// instability removed: its messages put a no-break space instead of a space
// after "proto:" in some builds (chosen from a hash of the binary, so that
// nobody depends on the text), which would make the same input's problem
// text differ between egctl builds.
func stableProtoErr(err error) error {
	if err == nil || !strings.ContainsRune(err.Error(), '\u00a0') {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\u00a0", " "))
}

// checkXDSUnchanged refuses a patch that changes how configuration
// arrives, with Envoy Gateway's rule: the result must still have
// dynamic_resources fetching over ADS from xds_cluster, and xds_cluster
// with its endpoints. Either form is accepted: egctl's own (what Merge
// and JSONPatch leave alone) or Envoy Gateway's (what a Replace value
// copied from its bootstrap has). egctl then puts its own back (or takes
// them out, for a static bootstrap).
func checkXDSUnchanged(base, out *bootstrapv3.Bootstrap) error {
	dr := out.GetDynamicResources()
	if dr == nil || !(sameDynamic(dr, base.GetDynamicResources()) || sameDynamic(dr, egDynamicResources())) {
		return fmt.Errorf("dynamic_resources cannot be modified: listeners and clusters come over ADS from %s", XDSClusterName)
	}
	var want, got *clusterv3.Cluster
	for _, c := range base.GetStaticResources().GetClusters() {
		if c.GetName() == XDSClusterName {
			want = c
		}
	}
	for _, c := range out.GetStaticResources().GetClusters() {
		if c.GetName() == XDSClusterName {
			got = c
		}
	}
	canonical := fmt.Sprintf("%s:%d", defaultXDSHost, defaultXDSPort)
	if got == nil || !(sameEndpoints(got.GetLoadAssignment(), want.GetLoadAssignment()) || endpointList(got.GetLoadAssignment()) == canonical) {
		return fmt.Errorf("%s's load_assignment cannot be modified", XDSClusterName)
	}
	return nil
}

// egDynamicResources is Envoy Gateway's dynamic_resources.
func egDynamicResources() *bootstrapv3.Bootstrap_DynamicResources {
	ads := func() *corev3.ConfigSource {
		return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	}
	return &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:             corev3.ApiConfigSource_DELTA_GRPC,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName}}}},
			SetNodeOnFirstMessageOnly: true,
		},
		LdsConfig: ads(),
		CdsConfig: ads(),
	}
}

// sameDynamic compares dynamic_resources, ignoring initial_fetch_timeout
// (Envoy Gateway's rule).
func sameDynamic(a, b *bootstrapv3.Bootstrap_DynamicResources) bool {
	if a == nil || b == nil {
		return a == b
	}
	a, b = cloneOf(a), cloneOf(b)
	for _, d := range []*bootstrapv3.Bootstrap_DynamicResources{a, b} {
		for _, cs := range []*corev3.ConfigSource{d.GetLdsConfig(), d.GetCdsConfig()} {
			if cs != nil {
				cs.InitialFetchTimeout = nil
			}
		}
	}
	return proto.Equal(a, b)
}

// sameEndpoints compares the addresses of two load assignments, ignoring
// weights and localities (Envoy Gateway's template spells weights out).
func sameEndpoints(a, b *endpointv3.ClusterLoadAssignment) bool {
	return endpointList(a) == endpointList(b)
}

func endpointList(c *endpointv3.ClusterLoadAssignment) string {
	var s []string
	for _, l := range c.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			s = append(s, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
		}
	}
	return strings.Join(s, ",")
}

// withoutXDS removes what only a dynamic bootstrap has (the ADS config and
// the cluster to the control plane), for a static bootstrap.
func withoutXDS(bs *bootstrapv3.Bootstrap) {
	bs.DynamicResources = nil
	if st := bs.GetStaticResources(); st != nil {
		kept := st.Clusters[:0]
		for _, c := range st.Clusters {
			if c.GetName() != XDSClusterName {
				kept = append(kept, c)
			}
		}
		st.Clusters = kept
	}
}

// withXDS puts egctl's own ADS config and xDS cluster back after a patch
// (checkXDSUnchanged made sure the patch meant the same).
func withXDS(bs, base *bootstrapv3.Bootstrap) {
	bs.DynamicResources = base.GetDynamicResources()
	withoutXDS(bs)
	bs.DynamicResources = base.GetDynamicResources()
	for _, c := range base.GetStaticResources().GetClusters() {
		if c.GetName() == XDSClusterName {
			if bs.StaticResources == nil {
				bs.StaticResources = &bootstrapv3.Bootstrap_StaticResources{}
			}
			bs.StaticResources.Clusters = append(bs.StaticResources.Clusters, c)
		}
	}
}

// keepNode gives a patched bootstrap egctl's node identity when the patch
// left it out (Envoy Gateway passes it on the command line).
func keepNode(bs *bootstrapv3.Bootstrap, node *corev3.Node) {
	if bs.Node == nil {
		bs.Node = cloneOf(node)
		return
	}
	if bs.Node.Id == "" {
		bs.Node.Id = node.GetId()
	}
	if bs.Node.Cluster == "" {
		bs.Node.Cluster = node.GetCluster()
	}
}
