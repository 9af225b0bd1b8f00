package translate

import (
	"sort"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// gatewayState is one Gateway of ours while it is being built.
type gatewayState struct {
	gw        *gwv1.Gateway
	listeners []*listenerState
	cond      *conditions
	accepted  bool
	keep      bool // KeepPrivilegedPorts
	proxy     *ir.Proxy
	// ports groups the programmable listeners that share a port; they
	// become one Envoy listener, so each hostname must have one owner.
	ports map[int32]*portGroup
	// backendCert is spec.tls.backend.clientCertificateRef (tls.go).
	backendCert *ir.Certificate
	// sets are the ListenerSets that name this Gateway as parent, in
	// precedence order; setListeners the listeners they contribute
	// (listenerset.go). Kept apart from listeners: routes reach them only
	// through a ListenerSet parentRef.
	sets         []*lsState
	setListeners []*listenerState
	// ep is the EnvoyProxy the Gateway uses, translated (envoyproxy.go).
	ep *proxyConfig
}

func (g *gatewayState) key() string { return g.gw.Namespace + "/" + g.gw.Name }

// processGateways validates every Gateway of an accepted class. Gateways of
// another controller's class, or of a class missing from the input, are not
// ours and are left alone.
func (b *builder) processGateways() {
	for _, gw := range b.out.Gateways {
		if !b.classes[string(gw.Spec.GatewayClassName)] {
			continue
		}
		k := nsName{gw.Namespace, gw.Name}
		if _, dup := b.gateways[k]; dup {
			continue
		}
		g := &gatewayState{gw: gw, keep: b.opts.KeepPrivilegedPorts, cond: newConditions(gw.Generation, b.now), ports: map[int32]*portGroup{}}
		b.gateways[k] = g
		b.gwOrder = append(b.gwOrder, g)
		for i := range gw.Spec.Listeners {
			g.listeners = append(g.listeners, b.newListener(g, i))
		}
		markDuplicateNames(g.listeners) // validate_crd.go
		markConflicts(g.listeners)

		accepted, programmed, allOK := 0, 0, true
		for _, l := range g.listeners {
			l.finishConditions()
			if !l.cond.isFalse("Accepted") {
				accepted++
			}
			if l.ready {
				programmed++
				pg := g.ports[l.spec.Port]
				if pg == nil {
					pg = &portGroup{owner: map[string]*listenerState{}, sniTaken: map[string]bool{}}
					g.ports[l.spec.Port] = pg
				}
				pg.listeners = append(pg.listeners, l)
			} else {
				allOK = false
			}
		}
		switch {
		case allOK && len(g.listeners) > 0:
			g.cond.set("Accepted", true, "Accepted", "The Gateway has been accepted")
		case accepted > 0:
			g.cond.set("Accepted", true, "ListenersNotValid", "Some listeners are invalid; the valid ones are programmed")
		default:
			g.cond.set("Accepted", false, "ListenersNotValid", "No listener is valid")
		}
		if programmed > 0 {
			g.cond.set("Programmed", true, "Programmed", "The Gateway has been programmed")
		} else {
			g.cond.set("Programmed", false, "Invalid", "No listener could be programmed")
		}
		b.gatewayTLS(g) // tls.go
		g.accepted = accepted > 0
		if g.accepted {
			g.proxy = &ir.Proxy{Name: g.key(), Namespace: gw.Namespace, Gateway: gw.Name}
		}
		b.processListenerSets(g) // listenerset.go
	}
}

// finishGateways writes listener statuses (attachedRoutes is known only
// after routes) and assembles each proxy's listeners.
func (b *builder) finishGateways() {
	for _, g := range b.gwOrder {
		g.gw.Status.Conditions = g.cond.list
		g.gw.Status.Listeners = make([]gwv1.ListenerStatus, 0, len(g.listeners))
		for _, l := range g.listeners {
			g.gw.Status.Listeners = append(g.gw.Status.Listeners, gwv1.ListenerStatus{
				Name:           l.spec.Name,
				SupportedKinds: l.kinds,
				AttachedRoutes: l.attached,
				Conditions:     l.cond.list,
			})
		}
		b.finishListenerSets(g) // listenerset.go
		if g.proxy == nil {
			continue
		}
		var hls []*ir.HTTPListener
		for _, l := range append(g.listeners[:len(g.listeners):len(g.listeners)], g.setListeners...) {
			if l.ready && (l.spec.Protocol == gwv1.HTTPProtocolType || l.spec.Protocol == gwv1.HTTPSProtocolType) {
				hls = append(hls, l.buildIR())
			}
		}
		// Stable: equal ports keep Gateway order.
		sort.SliceStable(hls, func(i, j int) bool { return hls[i].Port < hls[j].Port })
		g.proxy.HTTP = hls
		g.buildL4(g.proxy)
		b.recordBackendTLSAncestors(g)           // backendtlspolicy.go
		finishBackendTLS(g.proxy, g.backendCert) // tls.go
	}
}
