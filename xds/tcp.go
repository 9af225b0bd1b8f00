package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

const tcpProxyFilterName = "envoy.filters.network.tcp_proxy"

// buildL4 adds the TCP/TLS and UDP listeners of p. It runs after the HTTP
// listeners: a TLS entry on the port of an HTTP(S) listener adds its filter
// chains to that Envoy listener.
func (b *builder) buildL4(p *ir.Proxy) error {
	if err := b.buildTCPListeners(p.TCP); err != nil {
		return err
	}
	return b.buildUDPListeners(p.UDP)
}

// buildTCPListeners groups the entries by port; each group becomes one
// Envoy listener named after its first entry, one filter chain per route.
// Entries without routes add nothing: Envoy refuses a listener with no
// filter chain, and with none there is nothing to accept connections for.
func (b *builder) buildTCPListeners(entries []*ir.TCPListener) error {
	var order []uint32
	groups := map[uint32][]*ir.TCPListener{}
	for i, l := range entries {
		if l == nil {
			return fmt.Errorf("TCP[%d] is nil", i)
		}
		if len(l.Routes) == 0 {
			continue
		}
		if _, ok := groups[l.Port]; !ok {
			order = append(order, l.Port)
		}
		groups[l.Port] = append(groups[l.Port], l)
	}
	for _, port := range order {
		if err := b.buildTCPPort(groups[port]); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) buildTCPPort(entries []*ir.TCPListener) error {
	first := entries[0]
	if first.Port == 0 || first.Port > 65535 {
		return fmt.Errorf("listener %q: Port %d out of range 1..65535", first.Name, first.Port)
	}
	l := b.listenerOnPort(first.Port)
	if l == nil {
		addr := first.Address
		if addr == "" {
			addr = "0.0.0.0"
		}
		l = &listenerv3.Listener{
			Name:                          first.Name,
			Address:                       socketAddress(addr, first.Port),
			PerConnectionBufferLimitBytes: wrapperspb.UInt32(connectionBufferLimitBytes),
		}
		b.res.Listeners = append(b.res.Listeners, l)
	}
	b.served(l).tcp = append(b.served(l).tcp, entries...)
	chainNames := map[string]bool{}
	for _, fc := range l.FilterChains {
		chainNames[fc.GetName()] = true
	}
	needInspector := false
	for _, e := range entries {
		for i, r := range e.Routes {
			if r == nil {
				return fmt.Errorf("listener %q: Routes[%d] is nil", e.Name, i)
			}
			fc, err := b.buildTCPChain(e, r)
			if err != nil {
				return fmt.Errorf("listener %q: route %q: %w", e.Name, r.Name, err)
			}
			// A route attached to two listeners of one port needs two
			// chains; the listener name keeps their names apart.
			if chainNames[fc.Name] {
				fc.Name = e.Name + "/" + fc.Name
			}
			chainNames[fc.Name] = true
			if fc.FilterChainMatch != nil {
				needInspector = true
			}
			l.FilterChains = append(l.FilterChains, fc)
		}
	}
	if needInspector {
		if err := ensureTLSInspector(l); err != nil {
			return err
		}
	}
	return nil
}

// isTLSEntry tells a TLS listener (terminate or passthrough) from a TCP one.
func isTLSEntry(e *ir.TCPListener) bool {
	return e.TLS != nil || e.Passthrough
}

// listenerOnPort returns the Envoy listener already built for port, if any.
func (b *builder) listenerOnPort(port uint32) *listenerv3.Listener {
	for _, l := range b.res.Listeners {
		if sa := l.GetAddress().GetSocketAddress(); sa != nil && sa.GetPortValue() == port && sa.GetProtocol() == corev3.SocketAddress_TCP {
			return l
		}
	}
	return nil
}

// buildTCPChain is one route's filter chain: SNI match (TLS), TLS
// termination (mode Terminate) and a tcp_proxy to the destination.
func (b *builder) buildTCPChain(e *ir.TCPListener, r *ir.TCPRoute) (*listenerv3.FilterChain, error) {
	if r.Destination == nil {
		return nil, fmt.Errorf("nil Destination")
	}
	statPrefix := fmt.Sprintf("tcp-%d", e.Port)
	switch {
	case e.TLS != nil:
		statPrefix = fmt.Sprintf("tls-terminate-%d", e.Port)
	case isTLSEntry(e):
		statPrefix = fmt.Sprintf("tls-passthrough-%d", e.Port)
	}
	tp := &tcpproxyv3.TcpProxy{StatPrefix: statPrefix}
	if err := b.setTCPDestination(tp, r.Destination); err != nil {
		return nil, fmt.Errorf("Destination: %w", err)
	}
	before, err := b.patchTCPRouteFeatures(e, r, tp) // features.go
	if err != nil {
		return nil, err
	}
	typed, err := toAny(tp)
	if err != nil {
		return nil, err
	}
	// The chain's name says which route it is; Envoy Gateway writes no
	// metadata on it, and the route's cluster carries the route's.
	fc := &listenerv3.FilterChain{
		Name:    r.Name,
		Filters: append(before, &listenerv3.Filter{Name: tcpProxyFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}),
	}
	if len(r.SNI) > 0 {
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: append([]string(nil), r.SNI...)}
	}
	if e.TLS != nil {
		ts, err := b.buildTerminateTLS(e.TLS)
		if err != nil {
			return nil, err
		}
		fc.TransportSocket = ts
		if fc.FilterChainMatch == nil {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{}
		}
		fc.FilterChainMatch.TransportProtocol = "tls"
	} else if len(r.SNI) > 0 {
		fc.FilterChainMatch.TransportProtocol = "tls"
	}
	return fc, nil
}

