package translate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GRPCRoutes are compiled by the HTTPRoute machinery: a gRPC method is an
// HTTP/2 POST to "/service/method", so each GRPCRoute is spelled as an
// HTTPRoute (path + header matches, the filters both kinds share) and runs
// through the same attachment, precedence and backend code, with its own
// kind, names ("grpcroute/ns/name/...") and HTTP/2 upstreams.

func (b *builder) processGRPCRoutes() {
	seen := make(map[nsName]bool, len(b.out.GRPCRoutes))
	for _, g := range b.out.GRPCRoutes {
		k := nsName{g.Namespace, g.Name}
		if seen[k] {
			continue
		}
		seen[k] = true
		nn := g.Namespace + "/" + g.Name
		r, errs := grpcAsHTTP(g)
		rs := &routeState{r: r, kind: "GRPCRoute", prefix: "grpcroute/" + nn, nsName: nn,
			done: func(p []gwv1.RouteParentStatus) { g.Status.Parents = p }}
		for _, e := range errs {
			if e.unknown {
				rs.unsupported("UnsupportedValue", e.msg)
			} else {
				rs.preInvalid(e.rule, e.msg) // partial.go: judged with its rule
			}
		}
		b.processHTTPRoute(rs)
	}
}

// grpcAsHTTP spells g as an HTTPRoute. Matches that cannot be converted are
// left out of the result and reported; their rule still answers for its
// other matches, and the route is marked not accepted.
func grpcAsHTTP(g *gwv1.GRPCRoute) (*gwv1.HTTPRoute, []grpcMatchError) {
	r := &gwv1.HTTPRoute{ObjectMeta: g.ObjectMeta}
	r.Spec.CommonRouteSpec = g.Spec.CommonRouteSpec
	r.Spec.Hostnames = g.Spec.Hostnames
	r.Status.RouteStatus = g.Status.RouteStatus
	var errs []grpcMatchError
	for i := range g.Spec.Rules {
		gr := &g.Spec.Rules[i]
		hr := gwv1.HTTPRouteRule{Name: gr.Name, SessionPersistence: gr.SessionPersistence}
		for j := range gr.Matches {
			m, err := grpcMatch(&gr.Matches[j])
			if err != nil {
				errs = append(errs, grpcMatchError{rule: i, unknown: isUnknownValue(err),
					msg: fmt.Sprintf("rules[%d].matches[%d]: %v (match not programmed)", i, j, err)})
				// An impossible path keeps the match indexes stable
				// while matching no request.
				m = gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptrTo(gwv1.PathMatchExact), Value: ptrTo("/-invalid-grpc-match-")}}
			}
			hr.Matches = append(hr.Matches, m)
		}
		for _, f := range gr.Filters {
			hr.Filters = append(hr.Filters, grpcFilter(f))
		}
		for _, br := range gr.BackendRefs {
			hb := gwv1.HTTPBackendRef{BackendRef: br.BackendRef}
			for _, f := range br.Filters {
				hb.Filters = append(hb.Filters, grpcFilter(f))
			}
			hr.BackendRefs = append(hr.BackendRefs, hb)
		}
		r.Spec.Rules = append(r.Spec.Rules, hr)
	}
	return r, errs
}

// anySegment is one path element of a gRPC path: a service or a method.
const anySegment = "[^/]+"

// grpcMatch converts a method match to a path match: Exact service and
// method is an exact path, a service alone is a path prefix, anything else
// a regular expression over the two path elements.
func grpcMatch(m *gwv1.GRPCRouteMatch) (gwv1.HTTPRouteMatch, error) {
	var out gwv1.HTTPRouteMatch
	for _, h := range m.Headers {
		hm := gwv1.HTTPHeaderMatch{Name: gwv1.HTTPHeaderName(h.Name), Value: h.Value}
		if h.Type != nil {
			hm.Type = ptrTo(gwv1.HeaderMatchType(*h.Type))
		}
		out.Headers = append(out.Headers, hm)
	}
	mm := m.Method
	if mm == nil {
		return out, nil
	}
	svc, method := "", ""
	if mm.Service != nil {
		svc = *mm.Service
	}
	if mm.Method != nil {
		method = *mm.Method
	}
	if svc == "" && method == "" {
		return out, fmt.Errorf("method match sets neither service nor method")
	}
	regex := mm.Type != nil && *mm.Type == gwv1.GRPCMethodMatchRegularExpression
	if !regex {
		if mm.Type != nil && *mm.Type != gwv1.GRPCMethodMatchExact {
			return out, unknownValuef("method match type %q is not supported", *mm.Type)
		}
		for _, part := range []string{svc, method} {
			if strings.Contains(part, "/") {
				return out, fmt.Errorf("service and method must not contain '/': %q", part)
			}
		}
		switch {
		case method == "":
			out.Path = &gwv1.HTTPPathMatch{Type: ptrTo(gwv1.PathMatchPathPrefix), Value: ptrTo("/" + svc)}
		case svc == "":
			out.Path = &gwv1.HTTPPathMatch{Type: ptrTo(gwv1.PathMatchRegularExpression), Value: ptrTo("/" + anySegment + "/" + regexp.QuoteMeta(method))}
		default:
			out.Path = &gwv1.HTTPPathMatch{Type: ptrTo(gwv1.PathMatchExact), Value: ptrTo("/" + svc + "/" + method)}
		}
		return out, nil
	}
	for _, part := range []string{svc, method} {
		if _, err := regexp.Compile(part); err != nil {
			return out, fmt.Errorf("regex %q: %v", part, err)
		}
	}
	if svc == "" {
		svc = anySegment
	}
	if method == "" {
		method = anySegment
	}
	out.Path = &gwv1.HTTPPathMatch{Type: ptrTo(gwv1.PathMatchRegularExpression), Value: ptrTo("/(" + svc + ")/(" + method + ")")}
	return out, nil
}

