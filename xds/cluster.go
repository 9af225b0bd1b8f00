package xds

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonlbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/common/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// InvalidBackendCluster is the cluster name the weighted share of
// unresolved backendRefs points at. No such cluster exists, so with
// cluster_not_found_response_code that share is answered 500.
const InvalidBackendCluster = "invalid-backend-cluster"

const (
	clusterConnectTimeout  = 10 * time.Second
	httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	leastRequestPolicyName = "envoy.load_balancing_policies.least_request"
)

// singleCluster reports whether d can be one cluster with one locality per
// backend: Envoy then balances across backends by locality weight. That
// needs one discovery type, one upstream protocol, no per-backend header
// changes, no fail-closed share and no backend without endpoints beside
// one with: Envoy gives a locality without hosts no traffic, so its share
// would go to the others, where Gateway API says requests for a backend
// without ready endpoints get 503 (as with Envoy Gateway). In a cluster of
// its own the share keeps its weight and Envoy answers it 503.
func singleCluster(d *ir.RouteDestination) bool {
	if d.InvalidWeight > 0 || partlyEmpty(d.Backends) || anyMerged(d) { // backendcluster.go
		return false
	}
	if !ir.TLSMixable(d.Backends) {
		return false
	}
	for _, be := range d.Backends {
		if be.AddressType != d.Backends[0].AddressType || be.Protocol != d.Backends[0].Protocol {
			return false
		}
		if be.RequestHeaders != nil || be.ResponseHeaders != nil || be.CredentialInjection != nil {
			return false
		}
	}
	return true
}

// setDestination points action at d, creating the clusters it needs.
func (b *builder) setDestination(action *routev3.RouteAction, d *ir.RouteDestination) error {
	if d.Name == "" {
		return fmt.Errorf("empty Name")
	}
	for i, be := range d.Backends {
		if be == nil {
			return fmt.Errorf("%s: Backends[%d] is nil", d.Name, i)
		}
	}
	if len(d.Backends) > 0 && d.InvalidWeight == 0 && totalWeight(d.Backends) == 0 {
		// Every backendRef weighs 0: nothing may be forwarded. Fail closed
		// with 500, like an invalid backend, rather than a cluster with no
		// hosts (503) that reads as an outage.
		action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
			Clusters: []*routev3.WeightedCluster_ClusterWeight{{Name: InvalidBackendCluster, Weight: wrapperspb.UInt32(1)}},
		}}
		action.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
		return nil
	}
	if oneCluster(d) { // failover.go
		return b.setOneCluster(action, d)
	}
	if be := onlyMerged(d); be != nil { // one shared cluster takes everything
		if err := b.addBackendCluster(be); err != nil {
			return err
		}
		action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: be.Name}
		return nil
	}
	if singleCluster(d) {
		if err := b.addCluster(d, d.Name, d.Backends); err != nil {
			return err
		}
		action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: d.Name}
		return nil
	}

	wc := &routev3.WeightedCluster{}
	var total uint64
	for _, be := range d.Backends {
		if be.Weight == 0 {
			continue // a zero weight receives no traffic; it needs no cluster
		}
		if be.Name == "" {
			return fmt.Errorf("%s: backend with empty Name", d.Name)
		}
		name, err := b.backendClusterFor(d, be) // backendcluster.go
		if err != nil {
			return err
		}
		cw := &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(be.Weight)}
		cw.RequestHeadersToAdd, cw.RequestHeadersToRemove = buildHeaderMods(be.RequestHeaders)
		cw.ResponseHeadersToAdd, cw.ResponseHeadersToRemove = buildHeaderMods(be.ResponseHeaders)
		wc.Clusters = append(wc.Clusters, cw)
		total += uint64(be.Weight)
	}
	if d.InvalidWeight > 0 {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name: InvalidBackendCluster, Weight: wrapperspb.UInt32(d.InvalidWeight),
		})
		total += uint64(d.InvalidWeight)
	}
	if total == 0 {
		return fmt.Errorf("%s: every backend has weight 0", d.Name)
	}
	if total > 0xFFFFFFFF {
		return fmt.Errorf("%s: sum of weights %d exceeds 2^32-1", d.Name, total)
	}
	action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	action.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
	return nil
}

// partlyEmpty reports whether some weighted backend has endpoints and
// another has none.
func partlyEmpty(backends []*ir.Backend) bool {
	var empty, full bool
	for _, be := range backends {
		if be.Weight == 0 {
			continue
		}
		if len(be.Endpoints) == 0 {
			empty = true
		} else {
			full = true
		}
	}
	return empty && full
}

func totalWeight(backends []*ir.Backend) uint64 {
	var sum uint64
	for _, be := range backends {
		sum += uint64(be.Weight)
	}
	return sum
}