// setTCPDestination points tp at d: backends that fit one cluster are one
// cluster, the others weighted_clusters of one cluster each. The share of unresolved
// backendRefs goes to a cluster that does not exist, so Envoy closes those
// connections (fail closed).
func (b *builder) setTCPDestination(tp *tcpproxyv3.TcpProxy, d *ir.RouteDestination) error {
	if d.Name == "" {
		return fmt.Errorf("empty Name")
	}
	var live []*ir.Backend
	for i, be := range d.Backends {
		if be == nil {
			return fmt.Errorf("%s: Backends[%d] is nil", d.Name, i)
		}
		if be.Weight > 0 {
			live = append(live, be)
		}
	}
	switch {
	case len(live) == 0:
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: InvalidBackendCluster}
		return nil
	case oneCluster(d): // fallback priorities live in one cluster (failover.go)
		if err := b.addCluster(d, d.Name, live); err != nil {
			return err
		}
		if d.InvalidWeight == 0 {
			tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: d.Name}
			return nil
		}
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpproxyv3.TcpProxy_WeightedCluster{
			Clusters: []*tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{
				{Name: d.Name, Weight: uint32(totalWeight(live))},
				{Name: InvalidBackendCluster, Weight: d.InvalidWeight},
			},
		}}
		return nil
	case len(live) == 1 && d.InvalidWeight == 0 && live[0].Merged:
		if err := b.addBackendCluster(live[0]); err != nil { // backendcluster.go
			return err
		}
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: live[0].Name}
		return nil
	case singleCluster(&ir.RouteDestination{Name: d.Name, Backends: live, InvalidWeight: d.InvalidWeight}): // cluster.go
		// One cluster, a locality per backend weighted as written, as
		// Envoy Gateway writes a TCP rule.
		if err := b.addCluster(d, d.Name, live); err != nil {
			return err
		}
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: d.Name}
		return nil
	}
	wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
	var total uint64
	for _, be := range live {
		if be.Name == "" {
			return fmt.Errorf("%s: backend with empty Name", d.Name)
		}
		name, err := b.backendClusterFor(d, be) // backendcluster.go
		if err != nil {
			return err
		}
		wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: name, Weight: be.Weight})
		total += uint64(be.Weight)
	}
	if d.InvalidWeight > 0 {
		wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: InvalidBackendCluster, Weight: d.InvalidWeight})
		total += uint64(d.InvalidWeight)
	}
	if total > 0xFFFFFFFF {
		return fmt.Errorf("%s: sum of weights %d exceeds 2^32-1", d.Name, total)
	}
	tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	return nil
}
