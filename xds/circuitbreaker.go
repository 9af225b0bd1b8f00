package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.circuitBreaker: the cluster's thresholds at default priority (and
// per endpoint). Requests over a threshold are answered 503 by Envoy.
func init() {
	register(&feature{name: "backendtrafficpolicy.circuitbreaker", patchCluster: patchCircuitBreaker})
}

// cbCache keys the circuit breakers built for one proxy by their IR value.
type cbCache map[*ir.CircuitBreaker]*clusterv3.CircuitBreakers

func patchCircuitBreaker(b *builder, d *ir.RouteDestination, _ []*ir.Backend, c *clusterv3.Cluster) error {
	cb := d.Cluster.GetCircuitBreaker()
	if cb == nil {
		return nil
	}
	cache := *featureState(b, "cbCache", func() *cbCache { return &cbCache{} })
	out, ok := cache[cb]
	if !ok {
		out = buildCircuitBreaker(cb)
		cache[cb] = out
	}
	c.CircuitBreakers = out
	return nil
}

func buildCircuitBreaker(cb *ir.CircuitBreaker) *clusterv3.CircuitBreakers {
	// Envoy's defaults are 1024 but for retries (3): only what differs
	// is written.
	t := &clusterv3.CircuitBreakers_Thresholds{
		Priority:           corev3.RoutingPriority_DEFAULT,
		MaxConnections:     unlessDefault(cb.MaxConnections, 1024),
		MaxPendingRequests: unlessDefault(cb.MaxPendingRequests, 1024),
		MaxRequests:        unlessDefault(cb.MaxParallelRequests, 1024),
		MaxRetries:         unlessDefault(cb.MaxParallelRetries, 3),
	}
	if rb := cb.RetryBudget; rb != nil {
		t.RetryBudget = &clusterv3.CircuitBreakers_Thresholds_RetryBudget{
			BudgetPercent:       &typev3.Percent{Value: rb.Percent},
			MinRetryConcurrency: wrapperspb.UInt32(rb.MinRetryConcurrency),
		}
	}
	out := &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{t}}
	if cb.PerEndpointMaxConnections > 0 {
		out.PerHostThresholds = []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(cb.PerEndpointMaxConnections)}}
	}
	return out
}

func unlessDefault(v, def uint32) *wrapperspb.UInt32Value {
	if v == def {
		return nil
	}
	return wrapperspb.UInt32(v)
}
