package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// routeState is one HTTPRoute (or a GRPCRoute spelled as one, see
// grpcroute.go) while it is being built. Its rules are compiled once,
// whatever the number of parents and hostnames.
type routeState struct {
	r        *gwv1.HTTPRoute
	kind     string // "HTTPRoute" or "GRPCRoute"
	prefix   string // "httproute/ns/name" or "grpcroute/ns/name"
	compiled bool
	rules    []*compiledRule

	// Accepted=False because of the route's own content (fail closed).
	badReason string
	badMsgs   []string
	// Invalid rules (partial.go): ruleInvalid collects the rule being
	// compiled, invalidRules every invalid rule, droppedMsg the
	// PartiallyInvalid message once rules were dropped.
	ruleInvalid  []string
	invalidRules []invalidRule
	droppedMsg   string
	// preInvalidMsgs are invalid values found per rule before compiling
	// (GRPCRoute conversion).
	preInvalidMsgs map[int][]string
	// ResolvedRefs=False.
	refReason string
	refMsgs   []string

	// attachedTo lists the listeners counted in attachedRoutes; a route
	// has few parents, so a slice is cheaper than a map.
	attachedTo []*listenerState
	// hostsOn are the hostnames the route serves through each listener,
	// for the HTTPRoute/GRPCRoute hostname conflict check.
	hostsOn map[*listenerState][]string
	// lost lists the listeners where a route of the other kind won a
	// hostname conflict.
	lost         []*listenerState
	conflictWith []string // "Kind ns/name" of the winners
	parents      []*parentResult
	nsName       string // "ns/name", for precedence ties
	// done writes the status back to the source object once it is final.
	done func(parents []gwv1.RouteParentStatus)
}

// parentResult is the outcome of one parentRef of ours; the status is
// written once every route is attached, because a later route may win a
// hostname conflict against this one.
type parentResult struct {
	ref         gwv1.ParentReference
	reason, msg string
	listeners   []*listenerState
}

// compiledRule is one rule: its action (tmpl, without name and match) and
// one entry per match.
type compiledRule struct {
	idx     int
	tmpl    ir.HTTPRoute
	entries []*matchEntry
}

// unsupported records content we cannot program faithfully. The first
// reason is reported; every message is kept.
func (rs *routeState) unsupported(reason, msg string) {
	if rs.badReason == "" {
		rs.badReason = reason
	}
	rs.badMsgs = append(rs.badMsgs, msg)
}

func (rs *routeState) unresolved(reason, msg string) {
	if rs.refReason == "" {
		rs.refReason = reason
	}
	rs.refMsgs = append(rs.refMsgs, msg)
}

func (b *builder) processHTTPRoutes() {
	seen := make(map[nsName]bool, len(b.out.HTTPRoutes))
	for _, r := range b.out.HTTPRoutes {
		// A duplicate would emit the same Envoy names twice; the first
		// object read wins, as for every other kind.
		k := nsName{r.Namespace, r.Name}
		if seen[k] {
			continue
		}
		seen[k] = true
		nn := r.Namespace + "/" + r.Name
		rs := &routeState{r: r, kind: "HTTPRoute", prefix: "httproute/" + nn, nsName: nn,
			done: func(p []gwv1.RouteParentStatus) { r.Status.Parents = p }}
		b.processHTTPRoute(rs)
	}
}

// processHTTPRoute attaches rs to the Gateways of ours it names. Statuses
// are written later by writeRouteStatuses.
func (b *builder) processHTTPRoute(rs *routeState) {
	r := rs.r
	for _, pref := range r.Spec.ParentRefs {
		g := b.routeParent(r.Namespace, &pref) // listenerset.go
		if g == nil {
			continue // not a Gateway of ours: another controller's business
		}
		if !rs.compiled {
			b.compileRoute(rs)
		}
		pr := &parentResult{ref: pref}
		pr.listeners, pr.reason, pr.msg = b.attach(rs, g, &pref)
		rs.parents = append(rs.parents, pr)
	}
	if len(rs.parents) > 0 || hasParentOf(r, b.opts.ControllerName) {
		b.routes = append(b.routes, rs)
	}
}