// addCluster adds (once) the cluster name balancing over backends, for
// destination d (whose settings features apply, see features.go).
func (b *builder) addCluster(d *ir.RouteDestination, name string, backends []*ir.Backend) error {
	md := d.Metadata
	if _, ok := b.clusters[name]; ok {
		return nil
	}
	proto := ir.ProtocolHTTP1
	if len(backends) > 0 {
		proto = backends[0].Protocol
	}
	addrType, err := clusterAddressType(name, backends) // failover.go
	if err != nil {
		return err
	}
	cla, err := b.buildLoadAssignment(name, backends)
	if err != nil {
		return err
	}
	if err := b.initClusterDefaults(); err != nil {
		return err
	}
	// The defaults are shared, not copied, by every cluster: nothing
	// modifies a built cluster (staticCopy deep-clones).
	c := &clusterv3.Cluster{
		Name:                          name,
		ConnectTimeout:                b.connectTimeout,
		DnsLookupFamily:               clusterv3.Cluster_V4_PREFERRED,
		LoadBalancingPolicy:           b.lbPolicy,
		Metadata:                      b.metadata(md),
		PerConnectionBufferLimitBytes: b.bufferLimit,
		IgnoreHealthOnHostRemoval:     true,
	}
	switch addrType {
	case ir.AddressFQDN:
		// DNS names cannot be served through EDS: Envoy resolves them itself.
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.LoadAssignment = cla
	case ir.AddressIP, ir.AddressUnix, "":
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: b.edsSource, ServiceName: name}
		b.endpoints[name] = cla
	default:
		return fmt.Errorf("cluster %q: unknown AddressType %q", name, addrType)
	}
	switch proto {
	case ir.ProtocolHTTP2:
		if b.h2Options == nil {
			if b.h2Options, err = http2ProtocolOptions(); err != nil {
				return err
			}
		}
		c.TypedExtensionProtocolOptions = map[string]*anyMsg{httpProtocolOptionsKey: b.h2Options}
	case ir.ProtocolHTTP1, ir.ProtocolWS, "":
		// HTTP/1.1 is Envoy's default upstream protocol; WebSocket is an
		// HTTP/1.1 upgrade enabled on the route.
	default:
		return fmt.Errorf("cluster %q: unknown Protocol %q", name, proto)
	}
	if err := b.applyUpstreamTLS(c, backends); err != nil { // upstream_tls.go
		return err
	}
	if err := b.patchClusterFeatures(d, backends, c); err != nil { // features.go
		return err
	}
	// Last, over whatever the features set: what the backends themselves
	// ask of the cluster (upstream SNI, failover detection).
	if err := b.finishBackendCluster(c, backends); err != nil { // failover.go
		return err
	}
	b.clusters[name] = c
	return nil
}

// initClusterDefaults builds, once per proxy, the parts every cluster
// has in common.
func (b *builder) initClusterDefaults() error {
	if b.lbPolicy != nil {
		return nil
	}
	lb, err := localityWeightedLeastRequest()
	if err != nil {
		return err
	}
	b.lbPolicy = lb
	b.connectTimeout = durationpb.New(clusterConnectTimeout)
	b.bufferLimit = wrapperspb.UInt32(connectionBufferLimitBytes)
	b.edsSource = adsConfigSource()
	return nil
}

// http2ProtocolOptions makes a cluster speak HTTP/2 (h2c) upstream.
func http2ProtocolOptions() (*anyMsg, error) {
	return toAny(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						InitialStreamWindowSize:     wrapperspb.UInt32(65536),
						InitialConnectionWindowSize: wrapperspb.UInt32(1048576),
					},
				},
			},
		},
	})
}

// localityWeightedLeastRequest is Envoy Gateway's default balancing: least
// request between hosts, localities (one per backendRef) by weight.
func localityWeightedLeastRequest() (*clusterv3.LoadBalancingPolicy, error) {
	lr, err := toAny(&leastrequestv3.LeastRequest{
		LocalityLbConfig: &commonlbv3.LocalityLbConfig{
			LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig_{
				LocalityWeightedLbConfig: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig{},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return &clusterv3.LoadBalancingPolicy{Policies: []*clusterv3.LoadBalancingPolicy_Policy{{
		TypedExtensionConfig: &corev3.TypedExtensionConfig{Name: leastRequestPolicyName, TypedConfig: lr},
	}}}, nil
}

// staticCopy makes out (a copy of a cluster, or with InPlace the cluster
// itself) self-contained for a static bootstrap:
// EDS becomes STATIC with the assignment inlined.
func staticCopy(out *clusterv3.Cluster, cla *endpointv3.ClusterLoadAssignment, own func(proto.Message) proto.Message) *clusterv3.Cluster {
	if out.GetType() == clusterv3.Cluster_EDS {
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		out.EdsClusterConfig = nil
		if cla == nil {
			cla = &endpointv3.ClusterLoadAssignment{ClusterName: out.GetName()}
		}
		out.LoadAssignment = own(cla).(*endpointv3.ClusterLoadAssignment)
	}
	return out
}
