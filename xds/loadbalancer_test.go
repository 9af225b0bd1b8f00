package xds

import (
	"testing"

	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	overridehostv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/override_host/v3"
	roundrobinv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
)

func lbConfig[T proto.Message](t *testing.T, lb *ir.LoadBalancer, oneLocality bool, m T) T {
	t.Helper()
	p, err := buildLBPolicy(lb, oneLocality)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.GetPolicies()[0].GetTypedExtensionConfig().GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Maglev weighs localities (one per backend) only when a cluster has
// several; the table size is always spelled out, as Envoy Gateway does.
func TestMaglevLocalities(t *testing.T) {
	lb := &ir.LoadBalancer{Type: ir.LBConsistentHash, ConsistentHash: &ir.ConsistentHash{SourceIP: true}}
	one := lbConfig(t, lb, true, &maglevv3.Maglev{})
	if one.GetLocalityWeightedLbConfig() != nil || one.GetTableSize().GetValue() != 65537 {
		t.Errorf("one backend: %v, want no locality weighting and table size 65537", one)
	}
	several := lbConfig(t, lb, false, &maglevv3.Maglev{})
	if several.GetLocalityWeightedLbConfig() == nil {
		t.Errorf("several backends: %v, want locality weighting (backend weights)", several)
	}
	lb.ConsistentHash.TableSize = 524287
	if got := lbConfig(t, lb, true, &maglevv3.Maglev{}).GetTableSize().GetValue(); got != 524287 {
		t.Errorf("table size %d, want 524287", got)
	}
}

// The fallback of a host override keeps locality weighting only when
// there are localities to weigh.
func TestOverrideHostFallbackLocalities(t *testing.T) {
	lb := &ir.LoadBalancer{Type: ir.LBRoundRobin, OverrideHostHeaders: []string{"x-host"}}
	fallback := func(oneLocality bool) *roundrobinv3.RoundRobin {
		oh := lbConfig(t, lb, oneLocality, &overridehostv3.OverrideHost{})
		rr := &roundrobinv3.RoundRobin{}
		if err := oh.GetFallbackPolicy().GetPolicies()[0].GetTypedExtensionConfig().GetTypedConfig().UnmarshalTo(rr); err != nil {
			t.Fatal(err)
		}
		return rr
	}
	if rr := fallback(true); rr.GetLocalityLbConfig() != nil {
		t.Errorf("one backend: fallback %v, want no locality config", rr)
	}
	if rr := fallback(false); rr.GetLocalityLbConfig().GetLocalityWeightedLbConfig() == nil {
		t.Errorf("several backends: fallback %v, want locality weighting", rr)
	}
}
