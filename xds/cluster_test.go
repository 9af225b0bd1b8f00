package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	"github.com/egctl/egctl/ir"
)

func TestSingleClusterWithLocalityPerBackend(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Destination = dest("d", ipBackend("d/backend/0", 80, 3000, 3001), ipBackend("d/backend/1", 20, 4000))
	r := translateOne(t, oneRoute(rt))
	if got := firstRoute(t, r).GetRoute().GetCluster(); got != "d" {
		t.Fatalf("route cluster %q, want d", got)
	}
	c := findCluster(t, r, "d")
	if c.GetType() != clusterv3.Cluster_EDS || c.GetEdsClusterConfig().GetServiceName() != "d" {
		t.Errorf("cluster type %v eds %v", c.GetType(), c.GetEdsClusterConfig())
	}
	if len(c.GetLoadBalancingPolicy().GetPolicies()) != 1 {
		t.Errorf("lb policy %v", c.GetLoadBalancingPolicy())
	}
	if len(r.Endpoints) != 1 {
		t.Fatalf("endpoints %v", r.Endpoints)
	}
	locs := r.Endpoints[0].Endpoints
	if len(locs) != 2 || locs[0].Locality.Region != "d/backend/0" || locs[0].LoadBalancingWeight.GetValue() != 80 ||
		locs[1].Locality.Region != "d/backend/1" || locs[1].LoadBalancingWeight.GetValue() != 20 {
		t.Fatalf("localities %v", locs)
	}
	if len(locs[0].LbEndpoints) != 2 || locs[0].LbEndpoints[1].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue() != 3001 {
		t.Errorf("lb endpoints %v", locs[0].LbEndpoints)
	}
}

func TestWeightedClustersWhenNeeded(t *testing.T) {
	withHeaders := ipBackend("d/backend/0", 3, 3000)
	withHeaders.RequestHeaders = &ir.HeaderModifier{Set: []ir.Header{{Name: "x-b", Value: "0"}}}
	fqdn := &ir.Backend{Name: "d/backend/1", Weight: 1, AddressType: ir.AddressFQDN, Endpoints: []ir.Endpoint{{Host: "backend.local", Port: 80}}}
	zero := ipBackend("d/backend/2", 0, 5000)

	rt := prefixRoute("r", "/")
	rt.Destination = dest("d", withHeaders, fqdn, zero)
	rt.Destination.InvalidWeight = 2
	r := translateOne(t, oneRoute(rt))
	action := firstRoute(t, r).GetRoute()
	wc := action.GetWeightedClusters().GetClusters()
	if len(wc) != 3 {
		t.Fatalf("weighted clusters %v (zero-weight backend must be left out)", wc)
	}
	if wc[0].Name != "d/backend/0" || wc[0].Weight.GetValue() != 3 || len(wc[0].RequestHeadersToAdd) != 1 {
		t.Errorf("entry 0: %v", wc[0])
	}
	if wc[1].Name != "d/backend/1" || wc[1].Weight.GetValue() != 1 {
		t.Errorf("entry 1: %v", wc[1])
	}
	if wc[2].Name != InvalidBackendCluster || wc[2].Weight.GetValue() != 2 {
		t.Errorf("invalid share: %v", wc[2])
	}
	if action.ClusterNotFoundResponseCode.String() != "INTERNAL_SERVER_ERROR" {
		t.Errorf("cluster_not_found_response_code %v", action.ClusterNotFoundResponseCode)
	}
	for _, c := range r.Clusters {
		if c.Name == InvalidBackendCluster || c.Name == "d" || c.Name == "d/backend/2" {
			t.Errorf("unexpected cluster %q", c.Name)
		}
	}
	dns := findCluster(t, r, "d/backend/1")
	if dns.GetType() != clusterv3.Cluster_STRICT_DNS || dns.DnsLookupFamily != clusterv3.Cluster_V4_PREFERRED {
		t.Errorf("FQDN cluster %v %v", dns.GetType(), dns.DnsLookupFamily)
	}
	if got := dns.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); got != "backend.local" {
		t.Errorf("FQDN cluster must carry its hosts inline, got %q", got)
	}
	for _, e := range r.Endpoints {
		if e.ClusterName == "d/backend/1" {
			t.Error("STRICT_DNS cluster must not have an EDS assignment")
		}
	}
}

