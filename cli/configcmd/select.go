package configcmd

import (
	"fmt"
	"path"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/admin"
)

// resourceType is one of the dump's sections, named as on the command line.
type resourceType string

const (
	typeAll       resourceType = "all"
	typeBootstrap resourceType = "bootstrap"
	typeListener  resourceType = "listener"
	typeRoute     resourceType = "route"
	typeCluster   resourceType = "cluster"
	typeEndpoint  resourceType = "endpoint"
	typeSecret    resourceType = "secret"
)

// dumpTypeURL is the config_dump section each type selects.
var dumpTypeURL = map[resourceType]string{
	typeBootstrap: "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
	typeListener:  "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
	typeRoute:     "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
	typeCluster:   "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
	typeEndpoint:  "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
	typeSecret:    "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
}

// typeAliases accepts plurals and Envoy Gateway's short spellings.
var typeAliases = map[string]resourceType{
	"all": typeAll, "bootstrap": typeBootstrap, "b": typeBootstrap,
	"listener": typeListener, "listeners": typeListener, "l": typeListener,
	"route": typeRoute, "routes": typeRoute, "r": typeRoute,
	"cluster": typeCluster, "clusters": typeCluster, "c": typeCluster,
	"endpoint": typeEndpoint, "endpoints": typeEndpoint, "e": typeEndpoint,
	"secret": typeSecret, "secrets": typeSecret, "s": typeSecret,
}

func parseType(s string) (resourceType, error) {
	if t, ok := typeAliases[s]; ok {
		return t, nil
	}
	return "", fmt.Errorf("unknown type %q: want one of all, bootstrap, listener, route, cluster, endpoint, secret", s)
}

// selectType returns what one proxy's output holds: the whole dump for
// "all", else the one section of that type (an Any, as Envoy Gateway's
// egctl prints it). A proxy without that section gives an empty one of
// the right type rather than an error: "no secrets" is an answer.
func selectType(d *adminv3.ConfigDump, t resourceType) (proto.Message, error) {
	if t == typeAll {
		return d, nil
	}
	want := dumpTypeURL[t]
	for _, a := range d.GetConfigs() {
		if a.GetTypeUrl() == want {
			return a, nil
		}
	}
	return &anypb.Any{TypeUrl: want}, nil
}

// nameFilter keeps the named resources of every section it knows,
// matching pattern with path.Match; the bootstrap is dropped from "all"
// because it repeats static resources unfiltered.
type nameFilter struct {
	pattern string
	// kept counts the resources kept, by section type URL, since reset.
	kept    map[string]int
	section string // the type URL being filtered
}

// reset clears the counts before the next proxy's dump.
func (f *nameFilter) reset() { f.kept = map[string]int{} }

// keptOf is how many resources of t were kept.
func (f *nameFilter) keptOf(t resourceType) int {
	if t != typeAll {
		return f.kept[dumpTypeURL[t]]
	}
	n := 0
	for _, k := range f.kept {
		n += k
	}
	return n
}

func (f *nameFilter) match(name string) (bool, error) {
	ok, err := path.Match(f.pattern, name)
	if err != nil {
		return false, fmt.Errorf("--name %q: %w", f.pattern, err)
	}
	return ok, nil
}

// apply filters d in place.
func (f *nameFilter) apply(d *adminv3.ConfigDump) error {
	kept := d.Configs[:0]
	for _, a := range d.GetConfigs() {
		var (
			m   proto.Message
			err error
		)
		f.section = a.GetTypeUrl()
		switch a.GetTypeUrl() {
		case dumpTypeURL[typeListener]:
			m, err = filterSection(a, &adminv3.ListenersConfigDump{}, f.listeners)
		case dumpTypeURL[typeRoute]:
			m, err = filterSection(a, &adminv3.RoutesConfigDump{}, f.routes)
		case dumpTypeURL[typeCluster]:
			m, err = filterSection(a, &adminv3.ClustersConfigDump{}, f.clusters)
		case dumpTypeURL[typeEndpoint]:
			m, err = filterSection(a, &adminv3.EndpointsConfigDump{}, f.endpoints)
		case dumpTypeURL[typeSecret]:
			m, err = filterSection(a, &adminv3.SecretsConfigDump{}, f.secrets)
		default:
			continue // bootstrap, scoped routes, ...: not filterable by name
		}
		if err != nil {
			return err
		}
		if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
			return err
		}
		kept = append(kept, a)
	}
	d.Configs = kept
	return nil
}

func filterSection[M proto.Message](a *anypb.Any, m M, fn func(M) error) (M, error) {
	if err := anyUnmarshal(a, m); err != nil {
		return m, err
	}
	return m, fn(m)
}

