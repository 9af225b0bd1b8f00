package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/egctl/egctl/ir"
)

// buildMirror sends a share of requests to the mirror destination's cluster.
// A mirror is one cluster (Envoy mirrors to a cluster, not to a split), so
// all its backends must be reachable the same way.
func (b *builder) buildMirror(m *ir.Mirror) (*routev3.RouteAction_RequestMirrorPolicy, error) {
	if m == nil || m.Destination == nil {
		return nil, fmt.Errorf("no Destination")
	}
	d := m.Destination
	if d.Name == "" {
		return nil, fmt.Errorf("Destination: empty Name")
	}
	for i, be := range d.Backends {
		if be == nil {
			return nil, fmt.Errorf("Destination %s: Backends[%d] is nil", d.Name, i)
		}
	}
	if err := b.addCluster(d, d.Name, d.Backends); err != nil {
		return nil, err
	}
	p := &routev3.RouteAction_RequestMirrorPolicy{
		Cluster: d.Name,
		// Keep the Host header as is; Envoy would otherwise append
		// "-shadow" to it.
		DisableShadowHostSuffixAppend: true,
	}
	if m.Denominator != 0 || m.Numerator != 0 {
		if m.Denominator == 0 {
			return nil, fmt.Errorf("Numerator %d with Denominator 0", m.Numerator)
		}
		if m.Numerator > m.Denominator {
			return nil, fmt.Errorf("Numerator %d exceeds Denominator %d", m.Numerator, m.Denominator)
		}
		// Envoy fractions have fixed denominators; a million keeps six
		// digits of the requested share.
		n := (uint64(m.Numerator)*1_000_000 + uint64(m.Denominator)/2) / uint64(m.Denominator)
		p.RuntimeFraction = &corev3.RuntimeFractionalPercent{
			DefaultValue: &typev3.FractionalPercent{Numerator: uint32(n), Denominator: typev3.FractionalPercent_MILLION},
		}
	} else if b.proxy != nil && b.proxy.Defaults != nil {
		// Every request, spelled out as Envoy Gateway does (Envoy's
		// default without a fraction is the same).
		p.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}}
	}
	return p, nil
}
