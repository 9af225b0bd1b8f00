package xds

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Destinations whose backends must share one cluster (ir.RouteDestination
// OneCluster: session persistence, fallback Backends). A fallback backend
// is a higher Envoy priority: its localities take traffic only when the
// primary ones have too few healthy hosts (Envoy's overprovisioning
// factor 1.4: below about 72% healthy, the fallback takes the rest).
//
// Health is what makes failover happen. Envoy counts a host healthy until
// a health check or outlier detection says otherwise, so with neither a
// dead primary keeps all the traffic and every request fails: Envoy
// Gateway's fallback does nothing unless a BackendTrafficPolicy adds a
// health check. egctl gives such a cluster passive outlier detection when
// nothing else watches its hosts' health: an endpoint that refuses,
// resets or times out a connection is ejected at once for 10s (doubling
// while it keeps failing), so the fallback takes over after the first
// failed request and the primary gets its traffic back when it answers
// again. Errors the backend itself answers (5xx) do not eject it. A
// BackendTrafficPolicy healthCheck replaces these defaults.

// Defaults of the outlier detection a failover cluster gets (the values
// Envoy Gateway's failover guide uses for its passive health check).
const (
	failoverInterval     = 2 * time.Second
	failoverBaseEjection = 10 * time.Second
)

// oneCluster reports whether d's backends must share one cluster.
func oneCluster(d *ir.RouteDestination) bool {
	if d.OneCluster {
		return true
	}
	for _, be := range d.Backends {
		if be != nil && be.Priority > 0 {
			return true
		}
	}
	return false
}

// setOneCluster points action at the one cluster of d's weighted
// backends; a fail-closed share of unresolved backendRefs goes, weighted,
// to a cluster that does not exist.
func (b *builder) setOneCluster(action *routev3.RouteAction, d *ir.RouteDestination) error {
	var live []*ir.Backend
	var total uint64
	for _, be := range d.Backends {
		if be.Weight > 0 {
			live = append(live, be)
			total += uint64(be.Weight)
		}
	}
	if total+uint64(d.InvalidWeight) > 0xFFFFFFFF {
		return fmt.Errorf("%s: sum of weights %d exceeds 2^32-1", d.Name, total+uint64(d.InvalidWeight))
	}
	if err := b.addCluster(d, d.Name, live); err != nil {
		return err
	}
	if d.InvalidWeight == 0 {
		action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: d.Name}
		return nil
	}
	action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
		Clusters: []*routev3.WeightedCluster_ClusterWeight{
			{Name: d.Name, Weight: wrapperspb.UInt32(uint32(total))},
			{Name: InvalidBackendCluster, Weight: wrapperspb.UInt32(d.InvalidWeight)},
		},
	}}
	action.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
	return nil
}

// clusterAddressType is how a cluster of backends finds its hosts. IP and
// FQDN backends may share a cluster (one that must keep them together):
// Envoy resolves the names and takes the IP literals as they are.
func clusterAddressType(name string, backends []*ir.Backend) (ir.AddressType, error) {
	if len(backends) == 0 {
		return ir.AddressIP, nil
	}
	t := backends[0].AddressType
	for _, be := range backends[1:] {
		switch {
		case be.AddressType == t:
		case (t == ir.AddressIP && be.AddressType == ir.AddressFQDN) || (t == ir.AddressFQDN && be.AddressType == ir.AddressIP):
			t = ir.AddressFQDN
		default:
			return "", fmt.Errorf("cluster %q: backends mix address types %s and %s", name, t, be.AddressType)
		}
	}
	return t, nil
}

// basePriority is the lowest priority of the weighted backends.
func basePriority(backends []*ir.Backend) uint32 {
	base, seen := uint32(0), false
	for _, be := range backends {
		if be.Weight == 0 {
			continue
		}
		if !seen || be.Priority < base {
			base, seen = be.Priority, true
		}
	}
	return base
}

// hasFailover reports whether some weighted backend is of a higher
// priority than another.
func hasFailover(backends []*ir.Backend) bool {
	base := basePriority(backends)
	for _, be := range backends {
		if be.Weight > 0 && be.Priority > base {
			return true
		}
	}
	return false
}

// finishBackendCluster applies, after every feature, what the backends
// ask of their cluster: the upstream SNI options of their TLS
// (upstream_sni.go), a credential to inject (httproutefilter.go), and
// outlier detection for failover when no health checking was configured.
func (b *builder) finishBackendCluster(c *clusterv3.Cluster, backends []*ir.Backend) error {
	if err := b.applyUpstreamSNI(c, backends); err != nil {
		return err
	}
	if err := b.applyBackendCredential(c, backends); err != nil { // httproutefilter.go
		return err
	}
	if hasFailover(backends) && c.OutlierDetection == nil && len(c.HealthChecks) == 0 {
		c.OutlierDetection = b.failoverDetection()
	}
	return nil
}

// failoverDetection is shared, read-only, by every failover cluster of a
// proxy.
func (b *builder) failoverDetection() *clusterv3.OutlierDetection {
	if b.failoverOD == nil {
		zero, all := wrapperspb.UInt32(0), wrapperspb.UInt32(100)
		b.failoverOD = &clusterv3.OutlierDetection{
			Interval:                               durationpb.New(failoverInterval),
			BaseEjectionTime:                       durationpb.New(failoverBaseEjection),
			MaxEjectionPercent:                     all,
			SplitExternalLocalOriginErrors:         true,
			ConsecutiveLocalOriginFailure:          wrapperspb.UInt32(1),
			EnforcingConsecutiveLocalOriginFailure: all,
			// Only unreachable endpoints are ejected: not answers, not
			// success rates.
			EnforcingConsecutive_5Xx:              zero,
			EnforcingConsecutiveGatewayFailure:    zero,
			EnforcingSuccessRate:                  zero,
			EnforcingLocalOriginSuccessRate:       zero,
			EnforcingFailurePercentage:            zero,
			EnforcingFailurePercentageLocalOrigin: zero,
		}
	}
	return b.failoverOD
}