func TestOnlyInvalidBackends(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Destination = &ir.RouteDestination{Name: "d", InvalidWeight: 1}
	wc := firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute().GetWeightedClusters().GetClusters()
	if len(wc) != 1 || wc[0].Name != InvalidBackendCluster {
		t.Errorf("weighted clusters %v, want only the invalid share", wc)
	}
}

func TestZeroEndpointsStillEmitsCluster(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Destination = dest("d", ipBackend("d/backend/0", 1))
	r := translateOne(t, oneRoute(rt))
	findCluster(t, r, "d")
	if len(r.Endpoints) != 1 || len(r.Endpoints[0].Endpoints[0].LbEndpoints) != 0 {
		t.Errorf("want an assignment with no hosts: %v", r.Endpoints)
	}
	if _, err := Snapshot(r, "1"); err != nil {
		t.Errorf("snapshot: %v", err)
	}
}

func TestUnixAndHTTP2Backends(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Destination = dest("d", &ir.Backend{Name: "d/backend/0", Weight: 1, AddressType: ir.AddressUnix,
		Protocol: ir.ProtocolHTTP2, Endpoints: []ir.Endpoint{{Host: "/run/app.sock"}}})
	r := translateOne(t, oneRoute(rt))
	c := findCluster(t, r, "d")
	opts := c.TypedExtensionProtocolOptions[httpProtocolOptionsKey]
	if opts == nil {
		t.Fatal("no HttpProtocolOptions for an HTTP/2 backend")
	}
	hpo := &httpv3.HttpProtocolOptions{}
	if err := opts.UnmarshalTo(hpo); err != nil {
		t.Fatal(err)
	}
	if hpo.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("want explicit http2, got %v", hpo)
	}
	pipe := r.Endpoints[0].Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetPipe()
	if pipe.GetPath() != "/run/app.sock" {
		t.Errorf("pipe %v", pipe)
	}

	// An HTTP/1.1 cluster has no protocol options.
	r = translateOne(t, oneRoute(prefixRoute("r", "/")))
	if len(r.Clusters[0].TypedExtensionProtocolOptions) != 0 {
		t.Errorf("HTTP/1.1 cluster has protocol options %v", r.Clusters[0].TypedExtensionProtocolOptions)
	}
}

func TestSharedDestinationGivesOneCluster(t *testing.T) {
	a, b := prefixRoute("a", "/a"), prefixRoute("b", "/b")
	b.Destination = a.Destination
	r := translateOne(t, oneRoute(a, b))
	if len(r.Clusters) != 1 || len(r.Endpoints) != 1 {
		t.Errorf("clusters %d endpoints %d, want 1 and 1", len(r.Clusters), len(r.Endpoints))
	}
}

func TestDestinationErrors(t *testing.T) {
	for name, d := range map[string]*ir.RouteDestination{
		"no name":     {Backends: []*ir.Backend{ipBackend("b", 1, 1)}},
		"bad port":    {Name: "d", Backends: []*ir.Backend{{Name: "b", Weight: 1, AddressType: ir.AddressIP, Endpoints: []ir.Endpoint{{Host: "127.0.0.1"}}}}},
		"bad type":    {Name: "d", Backends: []*ir.Backend{{Name: "b", Weight: 1, AddressType: "Carrier-Pigeon"}}},
		"nil backend": {Name: "d", Backends: []*ir.Backend{nil}},
	} {
		t.Run(name, func(t *testing.T) {
			rt := prefixRoute("r", "/")
			rt.Destination = d
			if _, err := Translate(oneRoute(rt)); err == nil {
				t.Error("want error")
			}
		})
	}
}

func TestAllZeroWeightsFailClosed(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Destination = dest("d", ipBackend("d/backend/0", 0, 3000), ipBackend("d/backend/1", 0, 3001))
	r := translateOne(t, oneRoute(rt))
	a := firstRoute(t, r).GetRoute()
	wc := a.GetWeightedClusters().GetClusters()
	if len(wc) != 1 || wc[0].Name != InvalidBackendCluster || a.ClusterNotFoundResponseCode.String() != "INTERNAL_SERVER_ERROR" {
		t.Errorf("all-zero weights: %v", a)
	}
	if len(r.Clusters) != 0 {
		t.Errorf("no cluster is needed, got %d", len(r.Clusters))
	}
}
