package xds

import (
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commondnsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/common/dns/v3"
	dnsclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Envoy Gateway's defaults (ir.Defaults): what it configures on every proxy
// where the input says nothing, so that egctl's xDS is Envoy Gateway's
// resource for resource. They are filled in after every feature has built
// and patched its resources (a policy that sets one of these fields wins)
// and before EnvoyPatchPolicies run (which see what Envoy Gateway's see).
// A proxy without Defaults gets egctl's lean output.
//
//   - a readiness listener (the port Envoy Gateway's readiness probe asks);
//   - on every cluster: circuit breakers allowing 1024 concurrent retries
//     (Envoy's default is 3, which a burst of retries on a busy route
//     exhausts), an empty common_lb_config, and DNS clusters as Envoy's DNS
//     cluster extension refreshing every 30s and respecting TTLs (the
//     STRICT_DNS type's refresh fields are deprecated);
//   - on every TCP listener: at most one connection accepted per socket
//     event, which spreads connections over worker threads;
//   - route configurations leave validate_clusters out (false, Envoy's
//     default for RDS) instead of spelling it out.
func init() {
	register(&feature{name: "envoygateway.defaults", staticRoutes: staticValidateClusters})
}

const (
	readyListenerStatPrefix = "eg-ready-http"
	readyRouteName          = "ready_route"
	dnsClusterTypeName      = "envoy.cluster.dns"
	defaultMaxRetries       = 1024
	defaultDNSRefresh       = 30 * time.Second
)

// defaultsCache holds the shared pieces, built once per proxy.
type defaultsCache struct {
	circuitBreakers *clusterv3.CircuitBreakers
	commonLB        *clusterv3.Cluster_CommonLbConfig
	acceptOne       *wrapperspb.UInt32Value
	dns             map[clusterv3.Cluster_DnsLookupFamily]*clusterv3.Cluster_CustomClusterType
}

// applyDefaults fills in Envoy Gateway's defaults on the finished
// resources of p; xds.go calls it before the finishing passes.
func (b *builder) applyDefaults(p *ir.Proxy) error {
	d := p.Defaults
	if d == nil {
		return nil
	}
	c := &defaultsCache{
		circuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxRetries: wrapperspb.UInt32(defaultMaxRetries),
		}}},
		commonLB:  &clusterv3.Cluster_CommonLbConfig{},
		acceptOne: wrapperspb.UInt32(1),
		dns:       map[clusterv3.Cluster_DnsLookupFamily]*clusterv3.Cluster_CustomClusterType{},
	}
	for _, cl := range b.res.Clusters {
		if cl.CircuitBreakers == nil {
			cl.CircuitBreakers = c.circuitBreakers
		}
		if cl.CommonLbConfig == nil {
			cl.CommonLbConfig = c.commonLB
		}
		if cl.GetType() == clusterv3.Cluster_STRICT_DNS && cl.GetClusterType() == nil {
			dns, err := c.dnsCluster(cl.GetDnsLookupFamily())
			if err != nil {
				return err
			}
			cl.ClusterDiscoveryType = &clusterv3.Cluster_ClusterType{ClusterType: dns}
		}
	}
	for _, l := range b.res.Listeners {
		if l.GetAddress().GetSocketAddress().GetProtocol() == corev3.SocketAddress_UDP {
			continue
		}
		if l.MaxConnectionsToAcceptPerSocketEvent == nil && !b.unlimitedAccept(l) {
			l.MaxConnectionsToAcceptPerSocketEvent = c.acceptOne
		}
	}
	for _, rc := range b.res.Routes {
		if v := rc.GetValidateClusters(); v != nil && !v.GetValue() {
			// false is Envoy's default for route configurations served
			// over RDS; static bootstraps spell it out again
			// (staticValidateClusters).
			rc.ValidateClusters = nil
		}
	}
	if d.Ready != nil {
		l, err := readyListener(d.Ready)
		if err != nil {
			return err
		}
		b.res.Listeners = append(b.res.Listeners, l)
		sortResources(b.res)
	}
	return nil
}

