package xds

import (
	"fmt"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"

	"github.com/egctl/egctl/ir"
)

const (
	udpProxyFilterName = "envoy.filters.udp_listener.udp_proxy"
	udpRouteActionName = "route"
	udpStatPrefix      = "service"
)

// buildUDPListeners adds one Envoy UDP listener per entry with a route: a
// udp_proxy listener filter whose matcher sends every datagram to the
// route's cluster.
func (b *builder) buildUDPListeners(entries []*ir.UDPListener) error {
	for i, e := range entries {
		if e == nil {
			return fmt.Errorf("UDP[%d] is nil", i)
		}
		if e.Route == nil {
			continue // nothing to forward to: no socket is opened
		}
		if e.Port == 0 || e.Port > 65535 {
			return fmt.Errorf("listener %q: Port %d out of range 1..65535", e.Name, e.Port)
		}
		l, err := b.buildUDPListener(e)
		if err != nil {
			return fmt.Errorf("listener %q: %w", e.Name, err)
		}
		b.res.Listeners = append(b.res.Listeners, l)
		b.served(l).udp = append(b.served(l).udp, e)
	}
	return nil
}

func (b *builder) buildUDPListener(e *ir.UDPListener) (*listenerv3.Listener, error) {
	r := e.Route
	d := r.Destination
	if d == nil || d.Name == "" {
		return nil, fmt.Errorf("route %q: missing Destination", r.Name)
	}
	var live []*ir.Backend
	for _, be := range d.Backends {
		if be != nil && be.Weight > 0 {
			live = append(live, be)
		}
	}
	// udp_proxy routes to one cluster; several backends share it with one
	// locality each, weighted (as HTTP does for a single cluster). With
	// nothing resolved the datagrams go to a cluster that does not exist
	// and are dropped (fail closed).
	cluster := InvalidBackendCluster
	if len(live) > 0 {
		if d.InvalidWeight > 0 {
			return nil, fmt.Errorf("route %q: a fail-closed share cannot be expressed for UDP; translate must not produce one with live backends", r.Name)
		}
		switch {
		case len(live) == 1 && live[0].Merged:
			if err := b.addBackendCluster(live[0]); err != nil { // backendcluster.go
				return nil, err
			}
			cluster = live[0].Name
		case anyMerged(d):
			return nil, fmt.Errorf("route %q: several backends of one UDP route cannot share clusters with other routes; translate must not merge them", r.Name)
		default:
			if err := b.addCluster(d, d.Name, live); err != nil {
				return nil, err
			}
			cluster = d.Name
		}
	}
	action, err := toAny(&udpproxyv3.Route{Cluster: cluster})
	if err != nil {
		return nil, err
	}
	proxy := &udpproxyv3.UdpProxyConfig{
		// Envoy Gateway's prefix for every UDP route ("udp.service.*"):
		// dashboards made for its proxies read these stats.
		StatPrefix: udpStatPrefix,
		RouteSpecifier: &udpproxyv3.UdpProxyConfig_Matcher{Matcher: &xdsmatcherv3.Matcher{
			OnNoMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{
				Action: &xdscorev3.TypedExtensionConfig{Name: udpRouteActionName, TypedConfig: action},
			}},
		}},
	}
	if err := b.patchUDPRouteFeatures(e, r, proxy); err != nil { // features.go
		return nil, err
	}
	typed, err := toAny(proxy)
	if err != nil {
		return nil, err
	}
	addr := e.Address
	if addr == "" {
		addr = "0.0.0.0"
	}
	sa := socketAddress(addr, e.Port)
	sa.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
	return &listenerv3.Listener{
		Name:    e.Name,
		Address: sa,
		// No udp_listener_config: the address's protocol makes the
		// listener a UDP one, and Envoy Gateway writes none either.
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       udpProxyFilterName,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: typed},
		}},
	}, nil
}
