// Package diff compares two sets of Envoy xDS resources semantically: per
// proxy, per resource type, per resource name. What Envoy ignores (version
// info, update times, the order of named resources and virtual hosts) is
// ignored; what Envoy acts on (route order inside a virtual host, filter
// order) is kept. Secret material is redacted unless asked otherwise.
//
// A Side is what one input (compiled manifests, a live proxy, a saved
// config dump) holds, keyed by proxy. Compare pairs proxies by key.
package diff

import (
	"errors"
	"fmt"
	"sort"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/xds"
)

// Snapshot is the xDS configuration of one proxy.
type Snapshot struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret

	// Static says the resources are in static-bootstrap form: route
	// configurations inlined in listeners, endpoints inlined in clusters,
	// nothing fetched over xDS. Compare pairs a static snapshot with a
	// dynamic one only after converting the dynamic one (see ToStatic).
	Static bool

	// ReportedEndpoints says the endpoints are as a proxy reports them in
	// /config_dump?include_eds: rebuilt from its host sets, not the
	// assignment it was sent. Envoy adds defaults (overprovisioning factor,
	// health status) and drops locality metadata there, so a pair in which
	// either side has this set is compared on what such a report can show.
	ReportedEndpoints bool

	// Skip lists resource types the source did not include (a config
	// dump without an endpoint section, one saved section of a dump);
	// they are not compared for this proxy.
	Skip []string
}

// Side is one input of a comparison: snapshots keyed by proxy ("ns/gw"
// for manifests; an address or a gateway name for a live proxy).
type Side map[string]*Snapshot

// Types are the resource types, in the order summaries print them.
var Types = []string{TypeListener, TypeRoute, TypeCluster, TypeEndpoint, TypeSecret}

// Resource types.
const (
	TypeListener = "listener"
	TypeRoute    = "route"
	TypeCluster  = "cluster"
	TypeEndpoint = "endpoint"
	TypeSecret   = "secret"
)

// FromResources wraps the output of xds.Translate for one proxy.
func FromResources(r *xds.Resources) *Snapshot {
	if r == nil {
		return &Snapshot{}
	}
	return &Snapshot{
		Listeners: r.Listeners,
		Routes:    r.Routes,
		Clusters:  r.Clusters,
		Endpoints: r.Endpoints,
		Secrets:   r.Secrets,
	}
}

// FromBootstrap takes the static resources of a bootstrap (what
// `egctl x translate --to bootstrap` prints). Dynamic parts are ignored.
func FromBootstrap(b *bootstrapv3.Bootstrap) *Snapshot {
	st := b.GetStaticResources()
	return &Snapshot{
		Listeners: st.GetListeners(),
		Clusters:  st.GetClusters(),
		Secrets:   st.GetSecrets(),
		Static:    true,
	}
}

// ToStatic converts a dynamic snapshot into the form egctl's static
// bootstrap has, so that it can be compared with a proxy running one. A
// static snapshot is returned as is. name only labels errors.
func (s *Snapshot) ToStatic(name string) (*Snapshot, error) {
	if s == nil {
		return nil, errors.New("diff: nil snapshot")
	}
	if s.Static {
		return s, nil
	}
	b, err := xds.StaticBootstrap(&xds.Resources{
		Name:      name,
		Listeners: s.Listeners,
		Routes:    s.Routes,
		Clusters:  s.Clusters,
		Endpoints: s.Endpoints,
		Secrets:   s.Secrets,
	}, xds.BootstrapOptions{})
	if err != nil {
		return nil, fmt.Errorf("diff: %s: cannot put into static-bootstrap form: %w", name, err)
	}
	out := FromBootstrap(b)
	out.ReportedEndpoints = s.ReportedEndpoints
	out.Skip = s.Skip
	return out, nil
}

// Count is the number of resources of every type.
func (s *Snapshot) Count() int {
	if s == nil {
		return 0
	}
	return len(s.Listeners) + len(s.Routes) + len(s.Clusters) + len(s.Endpoints) + len(s.Secrets)
}

// Keys returns the side's proxy keys, sorted.
func (s Side) Keys() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