func grpcFilter(f gwv1.GRPCRouteFilter) gwv1.HTTPRouteFilter {
	return gwv1.HTTPRouteFilter{
		Type:                   gwv1.HTTPRouteFilterType(f.Type),
		RequestHeaderModifier:  f.RequestHeaderModifier,
		ResponseHeaderModifier: f.ResponseHeaderModifier,
		RequestMirror:          f.RequestMirror,
		ExtensionRef:           f.ExtensionRef,
	}
}

// resolveKindConflicts applies the GRPCRoute rule: when an HTTPRoute and a
// GRPCRoute attached to one listener have intersecting hostnames, only the
// older one (then the first by "namespace/name") is accepted there; the
// other is taken off that listener.
func (b *builder) resolveKindConflicts() {
	var listeners []*listenerState
	byListener := map[*listenerState][]*routeState{}
	kinds := map[*listenerState]map[string]bool{}
	for _, rs := range b.routes {
		for _, l := range rs.attachedTo {
			if _, ok := rs.hostsOn[l]; !ok {
				continue
			}
			if byListener[l] == nil {
				listeners = append(listeners, l)
				kinds[l] = map[string]bool{}
			}
			byListener[l] = append(byListener[l], rs)
			kinds[l][rs.kind] = true
		}
	}
	for _, l := range listeners {
		if len(kinds[l]) < 2 {
			continue
		}
		routes := slices.Clone(byListener[l])
		slices.SortStableFunc(routes, olderFirst)
		var kept []*routeState
		for _, rs := range routes {
			var winner *routeState
			for _, k := range kept {
				if k.kind != rs.kind && hostsIntersect(k.hostsOn[l], rs.hostsOn[l]) {
					winner = k
					break
				}
			}
			if winner == nil {
				kept = append(kept, rs)
				continue
			}
			rs.lose(l, winner)
		}
	}
}

func olderFirst(a, b *routeState) int {
	ta, tb := a.r.CreationTimestamp.Time, b.r.CreationTimestamp.Time
	if !ta.Equal(tb) {
		if ta.Before(tb) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.nsName, b.nsName)
}

func hostsIntersect(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if _, ok := intersect(x, y); ok {
				return true
			}
		}
	}
	return false
}

// lose takes rs off listener l: its entries leave every virtual host there
// and it no longer counts in attachedRoutes.
func (rs *routeState) lose(l *listenerState, winner *routeState) {
	rs.lost = append(rs.lost, l)
	rs.conflictWith = append(rs.conflictWith, winner.kind+" "+winner.nsName)
	l.attached--
	for h, vb := range l.vhosts {
		if !vb.seen[rs] {
			continue
		}
		delete(vb.seen, rs)
		vb.entries = slices.DeleteFunc(vb.entries, func(e *matchEntry) bool { return e.route == rs })
		if len(vb.entries) == 0 {
			delete(l.vhosts, h)
			l.wideHosts = slices.DeleteFunc(l.wideHosts, func(w string) bool { return w == h })
		}
	}
}

// lostAll reports whether rs lost a hostname conflict on every listener in
// ls (the listeners one parentRef attached it to).
func (rs *routeState) lostAll(ls []*listenerState) bool {
	if len(ls) == 0 || len(rs.lost) == 0 {
		return false
	}
	for _, l := range ls {
		if !slices.Contains(rs.lost, l) {
			return false
		}
	}
	return true
}

func (rs *routeState) conflictMessage() string {
	return fmt.Sprintf("hostnames conflict with the older %s on the same listener; only one of an HTTPRoute and a GRPCRoute may serve a hostname",
		strings.Join(slices.Compact(slices.Clone(rs.conflictWith)), ", "))
}