// writeRouteStatuses writes the parent statuses of every HTTPRoute and
// GRPCRoute once attachment and conflicts are settled.
func (b *builder) writeRouteStatuses() {
	for _, rs := range b.routes {
		r := rs.r
		if rs.badReason != "" {
			rs.uncount() // partial.go
		}
		ours := make([]gwv1.RouteParentStatus, 0, len(rs.parents))
		for _, pr := range rs.parents {
			c := newConditions(r.Generation, b.now)
			switch {
			case pr.reason != "":
				c.set("Accepted", false, pr.reason, pr.msg)
			case rs.lostAll(pr.listeners):
				c.set("Accepted", false, "HostnameConflict", rs.conflictMessage())
			case rs.badReason != "":
				msg := strings.Join(rs.badMsgs, "; ") + "; affected rules answer 500"
				if rs.droppedMsg != "" {
					msg += "; " + rs.droppedMsg
				}
				c.set("Accepted", false, rs.badReason, msg)
			default:
				c.set("Accepted", true, "Accepted", "Route is accepted")
				if rs.droppedMsg != "" {
					c.set("PartiallyInvalid", true, "UnsupportedValue", rs.droppedMsg)
				}
			}
			if rs.refReason != "" {
				c.set("ResolvedRefs", false, rs.refReason, strings.Join(rs.refMsgs, "; "))
			} else {
				c.set("ResolvedRefs", true, "ResolvedRefs", "All references resolved")
			}
			ours = append(ours, gwv1.RouteParentStatus{
				ParentRef:      pr.ref,
				ControllerName: gwv1.GatewayController(b.opts.ControllerName),
				Conditions:     c.list,
			})
		}
		// Keep what other controllers wrote; replace our own entries.
		parents := make([]gwv1.RouteParentStatus, 0, len(r.Status.Parents)+len(ours))
		for _, p := range r.Status.Parents {
			if string(p.ControllerName) != b.opts.ControllerName {
				parents = append(parents, p)
			}
		}
		rs.done(append(parents, ours...))
	}
}

func hasParentOf(r *gwv1.HTTPRoute, controller string) bool {
	for _, p := range r.Status.Parents {
		if string(p.ControllerName) == controller {
			return true
		}
	}
	return false
}

// parentGateway returns our Gateway a parentRef names, or nil.
func (b *builder) parentGateway(routeNS string, p *gwv1.ParentReference) *gatewayState {
	if p.Group != nil && string(*p.Group) != resource.GroupGatewayAPI {
		return nil
	}
	if p.Kind != nil && *p.Kind != "Gateway" {
		return nil
	}
	ns := routeNS
	if p.Namespace != nil && *p.Namespace != "" {
		ns = string(*p.Namespace)
	}
	return b.gateways[nsName{ns, string(p.Name)}]
}

