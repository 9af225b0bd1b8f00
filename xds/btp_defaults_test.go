package xds

import (
	"testing"

	"github.com/egctl/egctl/ir"
)

// Envoy Gateway's defaults fill in only what a BackendTrafficPolicy left
// unset: an explicit circuit breaker (even one asking for Envoy's own 3
// concurrent retries) and an explicit panic threshold stay as asked, and
// a cluster without settings gets the defaults.
func TestBTPSettingsWinOverDefaults(t *testing.T) {
	three := &ir.HTTPRoute{
		Name: "three", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/three"},
		Destination: &ir.RouteDestination{Name: "three", Backends: []*ir.Backend{ipBackend("three/backend/0", 1, 3000)},
			Cluster: &ir.ClusterSettings{CircuitBreaker: &ir.CircuitBreaker{
				MaxConnections: 1024, MaxPendingRequests: 1024, MaxParallelRequests: 1024, MaxParallelRetries: 3,
			}}},
	}
	panic0 := uint32(0)
	panicky := &ir.HTTPRoute{
		Name: "panic", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/panic"},
		Destination: &ir.RouteDestination{Name: "panic", Backends: []*ir.Backend{ipBackend("panic/backend/0", 1, 3001)},
			Cluster: &ir.ClusterSettings{HealthCheck: &ir.HealthCheck{PanicThreshold: &panic0}}},
	}
	plain := prefixRoute("plain", "/")
	cfg := oneRoute(three, panicky, plain)
	cfg.Proxies[0].Defaults = &ir.Defaults{Ready: &ir.ReadyListener{Address: "0.0.0.0", Port: 19003, Path: "/ready"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	res := translateOne(t, cfg)

	th := findCluster(t, res, "three").GetCircuitBreakers().GetThresholds()
	if len(th) != 1 || th[0].GetMaxRetries() != nil && th[0].GetMaxRetries().GetValue() != 3 {
		t.Errorf("explicit maxParallelRetries 3: thresholds %v (Envoy's default 3 is written as unset)", th)
	}
	if got := findCluster(t, res, "plain-dest").GetCircuitBreakers().GetThresholds(); len(got) != 1 || got[0].GetMaxRetries().GetValue() != 1024 {
		t.Errorf("a cluster without settings: thresholds %v, want Envoy Gateway's maxRetries 1024", got)
	}
	pc := findCluster(t, res, "panic")
	if p := pc.GetCommonLbConfig().GetHealthyPanicThreshold(); p == nil || p.GetValue() != 0 {
		t.Errorf("explicit panicThreshold 0: commonLbConfig %v", pc.GetCommonLbConfig())
	}
	if got := pc.GetCircuitBreakers().GetThresholds(); len(got) != 1 || got[0].GetMaxRetries().GetValue() != 1024 {
		t.Errorf("a cluster with a health check but no circuit breaker: thresholds %v, want the default", got)
	}
}
