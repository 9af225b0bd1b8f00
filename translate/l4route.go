package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// l4Route is a TCPRoute, TLSRoute or UDPRoute: the three share one shape
// (parentRefs, one rule of backendRefs; TLSRoute adds hostnames), so one
// processor serves them.
type l4Route struct {
	kind      string // "TCPRoute", "TLSRoute", "UDPRoute"
	meta      *metav1.ObjectMeta
	spec      *gwv1.CommonRouteSpec
	hostnames []gwv1.Hostname
	rules     [][]gwv1.BackendRef
	status    *gwv1.RouteStatus
	nsName    string

	dest      *ir.RouteDestination
	refReason string
	refMsgs   []string
	badMsg    string // Accepted=False for every parent: the spec cannot be programmed
}

// l4Attachment is one route bound to one listener, with the hostnames it
// serves there (TLSRoute only).
type l4Attachment struct {
	route *l4Route
	hosts []string
}

func (b *builder) processL4Routes() {
	var routes []*l4Route
	seen := map[string]bool{}
	add := func(r *l4Route) {
		k := r.kind + " " + r.nsName
		if seen[k] {
			return // first object read wins, as for every kind
		}
		seen[k] = true
		routes = append(routes, r)
	}
	for _, r := range b.out.TCPRoutes {
		add(newL4Route("TCPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, nil, rulesOf(r.Spec.Rules, func(x gwv1.TCPRouteRule) []gwv1.BackendRef { return x.BackendRefs }), &r.Status.RouteStatus))
	}
	for _, r := range b.out.TLSRoutes {
		add(newL4Route("TLSRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames, rulesOf(r.Spec.Rules, func(x gwv1.TLSRouteRule) []gwv1.BackendRef { return x.BackendRefs }), &r.Status.RouteStatus))
	}
	for _, r := range b.out.UDPRoutes {
		add(newL4Route("UDPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, nil, rulesOf(r.Spec.Rules, func(x gwv1.UDPRouteRule) []gwv1.BackendRef { return x.BackendRefs }), &r.Status.RouteStatus))
	}
	for _, r := range routes {
		b.processL4Route(r)
	}
}

func rulesOf[T any](rules []T, refs func(T) []gwv1.BackendRef) [][]gwv1.BackendRef {
	out := make([][]gwv1.BackendRef, len(rules))
	for i, r := range rules {
		out[i] = refs(r)
	}
	return out
}

func newL4Route(kind string, meta *metav1.ObjectMeta, spec *gwv1.CommonRouteSpec, hosts []gwv1.Hostname, rules [][]gwv1.BackendRef, st *gwv1.RouteStatus) *l4Route {
	return &l4Route{kind: kind, meta: meta, spec: spec, hostnames: hosts, rules: rules, status: st, nsName: meta.Namespace + "/" + meta.Name}
}

// prefix is Envoy Gateway's route name: "tcproute/ns/name".
func (r *l4Route) prefix() string { return strings.ToLower(r.kind) + "/" + r.nsName }

func (b *builder) processL4Route(r *l4Route) {
	var ours []gwv1.RouteParentStatus
	compiled := false
	for _, pref := range r.spec.ParentRefs {
		g := b.routeParent(r.meta.Namespace, &pref) // listenerset.go
		if g == nil {
			continue
		}
		if !compiled {
			compiled = true
			b.compileL4(r)
		}
		c := newConditions(r.meta.Generation, b.now)
		reason, msg := "", ""
		if r.badMsg != "" {
			reason, msg = "UnsupportedValue", r.badMsg
		} else {
			reason, msg = b.attachL4(r, g, &pref)
		}
		if reason != "" {
			c.set("Accepted", false, reason, msg)
		} else {
			c.set("Accepted", true, "Accepted", "Route is accepted")
		}
		if r.refReason != "" {
			c.set("ResolvedRefs", false, r.refReason, strings.Join(r.refMsgs, "; "))
		} else {
			c.set("ResolvedRefs", true, "ResolvedRefs", "All references resolved")
		}
		ours = append(ours, gwv1.RouteParentStatus{
			ParentRef:      pref,
			ControllerName: gwv1.GatewayController(b.opts.ControllerName),
			Conditions:     c.list,
		})
	}
	mine := false
	for _, p := range r.status.Parents {
		mine = mine || string(p.ControllerName) == b.opts.ControllerName
	}
	if len(ours) == 0 && !mine {
		return
	}
	parents := make([]gwv1.RouteParentStatus, 0, len(r.status.Parents)+len(ours))
	for _, p := range r.status.Parents {
		if string(p.ControllerName) != b.opts.ControllerName {
			parents = append(parents, p)
		}
	}
	r.status.Parents = append(parents, ours...)
}

// compileL4 resolves the route's single rule. Unresolved backendRefs keep
// their weight as a fail-closed share: those connections are refused.
func (b *builder) compileL4(r *l4Route) {
	if len(r.rules) != 1 {
		r.badMsg = fmt.Sprintf("spec.rules has %d entries; a %s takes exactly one", len(r.rules), r.kind)
		return
	}
	md := &ir.Metadata{Kind: r.kind, Namespace: r.meta.Namespace, Name: r.meta.Name}
	d := &ir.RouteDestination{Name: r.prefix() + "/rule/-1", Metadata: md}
	from := objRef{group: resource.GroupGatewayAPI, kind: r.kind, namespace: r.meta.Namespace, name: r.meta.Name}
	for k, br := range r.rules[0] {
		if err := checkWeightCRD(br.Weight); err != nil { // validate_crd.go
			r.badMsg = fmt.Sprintf("rules[0].backendRefs[%d]: %v", k, err)
			return
		}
	}
	for k, br := range r.rules[0] {
		w := uint32(1)
		if br.Weight != nil {
			w = 0
			if *br.Weight > 0 {
				w = uint32(*br.Weight)
			}
		}
		be, rerr := b.resolveBackend(from, &br.BackendObjectReference)
		if rerr != nil {
			if r.refReason == "" {
				r.refReason = rerr.reason
			}
			r.refMsgs = append(r.refMsgs, fmt.Sprintf("rules[0].backendRefs[%d]: %s", k, rerr.msg))
			d.InvalidWeight += w
			continue
		}
		if w == 0 {
			continue
		}
		// The stream is opaque: no HTTP protocol options upstream.
		be.Protocol = ""
		be.Name = d.Name + "/backend/" + strconv.Itoa(k)
		be.Weight = w
		d.Backends = append(d.Backends, be)
	}
	b.noteRule(d, len(r.rules[0])) // mergebackends.go
	if len(d.Backends) == 0 && d.InvalidWeight == 0 {
		// No backendRefs, or all of weight 0: nothing may be reached.
		d.InvalidWeight = 1
	}
	if hasFallback(d) { // onecluster.go
		d.OneCluster = true
		if msg := oneClusterProblem(d, "a fallback Backend"); msg != "" {
			r.badMsg = "rules[0]: " + msg
			return
		}
	}
	r.dest = d
}

// attachL4 binds r to the listeners a parentRef selects.
func (b *builder) attachL4(r *l4Route, g *gatewayState, p *gwv1.ParentReference) (reason, msg string) {
	if reason, msg := b.refused(g); reason != "" { // addresses.go
		return reason, msg
	}
	if err := checkRouteHostnamesCRD(r.hostnames); err != nil { // validate_crd.go
		return "UnsupportedValue", err.Error()
	}
	var named, kindOK, usable []*listenerState
	for _, l := range b.refListeners(g, r.meta.Namespace, p) { // listenerset.go
		if p.SectionName != nil && l.spec.Name != *p.SectionName {
			continue
		}
		if p.Port != nil && l.spec.Port != *p.Port {
			continue
		}
		named = append(named, l)
		if !l.allowed[r.kind] {
			continue
		}
		kindOK = append(kindOK, l)
		if !l.cond.isFalse("Accepted") && !l.conflicted {
			usable = append(usable, l)
		}
	}
	where := b.refWhere(g, r.meta.Namespace, p) // listenerset.go
	if p.SectionName != nil {
		where += " listener " + string(*p.SectionName)
	}
	if p.Port != nil {
		where += " port " + strconv.Itoa(int(*p.Port))
	}
	switch {
	case len(named) == 0:
		return "NoMatchingParent", "no listener matches: " + where
	case len(kindOK) == 0:
		return "NotAllowedByListeners", where + " does not allow kind " + r.kind
	case len(usable) == 0:
		return "NoMatchingParent", "no valid listener matches (see the Gateway's listener status): " + where
	}
	var allowed []*listenerState
	for _, l := range usable {
		if b.allowsNamespace(l, r.meta.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return "NotAllowedByListeners", fmt.Sprintf("%s does not allow %ss from namespace %q", where, r.kind, r.meta.Namespace)
	}
	routeHosts := make([]string, len(r.hostnames))
	for i, h := range r.hostnames {
		routeHosts[i] = string(h)
	}
	matched := false
	for _, l := range allowed {
		var hosts []string
		switch {
		case r.kind == "TLSRoute":
			var ok bool
			if hosts, ok = routeHostnames(l.host, routeHosts); !ok {
				continue
			}
		case l.spec.Protocol == gwv1.TLSProtocolType:
			// A TCPRoute names no hosts: on a terminating TLS listener it
			// takes the listener's server name ("" is the catch-all).
			hosts = []string{l.host}
		}
		matched = true
		if slices.ContainsFunc(l.l4, func(a *l4Attachment) bool { return a.route == r }) {
			continue
		}
		l.attached++
		l.l4 = append(l.l4, &l4Attachment{route: r, hosts: hosts})
	}
	if !matched {
		return "NoMatchingListenerHostname", "no route hostname intersects a listener hostname of " + where
	}
	return "", ""
}

// olderL4 orders routes for conflicts: the oldest first, then by
// "namespace/name" (Gateway API conflict resolution).
func olderL4(a, b *l4Attachment) int {
	ta, tb := a.route.meta.CreationTimestamp.Time, b.route.meta.CreationTimestamp.Time
	if !ta.Equal(tb) {
		if ta.Before(tb) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.route.nsName, b.route.nsName)
}

// buildL4 assembles the TCP and UDP listeners of g. Only one route can
// own a TCP or UDP listener: the oldest wins, the others stay attached (and
// counted) but carry no traffic, as the conformance suite expects. On TLS
// listeners each server name goes to the most specific listener of its
// port and there to the oldest route claiming it.
func (g *gatewayState) buildL4(p *ir.Proxy) {
	for _, l := range slices.Concat(g.listeners, g.setListeners) {
		if !l.ready {
			continue
		}
		atts := slices.Clone(l.l4)
		slices.SortStableFunc(atts, olderL4)
		base := func() (string, uint32, uint32, *ir.Metadata) {
			return l.name(), l.bindPort(g.keep), uint32(l.spec.Port), l.metadata()
		}
		switch l.spec.Protocol {
		case gwv1.UDPProtocolType:
			name, port, gport, md := base()
			ul := &ir.UDPListener{Name: name, Address: "0.0.0.0", Port: port, GatewayPort: gport, Metadata: md}
			if len(atts) > 0 {
				r := atts[0].route
				d := r.dest
				if len(d.Backends) > 0 && d.InvalidWeight > 0 {
					// udp_proxy sends to one cluster and cannot drop a
					// share of datagrams: the resolved backends take all
					// of them. ResolvedRefs=False says which ref is missing.
					c := *d
					c.InvalidWeight = 0
					d = &c
				}
				ul.Route = &ir.UDPRoute{Name: r.prefix(), Destination: d, Metadata: d.Metadata}
			}
			p.UDP = append(p.UDP, ul)
		case gwv1.TCPProtocolType:
			name, port, gport, md := base()
			tl := &ir.TCPListener{Name: name, Address: "0.0.0.0", Port: port, GatewayPort: gport, Metadata: md}
			if len(atts) > 0 {
				r := atts[0].route
				tl.Routes = []*ir.TCPRoute{{Name: r.prefix(), Destination: r.dest, Metadata: r.dest.Metadata}}
			}
			p.TCP = append(p.TCP, tl)
		case gwv1.TLSProtocolType:
			name, port, gport, md := base()
			tl := &ir.TCPListener{Name: name, Address: "0.0.0.0", Port: port, GatewayPort: gport, TLS: l.tls, Passthrough: l.passthrough, Metadata: md}
			pg := g.ports[l.spec.Port]
			for _, a := range atts {
				var hosts []string
				for _, h := range a.hosts {
					if pg.ownerOf(h) != l || pg.sniTaken[h] {
						continue // a more specific listener, or an older route, has it
					}
					pg.sniTaken[h] = true
					hosts = append(hosts, h)
				}
				if len(hosts) == 0 {
					continue
				}
				if hosts[0] == "" {
					hosts = nil // "" only comes alone: the catch-all chain
				}
				tl.Routes = append(tl.Routes, &ir.TCPRoute{Name: a.route.prefix(), SNI: hosts, Destination: a.route.dest, Metadata: a.route.dest.Metadata})
			}
			p.TCP = append(p.TCP, tl)
		}
	}
	slices.SortStableFunc(p.TCP, func(a, b *ir.TCPListener) int { return int(a.Port) - int(b.Port) })
	slices.SortStableFunc(p.UDP, func(a, b *ir.UDPListener) int { return int(a.Port) - int(b.Port) })
}
