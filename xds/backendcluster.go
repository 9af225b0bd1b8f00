package xds

import (
	"fmt"

	"github.com/egctl/egctl/ir"
)

// Clusters that routes share (EnvoyProxy mergeBackends, ir/backendcluster.go).
// A merged backend of a route sends to its backend cluster by name; the
// cluster is built once, from the proxy's BackendClusters entry: its
// backend, its cluster settings, and the backend's own metadata, as Envoy
// Gateway writes them. A stat name pattern of the EnvoyProxy does not apply
// (the cluster belongs to no single route), as in Envoy Gateway.

type backendClusterIndex map[string]*ir.RouteDestination

// addBackendCluster adds (once) the backend cluster be, a merged backend,
// sends to.
func (b *builder) addBackendCluster(be *ir.Backend) error {
	idx := *featureState(b, "backendClusters", func() *backendClusterIndex {
		m := make(backendClusterIndex, len(b.proxy.BackendClusters))
		for _, d := range b.proxy.BackendClusters {
			m[d.Name] = d
		}
		return &m
	})
	d := idx[be.Name]
	if d == nil {
		return fmt.Errorf("backend %q is merged into a backend cluster the proxy does not have", be.Name)
	}
	return b.addCluster(d, d.Name, d.Backends)
}

// anyMerged reports whether a backend of d sends to a backend cluster.
func anyMerged(d *ir.RouteDestination) bool {
	for _, be := range d.Backends {
		if be != nil && be.Merged {
			return true
		}
	}
	return false
}

// backendClusterFor adds the cluster one backend of d is sent to on its own
// (a weighted share) and returns its name: the backend cluster of a merged
// backend, else the backend's own cluster.
func (b *builder) backendClusterFor(d *ir.RouteDestination, be *ir.Backend) (string, error) {
	if be.Merged {
		return be.Name, b.addBackendCluster(be)
	}
	return be.Name, b.addCluster(d, be.Name, []*ir.Backend{be})
}

// onlyMerged returns the backend of d when d sends everything to one
// backend cluster: a single weighted backend, merged, and no fail-closed
// share. The route then names that cluster directly, as Envoy Gateway's
// does.
func onlyMerged(d *ir.RouteDestination) *ir.Backend {
	if d.InvalidWeight > 0 {
		return nil
	}
	var only *ir.Backend
	for _, be := range d.Backends {
		if be == nil || be.Weight == 0 {
			continue
		}
		if only != nil {
			return nil
		}
		only = be
	}
	if only == nil || !only.Merged {
		return nil
	}
	return only
}
