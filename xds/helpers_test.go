package xds

import (
	"regexp"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// ipBackend is a weighted backend with endpoints at 127.0.0.1:port...
func ipBackend(name string, weight uint32, ports ...uint32) *ir.Backend {
	be := &ir.Backend{Name: name, Weight: weight, AddressType: ir.AddressIP}
	for _, p := range ports {
		be.Endpoints = append(be.Endpoints, ir.Endpoint{Host: "127.0.0.1", Port: p})
	}
	return be
}

// dest is a destination named name over backends.
func dest(name string, backends ...*ir.Backend) *ir.RouteDestination {
	return &ir.RouteDestination{Name: name, Backends: backends}
}

// prefixRoute is a PathPrefix route to one IP backend.
func prefixRoute(name, prefix string) *ir.HTTPRoute {
	return &ir.HTTPRoute{
		Name:        name,
		Match:       ir.HTTPMatch{PathType: ir.PathPrefix, Path: prefix},
		Destination: dest(name+"-dest", ipBackend(name+"-dest/backend/0", 1, 3000)),
	}
}

// oneRoute wraps routes in a one-listener, one-vhost config on port 10080.
func oneRoute(routes ...*ir.HTTPRoute) *ir.Config {
	return &ir.Config{Proxies: []*ir.Proxy{{
		Name: "default/eg", Namespace: "default", Gateway: "eg",
		HTTP: []*ir.HTTPListener{{
			Name: "default/eg/http", Address: "0.0.0.0", Port: 10080, GatewayPort: 80,
			VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/http/*", Domains: []string{"*"}, Routes: routes}},
		}},
	}}}
}

func translateOne(t *testing.T, cfg *ir.Config) *Resources {
	t.Helper()
	res, err := Translate(cfg)
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("got %d proxies, want 1", len(res))
	}
	return res[0]
}

func firstRoute(t *testing.T, r *Resources) *routev3.Route {
	t.Helper()
	if len(r.Routes) == 0 || len(r.Routes[0].VirtualHosts) == 0 || len(r.Routes[0].VirtualHosts[0].Routes) == 0 {
		t.Fatalf("no route in %v", r.Routes)
	}
	return r.Routes[0].VirtualHosts[0].Routes[0]
}

func findCluster(t *testing.T, r *Resources, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range r.Clusters {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("cluster %q not found", name)
	return nil
}

func hcmOf(t *testing.T, fc *listenerv3.FilterChain) *hcmv3.HttpConnectionManager {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.Name == hcmFilterName {
			m := &hcmv3.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no HCM in filter chain %q", fc.GetName())
	return nil
}

func tlsOf(t *testing.T, fc *listenerv3.FilterChain) *tlsv3.DownstreamTlsContext {
	t.Helper()
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatalf("filter chain %q: %v", fc.GetName(), err)
	}
	return ctx
}

func regexpMatch(t *testing.T, re, s string) bool {
	t.Helper()
	ok, err := regexp.MatchString(re, s)
	if err != nil {
		t.Fatalf("regex %q: %v", re, err)
	}
	return ok
}
