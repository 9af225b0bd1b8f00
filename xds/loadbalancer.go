package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	cswrrv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/client_side_weighted_round_robin/v3"
	commonlbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/common/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	overridehostv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/override_host/v3"
	randomv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/random/v3"
	roundrobinv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	wrrlocalityv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/wrr_locality/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.loadBalancer: the cluster's load balancing policy and, for a
// consistent hash, the hash policy of the routes (HTTP), the tcp_proxy or
// the udp_proxy that send to it.
//
// A cluster's backends are its localities, weighted by backendRef weight
// (endpoint.go), so every algorithm is set up to honour locality weights:
// the locality-weighted config of round robin, least request, random and
// Maglev, and wrr_locality around client-side weighted round robin, which
// has none of its own.
func init() {
	register(&feature{
		name:          "backendtrafficpolicy.loadbalancer",
		patchCluster:  patchLoadBalancer,
		patchRoute:    patchHashPolicy,
		patchTCPRoute: patchTCPHashPolicy,
		patchUDPRoute: patchUDPHashPolicy,
	})
}

// lbCache keys the balancing policies built for one proxy by the IR value
// they come from (shared by every cluster of a policy).
type lbCache map[lbKey]*clusterv3.LoadBalancingPolicy

// lbKey: a cluster with one backend has one locality, which Maglev need not
// weigh (Envoy Gateway's spelling); with several, their weights count.
type lbKey struct {
	lb          *ir.LoadBalancer
	oneLocality bool
}

func patchLoadBalancer(b *builder, d *ir.RouteDestination, backends []*ir.Backend, c *clusterv3.Cluster) error {
	lb := d.Cluster.GetLoadBalancer()
	if lb == nil {
		return nil
	}
	cache := *featureState(b, "lbCache", func() *lbCache { return &lbCache{} })
	k := lbKey{lb, len(backends) <= 1}
	p, ok := cache[k]
	if !ok {
		var err error
		if p, err = buildLBPolicy(lb, k.oneLocality); err != nil {
			return err
		}
		cache[k] = p
	}
	c.LoadBalancingPolicy = p
	return nil
}

const defaultMaglevTableSize = 65537

func lbPolicy(name string, m proto.Message) (*clusterv3.LoadBalancingPolicy, error) {
	a, err := toAny(m)
	if err != nil {
		return nil, err
	}
	return &clusterv3.LoadBalancingPolicy{Policies: []*clusterv3.LoadBalancingPolicy_Policy{{
		TypedExtensionConfig: &corev3.TypedExtensionConfig{Name: name, TypedConfig: a},
	}}}, nil
}

func buildLBPolicy(lb *ir.LoadBalancer, oneLocality bool) (*clusterv3.LoadBalancingPolicy, error) {
	locality := &commonlbv3.LocalityLbConfig{LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig_{
		LocalityWeightedLbConfig: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig{},
	}}
	var slow *commonlbv3.SlowStartConfig
	if lb.SlowStart > 0 {
		slow = &commonlbv3.SlowStartConfig{SlowStartWindow: durationpb.New(lb.SlowStart)}
	}
	if len(lb.OverrideHostHeaders) > 0 && oneLocality {
		// The fallback of a host override over one backend has no
		// localities to weigh; Envoy Gateway writes it bare.
		locality = nil
	}
	var p *clusterv3.LoadBalancingPolicy
	var err error
	switch lb.Type {
	case ir.LBLeastRequest:
		p, err = lbPolicy(leastRequestPolicyName, &leastrequestv3.LeastRequest{LocalityLbConfig: locality, SlowStartConfig: slow})
	case ir.LBRoundRobin:
		p, err = lbPolicy("envoy.load_balancing_policies.round_robin", &roundrobinv3.RoundRobin{LocalityLbConfig: locality, SlowStartConfig: slow})
	case ir.LBRandom:
		p, err = lbPolicy("envoy.load_balancing_policies.random", &randomv3.Random{LocalityLbConfig: locality})
	case ir.LBConsistentHash:
		// The table size is spelled out, 65537 unless set (Envoy's
		// default too), as Envoy Gateway writes it. Backend weights need
		// the locality-weighted config; one backend has nothing to weigh.
		n := lb.ConsistentHash.GetTableSize()
		if n == 0 {
			n = defaultMaglevTableSize
		}
		m := &maglevv3.Maglev{TableSize: wrapperspb.UInt64(n)}
		if !oneLocality {
			m.LocalityWeightedLbConfig = &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig{}
		}
		p, err = lbPolicy("envoy.load_balancing_policies.maglev", m)
	case ir.LBBackendUtilization:
		p, err = backendUtilizationPolicy(lb.BackendUtilization, slow)
	default:
		return nil, fmt.Errorf("unknown load balancer %q", lb.Type)
	}
	if err != nil || len(lb.OverrideHostHeaders) == 0 {
		return p, err
	}
	oh := &overridehostv3.OverrideHost{FallbackPolicy: p}
	for _, h := range lb.OverrideHostHeaders {
		oh.OverrideHostSources = append(oh.OverrideHostSources, &overridehostv3.OverrideHost_OverrideHostSource{Header: h})
	}
	return lbPolicy("envoy.load_balancing_policies.override_host", oh)
}

