package xds

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// Defaults for the admin interface: loopback only, Envoy's usual port.
const (
	DefaultAdminAddress = "127.0.0.1"
	DefaultAdminPort    = 19000
	// XDSClusterName is the cluster a dynamic bootstrap reaches the
	// management server through.
	XDSClusterName = "xds_cluster"
)

// BootstrapOptions configures StaticBootstrap.
type BootstrapOptions struct {
	AdminAddress string // default 127.0.0.1
	AdminPort    uint32 // default 19000
	// StatsPort is the Prometheus stats listener's port when the proxy's
	// EnvoyProxy (or Envoy Gateway's defaults) asks for one; default
	// DefaultStatsPort.
	StatsPort uint32
	// InPlace lets StaticBootstrap change r's resources and put them in
	// the bootstrap as they are, instead of copying each: for a caller
	// that does not use r again. Copying was a third of the time of
	// `egctl x translate --to bootstrap` at 10,000 routes.
	InPlace bool
}

func adminConfig(addr string, port uint32) *bootstrapv3.Admin {
	if addr == "" {
		addr = DefaultAdminAddress
	}
	if port == 0 {
		port = DefaultAdminPort
	}
	return &bootstrapv3.Admin{Address: socketAddress(addr, port)}
}

// StaticBootstrap returns one bootstrap holding all of r in
// static_resources: route configurations inlined in their HCMs, EDS
// clusters turned STATIC with their assignment inlined, secrets as static
// secrets referenced by name from the TLS contexts.
func StaticBootstrap(r *Resources, o BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	return staticBootstrap(r, o, func(m proto.Message) (*anypb.Any, error) { return toAny(m) })
}

// BootstrapView is a static bootstrap for printing: its HTTP connection
// managers, which hold every route of their listener, are not packed into
// their Anys but kept aside (as a DumpView keeps resources), so that
// printing does not marshal each into bytes only to unmarshal it again,
// which was a third of the time of `egctl x translate --to bootstrap`.
type BootstrapView struct {
	boot *bootstrapv3.Bootstrap
	anys *anyIndex
}