func anyUnmarshal(a *anypb.Any, m proto.Message) error {
	return anypb.UnmarshalTo(a, m, proto.UnmarshalOptions{Resolver: admin.Resolver, DiscardUnknown: true})
}

// keep filters s by the name get returns for each element.
func keep[T any](f *nameFilter, s []T, get func(T) (string, error)) ([]T, error) {
	out := s[:0]
	for _, e := range s {
		name, err := get(e)
		if err != nil {
			return nil, err
		}
		ok, err := f.match(name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
			if f.kept != nil {
				f.kept[f.section]++
			}
		}
	}
	return out, nil
}

// innerName reads the name of the resource an Any holds.
func innerName[M proto.Message](a *anypb.Any, m M, name func(M) string) (string, error) {
	if a == nil {
		return "", nil
	}
	if err := anyUnmarshal(a, m); err != nil {
		return "", fmt.Errorf("decode %s: %w", a.GetTypeUrl(), err)
	}
	return name(m), nil
}

func listenerName(a *anypb.Any) (string, error) {
	return innerName(a, &listenerv3.Listener{}, (*listenerv3.Listener).GetName)
}

func (f *nameFilter) listeners(d *adminv3.ListenersConfigDump) error {
	var err error
	if d.StaticListeners, err = keep(f, d.StaticListeners, func(l *adminv3.ListenersConfigDump_StaticListener) (string, error) {
		return listenerName(l.GetListener())
	}); err != nil {
		return err
	}
	d.DynamicListeners, err = keep(f, d.DynamicListeners, func(l *adminv3.ListenersConfigDump_DynamicListener) (string, error) {
		return l.GetName(), nil
	})
	return err
}

func routeName(a *anypb.Any) (string, error) {
	return innerName(a, &routev3.RouteConfiguration{}, (*routev3.RouteConfiguration).GetName)
}

func (f *nameFilter) routes(d *adminv3.RoutesConfigDump) error {
	var err error
	if d.StaticRouteConfigs, err = keep(f, d.StaticRouteConfigs, func(r *adminv3.RoutesConfigDump_StaticRouteConfig) (string, error) {
		return routeName(r.GetRouteConfig())
	}); err != nil {
		return err
	}
	d.DynamicRouteConfigs, err = keep(f, d.DynamicRouteConfigs, func(r *adminv3.RoutesConfigDump_DynamicRouteConfig) (string, error) {
		return routeName(r.GetRouteConfig())
	})
	return err
}

func clusterName(a *anypb.Any) (string, error) {
	return innerName(a, &clusterv3.Cluster{}, (*clusterv3.Cluster).GetName)
}

func (f *nameFilter) clusters(d *adminv3.ClustersConfigDump) error {
	var err error
	if d.StaticClusters, err = keep(f, d.StaticClusters, func(c *adminv3.ClustersConfigDump_StaticCluster) (string, error) {
		return clusterName(c.GetCluster())
	}); err != nil {
		return err
	}
	dyn := func(c *adminv3.ClustersConfigDump_DynamicCluster) (string, error) { return clusterName(c.GetCluster()) }
	if d.DynamicActiveClusters, err = keep(f, d.DynamicActiveClusters, dyn); err != nil {
		return err
	}
	d.DynamicWarmingClusters, err = keep(f, d.DynamicWarmingClusters, dyn)
	return err
}

func endpointName(a *anypb.Any) (string, error) {
	return innerName(a, &endpointv3.ClusterLoadAssignment{}, (*endpointv3.ClusterLoadAssignment).GetClusterName)
}

func (f *nameFilter) endpoints(d *adminv3.EndpointsConfigDump) error {
	var err error
	if d.StaticEndpointConfigs, err = keep(f, d.StaticEndpointConfigs, func(e *adminv3.EndpointsConfigDump_StaticEndpointConfig) (string, error) {
		return endpointName(e.GetEndpointConfig())
	}); err != nil {
		return err
	}
	d.DynamicEndpointConfigs, err = keep(f, d.DynamicEndpointConfigs, func(e *adminv3.EndpointsConfigDump_DynamicEndpointConfig) (string, error) {
		return endpointName(e.GetEndpointConfig())
	})
	return err
}

func (f *nameFilter) secrets(d *adminv3.SecretsConfigDump) error {
	var err error
	if d.StaticSecrets, err = keep(f, d.StaticSecrets, func(s *adminv3.SecretsConfigDump_StaticSecret) (string, error) {
		return s.GetName(), nil
	}); err != nil {
		return err
	}
	dyn := func(s *adminv3.SecretsConfigDump_DynamicSecret) (string, error) { return s.GetName(), nil }
	if d.DynamicActiveSecrets, err = keep(f, d.DynamicActiveSecrets, dyn); err != nil {
		return err
	}
	d.DynamicWarmingSecrets, err = keep(f, d.DynamicWarmingSecrets, dyn)
	return err
}