// unlimitedAccept reports whether a ClientTrafficPolicy asks listener l
// to accept any number of connections per socket event
// (maxAcceptPerSocketEvent: 0, which leaves Envoy's field unset).
func (b *builder) unlimitedAccept(l *listenerv3.Listener) bool {
	s := b.servedBy[l]
	if s == nil {
		return false
	}
	zero := func(c *ir.ClientSettings) bool {
		return c != nil && c.Socket != nil && c.Socket.MaxAcceptPerSocketEvent != nil && *c.Socket.MaxAcceptPerSocketEvent == 0
	}
	for _, e := range s.http {
		if zero(e.Client) {
			return true
		}
	}
	for _, e := range s.tcp {
		if zero(e.Client) {
			return true
		}
	}
	return false
}

// dnsCluster is Envoy's DNS cluster extension for the lookup family fam.
func (c *defaultsCache) dnsCluster(fam clusterv3.Cluster_DnsLookupFamily) (*clusterv3.Cluster_CustomClusterType, error) {
	if t, ok := c.dns[fam]; ok {
		return t, nil
	}
	// The extension reads its own lookup family and ignores the
	// cluster's; the names are the same in both enums.
	common := commondnsv3.DnsLookupFamily(commondnsv3.DnsLookupFamily_value[fam.String()])
	a, err := toAny(&dnsclusterv3.DnsCluster{
		DnsRefreshRate:  durationpb.New(defaultDNSRefresh),
		RespectDnsTtl:   true,
		DnsLookupFamily: common,
	})
	if err != nil {
		return nil, err
	}
	t := &clusterv3.Cluster_CustomClusterType{Name: dnsClusterTypeName, TypedConfig: a}
	c.dns[fam] = t
	return t, nil
}

// readyListener answers GET r.Path with 200 once Envoy is ready (503 while
// it drains), and anything else with 500. It bypasses the overload manager
// so that a loaded proxy is not also reported unready.
func readyListener(r *ir.ReadyListener) (*listenerv3.Listener, error) {
	hc, err := toAny(&healthcheckv3.HealthCheck{
		PassThroughMode: wrapperspb.Bool(false),
		Headers: []*routev3.HeaderMatcher{{
			Name:                 ":path",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher(r.Path)},
		}},
	})
	if err != nil {
		return nil, err
	}
	router, err := toAny(&routerv3.Router{SuppressEnvoyHeaders: true})
	if err != nil {
		return nil, err
	}
	hcm, err := toAny(&hcmv3.HttpConnectionManager{
		StatPrefix: readyListenerStatPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: readyRouteName,
			VirtualHosts: []*routev3.VirtualHost{{
				Name:    readyRouteName,
				Domains: []string{"*"},
				Routes: []*routev3.Route{{
					Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
					Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 500}},
				}},
			}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: healthCheckFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: hc}},
			{Name: routerFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}},
		},
	})
	if err != nil {
		return nil, err
	}
	addr := socketAddress(r.Address, r.Port)
	addr.GetSocketAddress().Ipv4Compat = r.Address == "::"
	return &listenerv3.Listener{
		Name:    readyListenerName(r),
		Address: addr,
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm},
		}}}},
		BypassOverloadManager: true,
	}, nil
}

// readyListenerName is the name Envoy Gateway gives its readiness listener.
func readyListenerName(r *ir.ReadyListener) string {
	return "envoy-gateway-proxy-ready-" + r.Address + "-" + strconv.FormatUint(uint64(r.Port), 10)
}

// staticValidateClusters spells validate_clusters out for a route
// configuration inlined into a static bootstrap, whose default there is
// true: a fail-closed weighted share names a cluster that does not exist.
func staticValidateClusters(rc *routev3.RouteConfiguration) error {
	if rc.ValidateClusters == nil {
		rc.ValidateClusters = wrapperspb.Bool(false)
	}
	return nil
}