// StaticBootstrapView is StaticBootstrap for printing (WriteYAML) or, with
// Proto, for anything else.
func StaticBootstrapView(r *Resources, o BootstrapOptions) (*BootstrapView, error) {
	idx := &anyIndex{m: map[*anypb.Any]*packedAny{}, deep: true}
	bs, err := staticBootstrap(r, o, func(m proto.Message) (*anypb.Any, error) {
		// Checked as toAny checks what it packs.
		if v, ok := m.(validator); ok {
			if err := v.ValidateAll(); err != nil {
				return nil, fmt.Errorf("invalid %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
			}
		}
		a := &anypb.Any{TypeUrl: anyURLPrefix + string(m.ProtoReflect().Descriptor().FullName())}
		idx.m[a] = &packedAny{msg: m, size: -1}
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	return &BootstrapView{boot: bs, anys: idx}, nil
}

// WriteYAML writes the bootstrap as xds.WriteYAML writes StaticBootstrap's.
func (v *BootstrapView) WriteYAML(w io.Writer) error {
	var units []*yamlUnit
	root := planYAML(v.anys, v.boot, 0, false, true, 0, &units)
	defer renderUnits(units)()
	return root.writeTo(w)
}

// Proto packs the kept-aside messages into their Anys and returns the
// bootstrap StaticBootstrap gives. The view prints the same after.
func (v *BootstrapView) Proto() (*bootstrapv3.Bootstrap, error) {
	for a, p := range v.anys.m {
		if len(a.Value) > 0 {
			continue
		}
		b, err := proto.Marshal(p.msg) // as anypb.New marshals
		if err != nil {
			return nil, err
		}
		a.Value = b
	}
	return v.boot, nil
}

func staticBootstrap(r *Resources, o BootstrapOptions, pack func(proto.Message) (*anypb.Any, error)) (*bootstrapv3.Bootstrap, error) {
	if r == nil {
		return nil, errors.New("xds: StaticBootstrap: nil Resources")
	}
	routes := make(map[string]*routev3.RouteConfiguration, len(r.Routes))
	for _, rc := range r.Routes {
		routes[rc.GetName()] = rc
	}
	cla := make(map[string]*endpointv3.ClusterLoadAssignment, len(r.Endpoints))
	for _, e := range r.Endpoints {
		cla[e.GetClusterName()] = e
	}
	// The base comes first: a bootstrap patch sees the resources as the
	// translator made them, before InPlace changes them.
	bs, err := staticBase(r, o)
	if err != nil {
		return nil, fmt.Errorf("xds: StaticBootstrap %s: %w", r.Name, err)
	}
	static := bs.StaticResources
	// Clusters the proxy's settings put in the bootstrap (metric sinks)
	// name their TLS secrets statically too.
	for _, c := range static.Clusters {
		if err := staticUpstreamTLS(c); err != nil { // upstream_tls.go
			return nil, fmt.Errorf("xds: StaticBootstrap %s: %w", r.Name, err)
		}
	}
	own := cloneOf[proto.Message]
	if o.InPlace {
		own = func(m proto.Message) proto.Message { return m }
	}
	// A route configuration two listeners name is changed once and copied
	// for the second.
	inlined := map[string]bool{}
	for _, l := range r.Listeners {
		sl, err := staticListener(own(l).(*listenerv3.Listener), routes, own, inlined, pack)
		if err != nil {
			return nil, fmt.Errorf("xds: StaticBootstrap %s: listener %q: %w", r.Name, l.GetName(), err)
		}
		static.Listeners = append(static.Listeners, sl)
	}
	for _, c := range r.Clusters {
		sc := staticCopy(own(c).(*clusterv3.Cluster), cla[c.GetName()], own)
		if err := staticUpstreamTLS(sc); err != nil { // upstream_tls.go
			return nil, fmt.Errorf("xds: StaticBootstrap %s: %w", r.Name, err)
		}
		if err := staticClusterCredentials(sc); err != nil { // httproutefilter.go
			return nil, fmt.Errorf("xds: StaticBootstrap %s: %w", r.Name, err)
		}
		static.Clusters = append(static.Clusters, sc)
	}
	for _, s := range r.Secrets {
		static.Secrets = append(static.Secrets, own(s).(*tlsv3.Secret))
	}
	if err := bs.ValidateAll(); err != nil {
		return nil, fmt.Errorf("xds: StaticBootstrap %s: %w", r.Name, err)
	}
	return bs, nil
}

// staticBase is the static bootstrap before the xDS resources go in: node
// and admin, plus what the proxy's EnvoyProxy asks of the bootstrap
// (bootstrap_envoyproxy.go). A bootstrap patch applies to the dynamic
// bootstrap's shape, as Envoy Gateway's does, whose ADS parts are then
// taken out again.
func staticBase(r *Resources, o BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	node := &corev3.Node{Id: r.Name, Cluster: r.Name}
	bs := &bootstrapv3.Bootstrap{Node: node, Admin: adminConfig(o.AdminAddress, o.AdminPort)}
	s := r.settings
	if s == nil {
		bs.StaticResources = &bootstrapv3.Bootstrap_StaticResources{}
		return bs, nil
	}
	if s.Bootstrap != nil {
		dyn, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: r.Name, XDSHost: defaultXDSHost, XDSPort: defaultXDSPort,
			AdminAddress: o.AdminAddress, AdminPort: o.AdminPort, StatsPort: o.StatsPort, Resources: r})
		if err != nil {
			return nil, err
		}
		withoutXDS(dyn)
		if dyn.StaticResources == nil {
			dyn.StaticResources = &bootstrapv3.Bootstrap_StaticResources{}
		}
		return dyn, nil
	}
	bs.StaticResources = &bootstrapv3.Bootstrap_StaticResources{}
	if err := addProxyBootstrap(bs, s, r.bootClusters, o.StatsPort); err != nil {
		return nil, err
	}
	return bs, nil
}

// Where the dynamic bootstrap that bootstrap patches see points: Envoy
// Gateway's control plane, as in its own template.
const (
	defaultXDSHost = "envoy-gateway"
	defaultXDSPort = 18000
)

// CheckBootstrapPatch applies p to a representative dynamic bootstrap and
// reports why it cannot be applied; translate uses it to refuse an
// EnvoyProxy whose bootstrap patch is broken, as Envoy Gateway does.
func CheckBootstrapPatch(p *ir.BootstrapPatch) error {
	base, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: "check", XDSHost: defaultXDSHost, XDSPort: defaultXDSPort})
	if err != nil {
		return err
	}
	_, err = applyBootstrapPatch(base, p)
	return err
}

// staticListener changes l (a copy, or the resource itself with InPlace:
// own tells) so that every HCM holds its route configuration instead of an
// RDS reference and every SDS reference is static.
//
// pack packs each HCM into its Any (a BootstrapView keeps them aside).
func staticListener(out *listenerv3.Listener, routes map[string]*routev3.RouteConfiguration, own func(proto.Message) proto.Message, inlined map[string]bool, pack func(proto.Message) (*anypb.Any, error)) (*listenerv3.Listener, error) {
	chains := append([]*listenerv3.FilterChain(nil), out.FilterChains...)
	if out.DefaultFilterChain != nil {
		chains = append(chains, out.DefaultFilterChain)
	}
	for _, fc := range chains {
		for _, f := range fc.Filters {
			if f.GetName() != hcmFilterName {
				continue
			}
			hcm := &hcmv3.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
				return nil, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
			}
			if rds := hcm.GetRds(); rds != nil {
				rc, ok := routes[rds.GetRouteConfigName()]
				if !ok {
					return nil, fmt.Errorf("filter chain %q: route configuration %q not found", fc.GetName(), rds.GetRouteConfigName())
				}
				// The first listener to inline a route configuration takes
				// it (own: itself in place, a copy otherwise); the next
				// ones a copy. Not a copy made for each and dropped: at
				// 10,000 routes that is every route and per-route config.
				var src *routev3.RouteConfiguration
				if !inlined[rc.GetName()] {
					src = own(rc).(*routev3.RouteConfiguration)
					inlined[rc.GetName()] = true
				} else {
					src = cloneOf(rc)
				}
				if err := staticRouteFeatures(src); err != nil { // features.go
					return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
				}
				hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: src}
			}
			if err := staticHTTPFilterFeatures(hcm); err != nil { // features.go
				return nil, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
			}
			a, err := pack(hcm)
			if err != nil {
				return nil, err
			}
			f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
		}
		if ts := fc.GetTransportSocket(); ts != nil && ts.GetName() == tlsTransportSocketName {
			ctx := &tlsv3.DownstreamTlsContext{}
			if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
				return nil, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
			}
			// A SdsSecretConfig without sds_config names a static secret.
			staticDownstreamTLS(ctx) // downstream_validation.go
			a, err := toAny(ctx)
			if err != nil {
				return nil, err
			}
			ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
		}
		if ts := fc.GetTransportSocket(); ts != nil && ts.GetName() == quicTransportSocketName {
			if err := staticQUIC(ts); err != nil { // client_http3.go
				return nil, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
			}
		}
	}
	return out, nil
}

