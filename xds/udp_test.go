package xds

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"

	"github.com/egctl/egctl/ir"
)

func udpRouteCluster(t *testing.T, r *Resources, listener string) (*udpproxyv3.UdpProxyConfig, string) {
	t.Helper()
	l := findListener(t, r, listener)
	if l.GetAddress().GetSocketAddress().GetProtocol() != corev3.SocketAddress_UDP {
		t.Fatalf("listener %s is not a UDP listener: %v", listener, l)
	}
	if len(l.ListenerFilters) != 1 || l.ListenerFilters[0].GetName() != udpProxyFilterName {
		t.Fatalf("listener filters %v, want udp_proxy", l.ListenerFilters)
	}
	cfg := &udpproxyv3.UdpProxyConfig{}
	if err := l.ListenerFilters[0].GetTypedConfig().UnmarshalTo(cfg); err != nil {
		t.Fatal(err)
	}
	action := &udpproxyv3.Route{}
	if err := cfg.GetMatcher().GetOnNoMatch().GetAction().GetTypedConfig().UnmarshalTo(action); err != nil {
		t.Fatal(err)
	}
	return cfg, action.GetCluster()
}

func TestUDPListener(t *testing.T) {
	res := translateOne(t, l4Proxy(nil, []*ir.UDPListener{
		{Name: "default/eg/dns", Port: 10053, Route: &ir.UDPRoute{Name: "udproute/default/dns",
			Destination: dest("udproute/default/dns/rule/-1",
				ipBackend("udproute/default/dns/rule/-1/backend/0", 3, 5353),
				ipBackend("udproute/default/dns/rule/-1/backend/1", 1, 5354))}},
		{Name: "default/eg/idle", Port: 10054},
		{Name: "default/eg/dead", Port: 10055, Route: &ir.UDPRoute{Name: "udproute/default/dead",
			Destination: &ir.RouteDestination{Name: "udproute/default/dead/rule/-1", InvalidWeight: 1}}},
	}))
	if len(res.Listeners) != 2 {
		t.Fatalf("%d listeners, want 2 (none without a route)", len(res.Listeners))
	}
	cfg, cluster := udpRouteCluster(t, res, "default/eg/dns")
	if cluster != "udproute/default/dns/rule/-1" || cfg.GetStatPrefix() != "service" {
		t.Errorf("cluster %q stat prefix %q", cluster, cfg.GetStatPrefix())
	}
	// Both backends share the one cluster, one weighted locality each.
	var cla = res.Endpoints
	found := false
	for _, e := range cla {
		if e.GetClusterName() != cluster {
			continue
		}
		found = true
		if len(e.GetEndpoints()) != 2 || e.GetEndpoints()[0].GetLoadBalancingWeight().GetValue() != 3 {
			t.Errorf("localities %v", e.GetEndpoints())
		}
	}
	if !found {
		t.Errorf("no endpoints for %s", cluster)
	}
	if _, c := udpRouteCluster(t, res, "default/eg/dead"); c != InvalidBackendCluster {
		t.Errorf("nothing resolved: cluster %q, want %q (datagrams dropped)", c, InvalidBackendCluster)
	}
	if _, err := StaticBootstrap(res, BootstrapOptions{}); err != nil {
		t.Fatal(err)
	}
}