// attach binds the route to the listeners a parentRef selects and returns
// them, or an Accepted=False reason when it cannot.
func (b *builder) attach(rs *routeState, g *gatewayState, p *gwv1.ParentReference) (attached []*listenerState, reason, msg string) {
	if reason, msg := b.refused(g); reason != "" { // addresses.go
		return nil, reason, msg
	}
	if err := checkRouteHostnamesCRD(rs.r.Spec.Hostnames); err != nil { // validate_crd.go
		return nil, "UnsupportedValue", err.Error()
	}
	var named, kindOK, usable, allowed []*listenerState
	for _, l := range b.refListeners(g, rs.r.Namespace, p) { // listenerset.go
		if p.SectionName != nil && l.spec.Name != *p.SectionName {
			continue
		}
		if p.Port != nil && l.spec.Port != *p.Port {
			continue
		}
		named = append(named, l)
		if !l.allowed[rs.kind] {
			continue // not an HTTP(S) listener, or its kinds exclude this kind
		}
		kindOK = append(kindOK, l)
		// A listener that is accepted but has unresolved refs still takes
		// attachments (they count in attachedRoutes); it is just not
		// programmed, so nothing reaches the IR through it.
		if !l.cond.isFalse("Accepted") && !l.conflicted {
			usable = append(usable, l)
		}
	}
	where := b.refWhere(g, rs.r.Namespace, p) // listenerset.go
	if p.SectionName != nil {
		where += " listener " + string(*p.SectionName)
	}
	if p.Port != nil {
		where += " port " + strconv.Itoa(int(*p.Port))
	}
	switch {
	case len(named) == 0:
		return nil, "NoMatchingParent", "no listener matches: " + where
	case len(kindOK) == 0:
		return nil, "NotAllowedByListeners", where + " does not allow kind " + rs.kind
	case len(usable) == 0:
		return nil, "NoMatchingParent", "no valid listener matches (see the Gateway's listener status): " + where
	}
	for _, l := range usable {
		if b.allowsNamespace(l, rs.r.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return nil, "NotAllowedByListeners", fmt.Sprintf("%s does not allow %ss from namespace %q", where, rs.kind, rs.r.Namespace)
	}
	hostnames := make([]string, len(rs.r.Spec.Hostnames))
	for i, h := range rs.r.Spec.Hostnames {
		hostnames[i] = string(h)
	}
	matched := false
	for _, l := range allowed {
		hosts, ok := routeHostnames(l.host, hostnames)
		if !ok {
			continue
		}
		matched = true
		attached = append(attached, l)
		if !slices.Contains(rs.attachedTo, l) {
			rs.attachedTo = append(rs.attachedTo, l)
			l.attached++
		}
		if !l.ready {
			continue
		}
		if rs.hostsOn == nil {
			rs.hostsOn = map[*listenerState][]string{}
		}
		rs.hostsOn[l] = append(rs.hostsOn[l], hosts...)
		pg := g.ports[l.spec.Port]
		for hi, h := range hosts {
			if pg.ownerOf(h) != l {
				continue // a more specific listener on this port serves h
			}
			vb := l.vhosts[h]
			if vb == nil {
				vb = &vhostBuild{host: h}
				l.vhosts[h] = vb
				if h == "" || isWildcard(h) {
					l.wideHosts = append(l.wideHosts, h)
				}
			}
			vb.addRoute(rs, hi)
		}
	}
	if !matched {
		return nil, "NoMatchingListenerHostname", "no route hostname intersects a listener hostname of " + where
	}
	return attached, "", ""
}

// compileRule turns every rule into IR once.
func (b *builder) compileRoute(rs *routeState) {
	rs.compiled = true
	r := rs.r
	rs.rules = make([]*compiledRule, 0, len(r.Spec.Rules))
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		mark := rs.beginRule(i) // partial.go
		cr := &compiledRule{idx: i}
		md := &ir.Metadata{Kind: rs.kind, Namespace: r.Namespace, Name: r.Name}
		if rule.Name != nil {
			md.SectionName = string(*rule.Name)
		}
		cr.tmpl.Metadata = md
		where := "rules[" + itoa(i) + "]"

		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		rf, rfOK := b.ruleExtensionFilters(rs, rule.Filters, where) // httproutefilter.go
		b.compileMatches(rs, cr, matches, rf.cookieSets(), where)
		if len(rule.Matches) == 0 && rs.kind == "GRPCRoute" && len(rf.cookieSets()) == 0 {
			// The API server gives an HTTPRoute rule without matches a
			// "/" prefix match (match/0); a GRPCRoute rule keeps none, and
			// Envoy Gateway names its one route match/-1.
			for _, e := range cr.entries {
				e.j = -1
			}
		}

		ok := b.applyFilters(rs, cr, rule, matches, rf, where) && rfOK
		sp, spOK := b.sessionPersistence(rs, rule.SessionPersistence, i, where) // sessionpersistence.go
		if !spOK {
			ok = false
		}
		cr.tmpl.SessionPersistence = sp
		if !b.applyTimeouts(rs, cr, rule, where) {
			ok = false
		}
		if !b.applyRetry(rs, cr, rule, where) {
			ok = false
		}
		switch {
		case cr.tmpl.Redirect != nil:
			if len(rule.BackendRefs) > 0 {
				rs.unsupported("IncompatibleFilters", where+": RequestRedirect cannot be combined with backendRefs")
				ok = false
			}
		case cr.tmpl.DirectResponse != nil:
			// An HTTPRouteFilter answers; the backendRefs are still
			// resolved so their status is reported.
			dr := cr.tmpl.DirectResponse
			cr.tmpl.DirectResponse = nil
			if len(rule.BackendRefs) > 0 && !b.buildDestination(rs, cr, rule, i, where) {
				ok = false
			}
			cr.tmpl.Destination, cr.tmpl.DirectResponse = nil, dr
		case !b.buildDestination(rs, cr, rule, i, where):
			ok = false
		default:
			if !keepTogether(rs, cr.tmpl.Destination, sp != nil, where) { // onecluster.go
				ok = false
			}
		}
		if !ok {
			// Fail closed: the rule still matches its traffic and answers 500.
			cr.tmpl = ir.HTTPRoute{Metadata: md, DirectResponse: &ir.DirectResponse{StatusCode: 500}}
		}
		rs.rules = append(rs.rules, cr)
		rs.endRule(cr, mark)
	}
	rs.settleRules()
}

