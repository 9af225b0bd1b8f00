package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// buildLoadAssignment puts each backend in its own locality (region = the
// backend name) weighted by the backend's weight, so that one cluster
// splits traffic between backendRefs as Gateway API weights say.
// Backends of weight 0 get no locality: they must receive nothing.
func buildLoadAssignment(cluster string, backends []*ir.Backend) (*endpointv3.ClusterLoadAssignment, error) {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	for _, be := range backends {
		if be.Weight == 0 {
			continue
		}
		loc := &endpointv3.LocalityLbEndpoints{
			Locality:            &corev3.Locality{Region: be.Name},
			LoadBalancingWeight: wrapperspb.UInt32(be.Weight),
			Metadata:            buildMetadata(be.Metadata),
		}
		for i, ep := range be.Endpoints {
			addr, err := endpointAddress(be.AddressType, ep)
			if err != nil {
				return nil, fmt.Errorf("cluster %q: backend %q: Endpoints[%d]: %w", cluster, be.Name, i, err)
			}
			loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{
				HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: addr}},
				LoadBalancingWeight: wrapperspb.UInt32(1),
			})
		}
		cla.Endpoints = append(cla.Endpoints, loc)
	}
	return cla, nil
}

func endpointAddress(t ir.AddressType, ep ir.Endpoint) (*corev3.Address, error) {
	if ep.Host == "" {
		return nil, fmt.Errorf("empty Host")
	}
	if t == ir.AddressUnix {
		return &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: ep.Host}}}, nil
	}
	if ep.Port == 0 || ep.Port > 65535 {
		return nil, fmt.Errorf("%s: Port %d out of range 1..65535", ep.Host, ep.Port)
	}
	return socketAddress(ep.Host, ep.Port), nil
}
