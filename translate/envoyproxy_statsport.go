package translate

import (
	"fmt"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// DefaultStatsPort is the port of the Prometheus stats listener, as in
// Envoy Gateway (xds.DefaultStatsPort, which builds it, is the same).
const DefaultStatsPort = 19001

// checkStatsPort refuses the listeners that would bind the Prometheus stats
// listener's port on a proxy that gets one (its EnvoyProxy's
// telemetry.metrics, or Envoy Gateway's defaults): Envoy could not bind
// both and would start nothing. It runs once every Gateway's EnvoyProxy is
// known and before routes attach, as checkReadyPort does for the readiness
// listener.
func (b *builder) checkStatsPort() {
	port := b.opts.StatsPort
	if port == 0 {
		port = DefaultStatsPort
	}
	for _, g := range b.gwOrder {
		if !g.accepted || !b.servesStats(g) {
			continue
		}
		refused := false
		for _, l := range slices.Concat(g.listeners, g.setListeners) {
			if l.spec.Protocol == gwv1.UDPProtocolType || l.cond.isFalse("Accepted") {
				continue
			}
			p := l.bindPort(g.keep)
			if p != port {
				continue
			}
			msg := fmt.Sprintf("port %d is the Prometheus stats listener's", p)
			if p != uint32(l.spec.Port) {
				msg = fmt.Sprintf("port %d binds %d, the Prometheus stats listener's", l.spec.Port, p)
			}
			// The listeners are finished (gateway.go): take this one out of
			// its port group as markMergedConflicts does.
			l.cond.set("Accepted", false, reasonAdminPortCollision, msg+" (--stats-port); use another port or move the stats listener")
			l.cond.set("Programmed", false, "Invalid", "Listener is invalid; see its other conditions")
			l.ready = false
			if pg := g.ports[l.spec.Port]; pg != nil {
				pg.listeners = slices.DeleteFunc(pg.listeners, func(x *listenerState) bool { return x == l })
			}
			refused = true
		}
		if !refused {
			continue
		}
		if slices.ContainsFunc(g.listeners, func(l *listenerState) bool { return !l.cond.isFalse("Accepted") }) {
			g.cond.set("Accepted", true, "ListenersNotValid", "Some listeners are invalid; the valid ones are programmed")
		} else if len(g.listeners) > 0 {
			g.cond.set("Accepted", false, "ListenersNotValid", "No listener is valid")
		}
		if !slices.ContainsFunc(slices.Concat(g.listeners, g.setListeners), func(l *listenerState) bool { return l.ready }) {
			g.cond.set("Programmed", false, "Invalid", "No listener could be programmed")
		}
	}
}

// servesStats reports whether g's proxy gets a Prometheus stats listener.
func (b *builder) servesStats(g *gatewayState) bool {
	cfg := g.ep
	if cfg == nil {
		if !b.opts.EnvoyGatewayDefaults {
			return false
		}
		cfg = b.defaultProxyConfig() // envoyproxy_apply.go
	}
	return cfg.settings != nil && cfg.settings.Metrics != nil && cfg.settings.Metrics.Prometheus != nil
}
