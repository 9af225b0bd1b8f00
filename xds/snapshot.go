package xds

import (
	"errors"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// Snapshot packages r for a go-control-plane snapshot cache: listeners
// (whose HCMs use RDS), route configurations, clusters (EDS for IP and unix
// backends), endpoints and secrets. The snapshot is checked for consistency:
// every RDS and EDS name it references is in it.
func Snapshot(r *Resources, version string) (*cache.Snapshot, error) {
	if r == nil {
		return nil, errors.New("xds: Snapshot: nil Resources")
	}
	res := map[resource.Type][]types.Resource{
		resource.ListenerType: make([]types.Resource, 0, len(r.Listeners)),
		resource.RouteType:    make([]types.Resource, 0, len(r.Routes)),
		resource.ClusterType:  make([]types.Resource, 0, len(r.Clusters)),
		resource.EndpointType: make([]types.Resource, 0, len(r.Endpoints)),
		resource.SecretType:   make([]types.Resource, 0, len(r.Secrets)),
	}
	for _, m := range r.Listeners {
		res[resource.ListenerType] = append(res[resource.ListenerType], m)
	}
	for _, m := range r.Routes {
		res[resource.RouteType] = append(res[resource.RouteType], m)
	}
	for _, m := range r.Clusters {
		res[resource.ClusterType] = append(res[resource.ClusterType], m)
	}
	for _, m := range r.Endpoints {
		res[resource.EndpointType] = append(res[resource.EndpointType], m)
	}
	for _, m := range r.Secrets {
		res[resource.SecretType] = append(res[resource.SecretType], m)
	}
	snap, err := cache.NewSnapshot(version, res)
	if err != nil {
		return nil, fmt.Errorf("xds: Snapshot %s: %w", r.Name, err)
	}
	if err := snap.Consistent(); err != nil {
		return nil, fmt.Errorf("xds: Snapshot %s: %w", r.Name, err)
	}
	return snap, nil
}
