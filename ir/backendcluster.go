package ir

import (
	"errors"
	"fmt"
)

// Backend clusters (EnvoyProxy spec.mergeBackends): routes that send to
// the same backend share one Envoy cluster, named after the backend as
// Envoy Gateway names it ("service/namespace/name/port/protocol"), instead
// of one cluster per route rule. One shared cluster means one set of
// connections, health checks and circuit breakers for the backend, and one
// line of stats.
//
// A route backend with Merged set sends its share to the proxy's
// BackendCluster of the same Name; the backend's other fields are a copy
// of that cluster's backend, for whoever reads the route. Its Weight is the
// route's own. Translate merges only what cannot tell the difference: the
// routes sharing a cluster ask for the same cluster settings, and nothing
// per route (backendRef filters, per-listener settings) rides on it.

// mergedClusters indexes p.BackendClusters by name and checks them: each
// is a destination of exactly one backend that bears the cluster's name.
func (p *Proxy) mergedClusters() (map[string]*RouteDestination, error) {
	if len(p.BackendClusters) == 0 {
		return nil, nil
	}
	byName := make(map[string]*RouteDestination, len(p.BackendClusters))
	var errs []error
	for i, d := range p.BackendClusters {
		switch {
		case d == nil:
			errs = append(errs, fmt.Errorf("backendClusters[%d]: nil", i))
			continue
		case d.Name == "":
			errs = append(errs, fmt.Errorf("backendClusters[%d]: empty name", i))
			continue
		case byName[d.Name] != nil:
			errs = append(errs, fmt.Errorf("backend cluster %s: duplicate name", d.Name))
			continue
		case len(d.Backends) != 1 || d.Backends[0] == nil || d.Backends[0].Name != d.Name || d.Backends[0].Merged:
			errs = append(errs, fmt.Errorf("backend cluster %s: want exactly one backend, named after the cluster", d.Name))
			continue
		case d.InvalidWeight != 0 || d.OneCluster:
			errs = append(errs, fmt.Errorf("backend cluster %s: a shared cluster has no fail-closed share and no priorities", d.Name))
			continue
		}
		if err := d.validate(); err != nil {
			errs = append(errs, fmt.Errorf("backend cluster %s: %w", d.Name, err))
			continue
		}
		byName[d.Name] = d
	}
	return byName, errors.Join(errs...)
}

// validateBackendClusters checks that every merged backend of a route
// names one of the proxy's backend clusters.
func (p *Proxy) validateBackendClusters() error {
	byName, err := p.mergedClusters()
	errs := []error{err}
	check := func(route string, d *RouteDestination) {
		if d == nil {
			return
		}
		for _, be := range d.Backends {
			if be == nil || !be.Merged {
				continue
			}
			if byName[be.Name] == nil {
				errs = append(errs, fmt.Errorf("route %s: backend names backend cluster %s, which the proxy does not have", route, be.Name))
			}
			if d.OneCluster {
				errs = append(errs, fmt.Errorf("route %s: a destination kept in one cluster cannot send to a shared one", route))
			}
		}
	}
	for _, l := range p.HTTP {
		if l == nil {
			continue
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				check(r.Name, r.Destination)
				for _, m := range r.Mirrors {
					check(r.Name, m.Destination)
				}
			}
		}
	}
	for _, l := range p.TCP {
		if l == nil {
			continue
		}
		for _, r := range l.Routes {
			check(r.Name, r.Destination)
		}
	}
	for _, l := range p.UDP {
		if l != nil && l.Route != nil {
			check(l.Route.Name, l.Route.Destination)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("proxy %s: %w", p.Name, err)
	}
	return nil
}

// redactBackendClusters returns the backend clusters with their backends'
// client certificate keys redacted, copying only what changes.
func redactBackendClusters(ds []*RouteDestination) []*RouteDestination {
	var out []*RouteDestination
	for i, d := range ds {
		if d == nil || len(d.Backends) != 1 {
			continue
		}
		be := d.Backends[0]
		if be == nil || be.TLS == nil || be.TLS.ClientCertificate == nil || len(be.TLS.ClientCertificate.PrivateKey) == 0 {
			continue
		}
		if out == nil {
			out = append([]*RouteDestination(nil), ds...)
		}
		nd, nb, nt, nc := *d, *be, *be.TLS, *be.TLS.ClientCertificate
		nc.PrivateKey = []byte(Redacted)
		nt.ClientCertificate = &nc
		nb.TLS = &nt
		nd.Backends = []*Backend{&nb}
		out[i] = &nd
	}
	if out == nil {
		return ds
	}
	return out
}

// AllMerged reports whether every backend of d that takes traffic sends it
// to a shared backend cluster: d then has no Envoy cluster of its own, and
// its name and cluster settings name nothing in Envoy.
func (d *RouteDestination) AllMerged() bool {
	n := 0
	for _, be := range d.Backends {
		if be == nil || be.Weight == 0 {
			continue
		}
		if !be.Merged {
			return false
		}
		n++
	}
	return n > 0
}
