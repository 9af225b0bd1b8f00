package diff

import (
	"fmt"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/egctl/egctl/admin"
)

// DumpInfo is what a config dump says about the proxy besides its
// resources.
type DumpInfo struct {
	// NodeID and NodeCluster come from the bootstrap (egctl sets both to
	// the gateway's "ns/name").
	NodeID, NodeCluster string
	// LastUpdated is the newest last_updated of any resource received
	// over xDS; zero when there is none (a static bootstrap).
	LastUpdated time.Time
	// HasBootstrap says the dump had a bootstrap section.
	HasBootstrap bool
}

// FromConfigDump extracts the resources of a proxy from Envoy's
// /config_dump (ideally fetched with include_eds). Only what the proxy got
// over xDS is kept: the bootstrap's own static clusters (the xDS server's)
// are not configuration the manifests describe. A proxy without dynamic
// resources in its bootstrap (egctl's static bootstrap) is the exception:
// its static listeners, clusters and secrets are its configuration, and the
// snapshot is marked Static.
//
// Listeners and clusters still warming count as present: they are what the
// proxy was told to run. Listeners only draining are gone.
func FromConfigDump(d *adminv3.ConfigDump) (*Snapshot, DumpInfo, error) {
	var (
		info DumpInfo
		boot *bootstrapv3.Bootstrap
		dyn  = &Snapshot{}
		st   = &Snapshot{Static: true}
		last time.Time
		has  = map[string]bool{}
	)
	seen := func(ts *timestamppb.Timestamp) {
		if ts.IsValid() && ts.AsTime().After(last) {
			last = ts.AsTime()
		}
	}
	for i, c := range d.GetConfigs() {
		m, err := unpack(c)
		if err != nil {
			return nil, info, fmt.Errorf("config dump: configs[%d]: %w", i, err)
		}
		switch v := m.(type) {
		case *adminv3.BootstrapConfigDump:
			boot = v.GetBootstrap()
		case *adminv3.ListenersConfigDump:
			has[TypeListener] = true
			for j, l := range v.GetStaticListeners() {
				var x listenerv3.Listener
				if err := unpackInto(l.GetListener(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: static listener %d: %w", j, err)
				}
				st.Listeners = append(st.Listeners, &x)
			}
			for _, l := range v.GetDynamicListeners() {
				state := l.GetActiveState()
				if state == nil {
					state = l.GetWarmingState()
				}
				if state == nil {
					continue
				}
				var x listenerv3.Listener
				if err := unpackInto(state.GetListener(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: listener %q: %w", l.GetName(), err)
				}
				seen(state.GetLastUpdated())
				dyn.Listeners = append(dyn.Listeners, &x)
			}
		case *adminv3.ClustersConfigDump:
			has[TypeCluster] = true
			for j, c := range v.GetStaticClusters() {
				var x clusterv3.Cluster
				if err := unpackInto(c.GetCluster(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: static cluster %d: %w", j, err)
				}
				st.Clusters = append(st.Clusters, &x)
			}
			have := map[string]bool{}
			for _, group := range [][]*adminv3.ClustersConfigDump_DynamicCluster{v.GetDynamicActiveClusters(), v.GetDynamicWarmingClusters()} {
				for j, c := range group {
					var x clusterv3.Cluster
					if err := unpackInto(c.GetCluster(), &x); err != nil {
						return nil, info, fmt.Errorf("config dump: dynamic cluster %d: %w", j, err)
					}
					if have[x.GetName()] {
						continue
					}
					have[x.GetName()] = true
					seen(c.GetLastUpdated())
					dyn.Clusters = append(dyn.Clusters, &x)
				}
			}
		case *adminv3.RoutesConfigDump:
			has[TypeRoute] = true
			for j, r := range v.GetDynamicRouteConfigs() {
				var x routev3.RouteConfiguration
				if err := unpackInto(r.GetRouteConfig(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: route configuration %d: %w", j, err)
				}
				seen(r.GetLastUpdated())
				dyn.Routes = append(dyn.Routes, &x)
			}
		case *adminv3.EndpointsConfigDump:
			has[TypeEndpoint] = true
			for j, e := range v.GetDynamicEndpointConfigs() {
				var x endpointv3.ClusterLoadAssignment
				if err := unpackInto(e.GetEndpointConfig(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: endpoint configuration %d: %w", j, err)
				}
				seen(e.GetLastUpdated())
				dyn.Endpoints = append(dyn.Endpoints, &x)
			}
		case *adminv3.SecretsConfigDump:
			has[TypeSecret] = true
			for _, s := range v.GetStaticSecrets() {
				var x tlsv3.Secret
				if err := unpackInto(s.GetSecret(), &x); err != nil {
					return nil, info, fmt.Errorf("config dump: static secret %q: %w", s.GetName(), err)
				}
				st.Secrets = append(st.Secrets, &x)
			}
			have := map[string]bool{}
			for _, group := range [][]*adminv3.SecretsConfigDump_DynamicSecret{v.GetDynamicActiveSecrets(), v.GetDynamicWarmingSecrets()} {
				for _, s := range group {
					if have[s.GetName()] || s.GetSecret() == nil {
						continue
					}
					var x tlsv3.Secret
					if err := unpackInto(s.GetSecret(), &x); err != nil {
						return nil, info, fmt.Errorf("config dump: secret %q: %w", s.GetName(), err)
					}
					have[s.GetName()] = true
					seen(s.GetLastUpdated())
					dyn.Secrets = append(dyn.Secrets, &x)
				}
			}
		}
	}
	if boot != nil {
		info.HasBootstrap = true
		info.NodeID = boot.GetNode().GetId()
		info.NodeCluster = boot.GetNode().GetCluster()
	}
	info.LastUpdated = last
	dyn.ReportedEndpoints = len(dyn.Endpoints) > 0
	if isStatic(boot, dyn, st) {
		// Routes and endpoints are inline in listeners and clusters.
		has[TypeRoute], has[TypeEndpoint] = has[TypeListener], has[TypeCluster]
		st.Skip = missing(has)
		return st, info, nil
	}
	dyn.Skip = missing(has)
	return dyn, info, nil
}

// isStatic decides whether the proxy runs a static bootstrap. The
// bootstrap says so directly; without one (a dump saved in sections), a
// dump holding static listeners or clusters and nothing dynamic is taken
// as static.
func isStatic(boot *bootstrapv3.Bootstrap, dyn, st *Snapshot) bool {
	if boot != nil {
		dr := boot.GetDynamicResources()
		return dr.GetLdsConfig() == nil && dr.GetCdsConfig() == nil &&
			dr.GetLdsResourcesLocator() == "" && dr.GetCdsResourcesLocator() == ""
	}
	return dyn.Count() == 0 && len(st.Listeners)+len(st.Clusters) > 0
}

var unmarshalOpts = proto.UnmarshalOptions{Resolver: admin.Resolver, DiscardUnknown: true}

func unpack(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, fmt.Errorf("empty entry")
	}
	return anypb.UnmarshalNew(a, unmarshalOpts)
}

func unpackInto(a *anypb.Any, m proto.Message) error {
	if a == nil {
		return fmt.Errorf("empty entry")
	}
	return anypb.UnmarshalTo(a, m, unmarshalOpts)
}

func missing(has map[string]bool) []string {
	var out []string
	for _, t := range Types {
		if !has[t] {
			out = append(out, t)
		}
	}
	return out
}