func backendUtilizationPolicy(bu *ir.BackendUtilization, slow *commonlbv3.SlowStartConfig) (*clusterv3.LoadBalancingPolicy, error) {
	c := &cswrrv3.ClientSideWeightedRoundRobin{
		SlowStartConfig:                    slow,
		MetricNamesForComputingUtilization: append([]string(nil), bu.MetricNames...),
	}
	if bu.BlackoutPeriod > 0 {
		c.BlackoutPeriod = durationpb.New(bu.BlackoutPeriod)
	}
	if bu.WeightExpirationPeriod > 0 {
		c.WeightExpirationPeriod = durationpb.New(bu.WeightExpirationPeriod)
	}
	if bu.WeightUpdatePeriod > 0 {
		c.WeightUpdatePeriod = durationpb.New(bu.WeightUpdatePeriod)
	}
	if bu.ErrorUtilizationPenalty != nil {
		c.ErrorUtilizationPenalty = wrapperspb.Float(float32(*bu.ErrorUtilizationPenalty))
	}
	if o := bu.OutOfBand; o != nil {
		c.EnableOobLoadReport = wrapperspb.Bool(true)
		if o.Period > 0 {
			c.OobReportingPeriod = durationpb.New(o.Period)
		}
		if o.Port > 0 || o.Authority != "" {
			c.OobReportingConfig = &commonlbv3.OrcaOobReportingConfig{PortValue: o.Port, Authority: o.Authority}
		}
	}
	inner, err := lbPolicy("envoy.load_balancing_policies.client_side_weighted_round_robin", c)
	if err != nil {
		return nil, err
	}
	return lbPolicy("envoy.load_balancing_policies.wrr_locality", &wrrlocalityv3.WrrLocality{EndpointPickingPolicy: inner})
}

// hashCache keys route hash policies by the IR hash they come from.
type hashCache map[*ir.ConsistentHash][]*routev3.RouteAction_HashPolicy

// orcaHeaders are the load reports BackendUtilization reads; they are
// removed on the way to the client unless kept, as Envoy Gateway does.
var orcaHeaders = []string{"endpoint-load-metrics", "endpoint-load-metrics-bin"}

func patchHashPolicy(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	a := out.GetRoute()
	if a == nil || r.Destination == nil {
		return nil
	}
	lb := r.Destination.Cluster.GetLoadBalancer()
	if lb == nil {
		return nil
	}
	if bu := lb.BackendUtilization; bu != nil && !bu.KeepResponseHeaders {
		out.ResponseHeadersToRemove = append(out.ResponseHeadersToRemove, orcaHeaders...)
	}
	h := lb.ConsistentHash
	if h == nil {
		return nil
	}
	cache := *featureState(b, "hashCache", func() *hashCache { return &hashCache{} })
	hp, ok := cache[h]
	if !ok {
		hp = buildHashPolicy(h)
		cache[h] = hp
	}
	a.HashPolicy = hp
	// With a split over weighted clusters, pick the cluster by the same
	// hash, so a client sticks to one backend and not only to one endpoint
	// within whichever backend chance picked.
	if wc := a.GetWeightedClusters(); wc != nil {
		wc.RandomValueSpecifier = &routev3.WeightedCluster_UseHashPolicy{UseHashPolicy: wrapperspb.Bool(true)}
	}
	return nil
}

func buildHashPolicy(h *ir.ConsistentHash) []*routev3.RouteAction_HashPolicy {
	var out []*routev3.RouteAction_HashPolicy
	switch {
	case h.SourceIP:
		out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{
			ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true},
		}})
	case len(h.Headers) > 0:
		for _, n := range h.Headers {
			out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{
				Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: n},
			}})
		}
	case h.Cookie != nil:
		c := &routev3.RouteAction_HashPolicy_Cookie{Name: h.Cookie.Name}
		if h.Cookie.TTL > 0 {
			c.Ttl = durationpb.New(h.Cookie.TTL)
		}
		for _, a := range h.Cookie.Attributes {
			c.Attributes = append(c.Attributes, &routev3.RouteAction_HashPolicy_CookieAttribute{Name: a.Name, Value: a.Value})
		}
		out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{Cookie: c}})
	case len(h.QueryParams) > 0:
		for _, n := range h.QueryParams {
			out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_QueryParameter_{
				QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: n},
			}})
		}
	}
	return out
}

func patchTCPHashPolicy(_ *builder, _ *ir.TCPListener, r *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
	if r.Destination == nil {
		return nil, nil
	}
	if h := r.Destination.Cluster.GetLoadBalancer().GetConsistentHash(); h != nil && h.SourceIP {
		tp.HashPolicy = []*typev3.HashPolicy{{PolicySpecifier: &typev3.HashPolicy_SourceIp_{SourceIp: &typev3.HashPolicy_SourceIp{}}}}
	}
	return nil, nil
}

func patchUDPHashPolicy(_ *builder, _ *ir.UDPListener, r *ir.UDPRoute, up *udpproxyv3.UdpProxyConfig) error {
	if r.Destination == nil {
		return nil
	}
	if h := r.Destination.Cluster.GetLoadBalancer().GetConsistentHash(); h != nil && h.SourceIP {
		up.HashPolicies = []*udpproxyv3.UdpProxyConfig_HashPolicy{{PolicySpecifier: &udpproxyv3.UdpProxyConfig_HashPolicy_SourceIp{SourceIp: true}}}
	}
	return nil
}
