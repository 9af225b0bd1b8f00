package translate

import (
	"github.com/egctl/egctl/ir"
)

// routePolicy is what a route-level policy kind (BackendTrafficPolicy,
// SecurityPolicy, EnvoyExtensionPolicy) gives the engine: how to apply the
// effective policy to each kind of IR route. A nil function means the kind
// has nothing to say about such routes. An error fails the route closed
// (HTTP answers 500, TCP/TLS connections are refused, UDP datagrams are
// dropped) and refuses the policy where it attached, with the error as the
// message: never a silently open route.
//
// The IR routes handed over are fresh per listener and hostname, but what
// their pointer fields point at (Destination, …) may be shared with other
// routes: copy before changing it.
type routePolicy struct {
	ix   *attachIndex
	http func(e effective, at *attachPoint, r *ir.HTTPRoute) error
	tcp  func(e effective, at *attachPoint, r *ir.TCPRoute) error
	udp  func(e effective, at *attachPoint, r *ir.UDPRoute) error
	// finish, when set, runs once after every route had its policy.
	finish func(cfg *ir.Config)
}

// listenerPolicy is the same for a listener-level kind
// (ClientTrafficPolicy). An error fails every route of the listener closed.
type listenerPolicy struct {
	ix   *attachIndex
	http func(e effective, at *attachPoint, l *ir.HTTPListener) error
	tcp  func(e effective, at *attachPoint, l *ir.TCPListener) error
	udp  func(e effective, at *attachPoint, l *ir.UDPListener) error

	// prepare, when set, sees every listener before any is applied (a
	// kind whose listeners share Envoy configuration checks them together).
	prepare func(cfg *ir.Config)
}

// listenerPoint locates an IR listener from its metadata.
func (b *builder) listenerPoint(md *ir.Metadata) (attachPoint, bool) {
	if md == nil {
		return attachPoint{}, false
	}
	a := attachPoint{listener: md.SectionName}
	switch md.Kind {
	case "Gateway":
		a.gateway = nsName{md.Namespace, md.Name}
	case "ListenerSet":
		o := b.targets.objs[targetKey{"ListenerSet", md.Namespace, md.Name}]
		if o == nil || o.gateway == nil {
			return a, false
		}
		a.set = &nsName{md.Namespace, md.Name}
		a.gateway = nsName{o.gateway.gw.Namespace, o.gateway.gw.Name}
	default:
		return a, false
	}
	return a, true
}

func withRoute(a attachPoint, md *ir.Metadata) attachPoint {
	if md != nil {
		a.routeKind, a.routeNS, a.routeName, a.rule = md.Kind, md.Namespace, md.Name, md.SectionName
	}
	return a
}

// failMessage is what a refused policy says about the traffic it covers.
func failMessage(err error) string {
	return err.Error() + "; the traffic it applies to fails closed"
}

// applyRoutePolicy walks every route of cfg and applies rp.
func (b *builder) applyRoutePolicy(cfg *ir.Config, rp *routePolicy) {
	if len(rp.ix.byScope) == 0 {
		return
	}
	var buf []scope
	var e effective
	run := func(err error) {
		if err != nil {
			msg := failMessage(err)
			e.policy.fail(&e.at, msg)
		}
	}
	for _, px := range cfg.Proxies {
		for _, l := range px.HTTP {
			lp, ok := b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			for _, vh := range l.VirtualHosts {
				for i, r := range vh.Routes {
					at := withRoute(lp, r.Metadata)
					e, buf = rp.ix.lookup(&at, buf)
					if e.policy == nil || rp.http == nil {
						continue
					}
					if err := rp.http(e, &at, r); err != nil {
						vh.Routes[i] = failedHTTPRoute(r)
						run(err)
					}
				}
			}
		}
		for _, l := range px.TCP {
			lp, ok := b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			for i, r := range l.Routes {
				at := withRoute(lp, r.Metadata)
				e, buf = rp.ix.lookup(&at, buf)
				if e.policy == nil || rp.tcp == nil {
					continue
				}
				if err := rp.tcp(e, &at, r); err != nil {
					l.Routes[i] = failedTCPRoute(r)
					run(err)
				}
			}
		}
		for _, l := range px.UDP {
			lp, ok := b.listenerPoint(l.Metadata)
			if !ok || l.Route == nil {
				continue
			}
			at := withRoute(lp, l.Route.Metadata)
			e, buf = rp.ix.lookup(&at, buf)
			if e.policy == nil || rp.udp == nil {
				continue
			}
			if err := rp.udp(e, &at, l.Route); err != nil {
				l.Route = nil
				run(err)
			}
		}
	}
	if rp.finish != nil {
		rp.finish(cfg)
	}
}

// applyListenerPolicy walks every listener of cfg and applies lp.
func (b *builder) applyListenerPolicy(cfg *ir.Config, lp *listenerPolicy) {
	if len(lp.ix.byScope) == 0 {
		return
	}
	if lp.prepare != nil {
		lp.prepare(cfg)
	}
	var buf []scope
	var e effective
	fail := func(err error) {
		e.policy.fail(&e.at, failMessage(err))
	}
	for _, px := range cfg.Proxies {
		for _, l := range px.HTTP {
			at, ok := b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = lp.ix.lookup(&at, buf)
			if e.policy == nil || lp.http == nil {
				continue
			}
			if err := lp.http(e, &at, l); err != nil {
				for _, vh := range l.VirtualHosts {
					for i, r := range vh.Routes {
						vh.Routes[i] = failedHTTPRoute(r)
					}
				}
				fail(err)
			}
		}
		for _, l := range px.TCP {
			at, ok := b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = lp.ix.lookup(&at, buf)
			if e.policy == nil || lp.tcp == nil {
				continue
			}
			if err := lp.tcp(e, &at, l); err != nil {
				for i, r := range l.Routes {
					l.Routes[i] = failedTCPRoute(r)
				}
				fail(err)
			}
		}
		for _, l := range px.UDP {
			at, ok := b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = lp.ix.lookup(&at, buf)
			if e.policy == nil || lp.udp == nil {
				continue
			}
			if err := lp.udp(e, &at, l); err != nil {
				l.Route = nil
				fail(err)
			}
		}
	}
}

// failedHTTPRoute answers 500 where r matched.
func failedHTTPRoute(r *ir.HTTPRoute) *ir.HTTPRoute {
	return &ir.HTTPRoute{
		Name: r.Name, Metadata: r.Metadata, Match: r.Match,
		DirectResponse: &ir.DirectResponse{StatusCode: 500},
	}
}

// failedTCPRoute refuses the connections r matched.
func failedTCPRoute(r *ir.TCPRoute) *ir.TCPRoute {
	cp := *r
	if r.Destination != nil {
		cp.Destination = &ir.RouteDestination{Name: r.Destination.Name, InvalidWeight: 1, Metadata: r.Destination.Metadata}
	} else {
		cp.Destination = &ir.RouteDestination{Name: r.Name + "/rule/-1", InvalidWeight: 1, Metadata: r.Metadata}
	}
	return &cp
}
