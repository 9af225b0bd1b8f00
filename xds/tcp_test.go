package xds

import (
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/egctl/egctl/ir"
)

func l4Proxy(tcp []*ir.TCPListener, udp []*ir.UDPListener) *ir.Config {
	return &ir.Config{Proxies: []*ir.Proxy{{Name: "default/eg", Namespace: "default", Gateway: "eg", TCP: tcp, UDP: udp}}}
}

func findListener(t *testing.T, r *Resources, name string) *listenerv3.Listener {
	t.Helper()
	for _, l := range r.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	t.Fatalf("no listener %q", name)
	return nil
}

func tcpProxyOf(t *testing.T, fc *listenerv3.FilterChain) *tcpproxyv3.TcpProxy {
	t.Helper()
	if len(fc.GetFilters()) != 1 || fc.GetFilters()[0].GetName() != tcpProxyFilterName {
		t.Fatalf("chain %q: filters %v, want one tcp_proxy", fc.GetName(), fc.GetFilters())
	}
	tp := &tcpproxyv3.TcpProxy{}
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(tp); err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestTCPListener(t *testing.T) {
	res := translateOne(t, l4Proxy([]*ir.TCPListener{
		{Name: "default/eg/one", Port: 5000, Routes: []*ir.TCPRoute{{Name: "tcproute/default/one",
			Destination: dest("tcproute/default/one/rule/-1", ipBackend("tcproute/default/one/rule/-1/backend/0", 1, 3000))}}},
		{Name: "default/eg/split", Port: 5001, Routes: []*ir.TCPRoute{{Name: "tcproute/default/split",
			Destination: &ir.RouteDestination{Name: "tcproute/default/split/rule/-1", InvalidWeight: 1, Backends: []*ir.Backend{
				ipBackend("tcproute/default/split/rule/-1/backend/0", 2, 3001),
				ipBackend("tcproute/default/split/rule/-1/backend/1", 0, 3002), // weight 0: no cluster
				ipBackend("tcproute/default/split/rule/-1/backend/2", 1, 3003),
			}}}}},
		{Name: "default/eg/idle", Port: 5002}, // no route: no Envoy listener
		{Name: "default/eg/dead", Port: 5003, Routes: []*ir.TCPRoute{{Name: "tcproute/default/dead",
			Destination: &ir.RouteDestination{Name: "tcproute/default/dead/rule/-1", InvalidWeight: 1}}}},
	}, nil))
	if len(res.Listeners) != 3 {
		t.Fatalf("%d listeners, want 3 (a listener without routes is not emitted)", len(res.Listeners))
	}

	one := findListener(t, res, "default/eg/one")
	if len(one.FilterChains) != 1 || one.FilterChains[0].FilterChainMatch != nil || len(one.ListenerFilters) != 0 {
		t.Fatalf("plain TCP wants one unmatched chain and no tls_inspector: %v", one)
	}
	tp := tcpProxyOf(t, one.FilterChains[0])
	if tp.GetCluster() != "tcproute/default/one/rule/-1" || tp.GetStatPrefix() != "tcp-5000" {
		t.Errorf("tcp_proxy = %v", tp)
	}
	findCluster(t, res, "tcproute/default/one/rule/-1")

	wc := tcpProxyOf(t, findListener(t, res, "default/eg/split").FilterChains[0]).GetWeightedClusters().GetClusters()
	want := []struct {
		name   string
		weight uint32
	}{{"tcproute/default/split/rule/-1/backend/0", 2}, {"tcproute/default/split/rule/-1/backend/2", 1}, {InvalidBackendCluster, 1}}
	if len(wc) != len(want) {
		t.Fatalf("weighted clusters %v", wc)
	}
	for i, w := range want {
		if wc[i].GetName() != w.name || wc[i].GetWeight() != w.weight {
			t.Errorf("weighted cluster %d = %s/%d, want %s/%d", i, wc[i].GetName(), wc[i].GetWeight(), w.name, w.weight)
		}
	}
	for _, c := range res.Clusters {
		if c.GetName() == "tcproute/default/split/rule/-1/backend/1" || c.GetName() == InvalidBackendCluster {
			t.Errorf("unexpected cluster %s", c.GetName())
		}
		if len(c.GetTypedExtensionProtocolOptions()) != 0 {
			t.Errorf("cluster %s: a TCP cluster needs no HTTP protocol options", c.GetName())
		}
	}
	if got := tcpProxyOf(t, findListener(t, res, "default/eg/dead").FilterChains[0]).GetCluster(); got != InvalidBackendCluster {
		t.Errorf("nothing resolved: cluster %q, want %q (fail closed)", got, InvalidBackendCluster)
	}

	// The static bootstrap keeps TCP listeners as they are and inlines
	// the endpoints of their clusters.
	if _, err := StaticBootstrap(res, BootstrapOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestTCPRouteOneClusterForSeveralBackends: backends that fit one cluster
// (same discovery type, every one with endpoints, no fail-closed share)
// are one cluster with a locality per backend weighted as written, as
// Envoy Gateway writes a TCP rule; a fail-closed share still splits them.
func TestTCPRouteOneClusterForSeveralBackends(t *testing.T) {
	res := translateOne(t, l4Proxy([]*ir.TCPListener{
		{Name: "default/eg/two", Port: 5000, Routes: []*ir.TCPRoute{{Name: "tcproute/default/two",
			Destination: &ir.RouteDestination{Name: "tcproute/default/two/rule/-1", Backends: []*ir.Backend{
				ipBackend("tcproute/default/two/rule/-1/backend/0", 3, 3000),
				ipBackend("tcproute/default/two/rule/-1/backend/1", 1, 3001),
			}}}}},
	}, nil))
	tp := tcpProxyOf(t, findListener(t, res, "default/eg/two").FilterChains[0])
	if tp.GetCluster() != "tcproute/default/two/rule/-1" {
		t.Fatalf("tcp_proxy = %v, want the rule's one cluster", tp)
	}
	var weights []uint32
	for _, cla := range res.Endpoints {
		if cla.GetClusterName() != "tcproute/default/two/rule/-1" {
			t.Errorf("unexpected load assignment %q", cla.GetClusterName())
			continue
		}
		for _, loc := range cla.GetEndpoints() {
			weights = append(weights, loc.GetLoadBalancingWeight().GetValue())
		}
	}
	if len(weights) != 2 || weights[0] != 3 || weights[1] != 1 {
		t.Fatalf("locality weights %v, want [3 1]", weights)
	}
	if len(res.Clusters) != 1 {
		t.Fatalf("%d clusters, want 1", len(res.Clusters))
	}
}