// buildDestination resolves the rule's backendRefs. Unresolved refs keep
// their weight as InvalidWeight; a rule left with no weighted backend
// answers 500 directly.
func (b *builder) buildDestination(rs *routeState, cr *compiledRule, rule *gwv1.HTTPRouteRule, i int, where string) bool {
	dest := &ir.RouteDestination{Name: rs.prefix + "/rule/" + itoa(i), Metadata: cr.tmpl.Metadata,
		Backends: make([]*ir.Backend, 0, len(rule.BackendRefs))}
	ok := true
	for k := range rule.BackendRefs {
		if err := checkWeightCRD(rule.BackendRefs[k].Weight); err != nil { // validate_crd.go
			rs.unsupported("UnsupportedValue", fmt.Sprintf("%s.backendRefs[%d]: %v", where, k, err))
			cr.tmpl.DirectResponse = &ir.DirectResponse{StatusCode: 500}
			return false
		}
	}
	for k := range rule.BackendRefs {
		br := &rule.BackendRefs[k]
		w := uint32(1)
		if br.Weight != nil {
			w = 0
			if *br.Weight > 0 {
				w = uint32(*br.Weight)
			}
		}
		be, rerr := b.resolveRouteBackend(rs, &br.BackendObjectReference)
		if rerr != nil {
			rs.unresolved(rerr.reason, fmt.Sprintf("%s.backendRefs[%d]: %s", where, k, rerr.msg))
			dest.InvalidWeight += w
			continue
		}
		if len(br.Filters) > 0 && !b.applyBackendFilters(rs, be, br.Filters, fmt.Sprintf("%s.backendRefs[%d]", where, k)) {
			ok = false
		}
		if w == 0 {
			continue
		}
		be.Name = dest.Name + "/backend/" + itoa(k)
		be.Weight = w
		dest.Backends = append(dest.Backends, be)
	}
	b.noteRule(dest, len(rule.BackendRefs)) // mergebackends.go
	if len(dest.Backends) == 0 {
		cr.tmpl.DirectResponse = &ir.DirectResponse{StatusCode: 500}
		return ok
	}
	cr.tmpl.Destination = dest
	return ok
}

func itoa(i int) string { return strconv.Itoa(i) }
