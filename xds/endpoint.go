package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// hostsKey names one list of endpoints of the IR by identity: translate
// hands every backend of the same Service port the same slice, so this is
// how the hosts of a Service are recognised without comparing them. Two
// equal lists in different slices only miss the sharing.
type hostsKey struct {
	first *ir.Endpoint
	n     int
	typ   ir.AddressType
}

// buildLoadAssignment puts each backend in its own locality (region = the
// backend name) weighted by the backend's weight, so that one cluster
// splits traffic between backendRefs as Gateway API weights say.
// Backends of weight 0 get no locality: they must receive nothing.
//
// A backend's Priority (fallback Backends) is its localities' priority,
// counted from the lowest one present, so a destination of fallbacks only
// is an ordinary one.
func (b *builder) buildLoadAssignment(cluster string, backends []*ir.Backend) (*endpointv3.ClusterLoadAssignment, error) {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	base := basePriority(backends) // failover.go
	for i, be := range backends {
		if be.Weight == 0 {
			continue
		}
		hosts, err := b.lbEndpoints(be)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: backend %q: %w", cluster, be.Name, err)
		}
		if matchedTLS(be) { // upstream_tls.go
			hosts = b.tlsHosts(hosts, tlsMatchName(cluster, i))
		}
		cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{
			Locality:            &corev3.Locality{Region: be.Name},
			LoadBalancingWeight: b.weight(be.Weight),
			Metadata:            b.metadata(be.Metadata),
			LbEndpoints:         hosts,
			Priority:            be.Priority - base,
		})
	}
	return cla, nil
}

// lbEndpoints returns the hosts of be, built once per list of endpoints and
// shared by every locality that lists them (many routes, few Services).
// The shared slice and its messages must not be modified.
func (b *builder) lbEndpoints(be *ir.Backend) ([]*endpointv3.LbEndpoint, error) {
	if len(be.Endpoints) == 0 {
		return nil, nil
	}
	key := hostsKey{first: &be.Endpoints[0], n: len(be.Endpoints), typ: be.AddressType}
	if hosts, ok := b.hosts[key]; ok {
		return hosts, nil
	}
	hosts := make([]*endpointv3.LbEndpoint, 0, len(be.Endpoints))
	for i, ep := range be.Endpoints {
		addr, err := endpointAddress(be.AddressType, ep)
		if err != nil {
			return nil, fmt.Errorf("Endpoints[%d]: %w", i, err)
		}
		hosts = append(hosts, &endpointv3.LbEndpoint{
			// Hostname names the host for auto_host_sni and
			// auto_host_rewrite (Envoy Gateway Backend endpoints).
			HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: addr, Hostname: ep.Hostname}},
			LoadBalancingWeight: b.weight(1),
		})
	}
	if b.hosts == nil {
		b.hosts = map[hostsKey][]*endpointv3.LbEndpoint{}
	}
	b.hosts[key] = hosts
	return hosts, nil
}

// tlsHosts returns copies of hosts whose metadata selects the cluster's
// transport socket match name. The endpoints themselves stay shared.
func (b *builder) tlsHosts(hosts []*endpointv3.LbEndpoint, name string) []*endpointv3.LbEndpoint {
	md := b.tlsMatchMetadata(name)
	out := make([]*endpointv3.LbEndpoint, len(hosts))
	for i, h := range hosts {
		out[i] = &endpointv3.LbEndpoint{HostIdentifier: h.HostIdentifier, LoadBalancingWeight: h.LoadBalancingWeight, Metadata: md}
	}
	return out
}

// weight returns a shared, read-only wrapper of w: the few distinct
// weights of a proxy need not be allocated once per use.
func (b *builder) weight(w uint32) *wrapperspb.UInt32Value {
	if v, ok := b.weights[w]; ok {
		return v
	}
	v := wrapperspb.UInt32(w)
	if b.weights == nil {
		b.weights = map[uint32]*wrapperspb.UInt32Value{}
	}
	b.weights[w] = v
	return v
}

func endpointAddress(t ir.AddressType, ep ir.Endpoint) (*corev3.Address, error) {
	if ep.Host == "" {
		return nil, fmt.Errorf("empty Host")
	}
	if t == ir.AddressUnix || ep.Unix {
		return &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: ep.Host}}}, nil
	}
	if ep.Port == 0 || ep.Port > 65535 {
		return nil, fmt.Errorf("%s: Port %d out of range 1..65535", ep.Host, ep.Port)
	}
	return socketAddress(ep.Host, ep.Port), nil
}
