package xds

import (
	"errors"
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// Resources is the xDS of one proxy. Every slice is sorted by name.
type Resources struct {
	// Name is the proxy name, "namespace/gateway".
	Name      string
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
}

// validator is what every generated Envoy message implements (protoc-gen-validate).
type validator interface {
	ValidateAll() error
}

// Translate builds the xDS resources of every proxy in cfg, in cfg's proxy
// order. Every resource passes ValidateAll; an error names the proxy, the
// resource and the field.
func Translate(cfg *ir.Config) ([]*Resources, error) {
	if cfg == nil {
		return nil, errors.New("xds: nil ir.Config")
	}
	out := make([]*Resources, 0, len(cfg.Proxies))
	for i, p := range cfg.Proxies {
		if p == nil {
			return nil, fmt.Errorf("xds: Proxies[%d] is nil", i)
		}
		r, err := translateProxy(p)
		if err != nil {
			return nil, fmt.Errorf("xds: proxy %s: %w", p.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// builder accumulates the resources of one proxy, deduplicating clusters,
// endpoints and secrets shared by several routes or listeners.
type builder struct {
	res       *Resources
	clusters  map[string]*clusterv3.Cluster
	endpoints map[string]*endpointv3.ClusterLoadAssignment
	secrets   map[string]*tlsv3.Secret
	// lbPolicy is packed once and cloned into every cluster.
	lbPolicy *clusterv3.LoadBalancingPolicy
	// secure is set while building the routes of an HTTPS entry.
	secure bool
}

func translateProxy(p *ir.Proxy) (*Resources, error) {
	b := &builder{
		res:       &Resources{Name: p.Name},
		clusters:  map[string]*clusterv3.Cluster{},
		endpoints: map[string]*endpointv3.ClusterLoadAssignment{},
		secrets:   map[string]*tlsv3.Secret{},
	}
	if err := b.buildListeners(p.HTTP); err != nil {
		return nil, err
	}
	if err := b.buildL4(p); err != nil { // tcp.go, udp.go
		return nil, err
	}
	for _, c := range b.clusters {
		b.res.Clusters = append(b.res.Clusters, c)
	}
	for _, e := range b.endpoints {
		b.res.Endpoints = append(b.res.Endpoints, e)
	}
	for _, s := range b.secrets {
		b.res.Secrets = append(b.res.Secrets, s)
	}
	sortResources(b.res)
	if err := validateResources(b.res); err != nil {
		return nil, err
	}
	return b.res, nil
}

func sortResources(r *Resources) {
	sort.Slice(r.Listeners, func(i, j int) bool { return r.Listeners[i].GetName() < r.Listeners[j].GetName() })
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].GetName() < r.Routes[j].GetName() })
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].GetName() < r.Clusters[j].GetName() })
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].GetClusterName() < r.Endpoints[j].GetClusterName() })
	sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].GetName() < r.Secrets[j].GetName() })
}

// validateResources runs protoc-gen-validate on everything, so a bad IR value
// is reported here, by resource name, rather than by Envoy at load time.
func validateResources(r *Resources) error {
	check := func(kind, name string, m validator) error {
		if err := m.ValidateAll(); err != nil {
			return fmt.Errorf("%s %q: %w", kind, name, err)
		}
		return nil
	}
	for _, l := range r.Listeners {
		if err := check("listener", l.GetName(), l); err != nil {
			return err
		}
	}
	for _, rc := range r.Routes {
		if err := check("route configuration", rc.GetName(), rc); err != nil {
			return err
		}
	}
	for _, c := range r.Clusters {
		if err := check("cluster", c.GetName(), c); err != nil {
			return err
		}
	}
	for _, e := range r.Endpoints {
		if err := check("cluster load assignment", e.GetClusterName(), e); err != nil {
			return err
		}
	}
	for _, s := range r.Secrets {
		if err := check("secret", s.GetName(), s); err != nil {
			return err
		}
	}
	return nil
}