// DynamicBootstrapOptions configures DynamicBootstrap.
type DynamicBootstrapOptions struct {
	// NodeID and NodeCluster identify the proxy to the management server
	// (egctl uses the proxy name "ns/gateway" for both).
	NodeID      string
	NodeCluster string
	// XDSHost and XDSPort locate the management server (gRPC, plaintext
	// HTTP/2). XDSHost may be an IP or a DNS name.
	XDSHost string
	XDSPort uint32
	// Delta selects the incremental ADS protocol instead of state of the world.
	Delta bool
	// TLS, when set, reaches the server over mutual TLS.
	TLS          *XDSClientTLS
	AdminAddress string // default 127.0.0.1
	AdminPort    uint32 // default 19000
	// Resources, when set, are the proxy's: its EnvoyProxy's bootstrap
	// settings (stats listener, stat sinks, bootstrap patch) apply.
	Resources *Resources
	// StatsPort: see BootstrapOptions.
	StatsPort uint32
}

// DynamicBootstrap returns a bootstrap that gets listeners and clusters (and
// through them routes, endpoints and secrets) over ADS from the cluster
// "xds_cluster".
func DynamicBootstrap(o DynamicBootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	if o.NodeID == "" {
		return nil, errors.New("xds: DynamicBootstrap: empty NodeID")
	}
	if o.XDSHost == "" || o.XDSPort == 0 || o.XDSPort > 65535 {
		return nil, fmt.Errorf("xds: DynamicBootstrap: invalid xDS server address %q port %d", o.XDSHost, o.XDSPort)
	}
	cluster := o.NodeCluster
	if cluster == "" {
		cluster = o.NodeID
	}
	apiType := corev3.ApiConfigSource_GRPC
	if o.Delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	h2, err := toAny(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	discovery := clusterv3.Cluster_STRICT_DNS
	if net.ParseIP(o.XDSHost) != nil {
		discovery = clusterv3.Cluster_STATIC
	}
	xdsCluster := &clusterv3.Cluster{
		Name:                 XDSClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:       durationpb.New(time.Second),
		DnsLookupFamily:      clusterv3.Cluster_V4_PREFERRED,
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: socketAddress(o.XDSHost, o.XDSPort),
				}},
			}}}},
		},
		TypedExtensionProtocolOptions: map[string]*anyMsg{httpProtocolOptionsKey: h2},
	}
	if err := setXDSClientTLS(xdsCluster, o.TLS); err != nil { // bootstrap_xdstls.go
		return nil, fmt.Errorf("xds: DynamicBootstrap: %w", err)
	}
	bs := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: o.NodeID, Cluster: cluster},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             apiType,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName}},
				}},
				SetNodeOnFirstMessageOnly: true,
			},
			LdsConfig: adsConfigSource(),
			CdsConfig: adsConfigSource(),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xdsCluster}},
		Admin:           adminConfig(o.AdminAddress, o.AdminPort),
	}
	if r := o.Resources; r != nil && r.settings != nil {
		if err := addProxyBootstrap(bs, r.settings, r.bootClusters, o.StatsPort); err != nil {
			return nil, fmt.Errorf("xds: DynamicBootstrap %s: %w", r.Name, err)
		}
		if p := r.settings.Bootstrap; p != nil {
			patched, err := applyBootstrapPatch(bs, p)
			if err != nil {
				return nil, fmt.Errorf("xds: DynamicBootstrap %s: bootstrap patch: %w", r.Name, err)
			}
			keepNode(patched, bs.Node)
			withXDS(patched, bs)
			bs = patched
		}
	}
	if err := bs.ValidateAll(); err != nil {
		return nil, fmt.Errorf("xds: DynamicBootstrap: %w", err)
	}
	return bs, nil
}
