package translate

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// lsState is one ListenerSet attached (or trying to attach) to a Gateway
// of ours. Its listeners are merged into the Gateway's proxy after the
// Gateway's own, in precedence order.
type lsState struct {
	ls        *gwv1.ListenerSet
	g         *gatewayState
	cond      *conditions
	allowed   bool // the parent accepted it: its listeners exist
	listeners []*listenerState
}

func (s *lsState) key() string { return s.ls.Namespace + "/" + s.ls.Name }

// owner is the object that declares the listener: its namespace is the
// default for references, and ReferenceGrants are checked from it.
func (l *listenerState) owner() objRef {
	if l.ls != nil {
		return objRef{group: resource.GroupGatewayAPI, kind: "ListenerSet", namespace: l.ls.ls.Namespace, name: l.ls.ls.Name}
	}
	return objRef{group: resource.GroupGatewayAPI, kind: "Gateway", namespace: l.gw.gw.Namespace, name: l.gw.gw.Name}
}

// listenerSetParent reports whether the ListenerSet names gw as parent.
func listenerSetParent(ls *gwv1.ListenerSet, gw *gwv1.Gateway) bool {
	p := ls.Spec.ParentRef
	if p.Group != nil && *p.Group != "" && string(*p.Group) != resource.GroupGatewayAPI {
		return false
	}
	if p.Kind != nil && *p.Kind != "" && *p.Kind != "Gateway" {
		return false
	}
	ns := ls.Namespace
	if p.Namespace != nil && *p.Namespace != "" {
		ns = string(*p.Namespace)
	}
	return ns == gw.Namespace && string(p.Name) == gw.Name
}

// listenerSetAllowed applies the Gateway's allowedListeners (default: none).
func (b *builder) listenerSetAllowed(gw *gwv1.Gateway, ns string) (bool, string) {
	al := gw.Spec.AllowedListeners
	if al == nil || al.Namespaces == nil || al.Namespaces.From == nil {
		return false, "the Gateway allows no ListenerSets (spec.allowedListeners is not set)"
	}
	switch *al.Namespaces.From {
	case gwv1.NamespacesFromAll:
		return true, ""
	case gwv1.NamespacesFromSame:
		if ns == gw.Namespace {
			return true, ""
		}
		return false, fmt.Sprintf("the Gateway allows ListenerSets from its own namespace %q only", gw.Namespace)
	case gwv1.NamespacesFromSelector:
		if al.Namespaces.Selector == nil {
			return false, "the Gateway's allowedListeners.namespaces.selector is not set"
		}
		sel, err := metav1.LabelSelectorAsSelector(al.Namespaces.Selector)
		if err != nil {
			return false, "the Gateway's allowedListeners.namespaces.selector is invalid: " + err.Error()
		}
		if sel.Matches(labels.Set(b.namespaceLabels(ns))) {
			return true, ""
		}
		return false, fmt.Sprintf("namespace %q does not match the Gateway's allowedListeners selector", ns)
	}
	return false, fmt.Sprintf("the Gateway's allowedListeners.namespaces.from is %q", *al.Namespaces.From)
}

// processListenerSets merges the listeners of the ListenerSets that name
// g into its proxy. Precedence: the Gateway's listeners, then ListenerSets
// oldest first, then by namespace/name; a listener that conflicts with one
// of higher precedence is Conflicted, the other keeps working.
func (b *builder) processListenerSets(g *gatewayState) {
	seen := map[nsName]bool{}
	var cands []*gwv1.ListenerSet
	for _, ls := range b.out.ListenerSets {
		k := nsName{ls.Namespace, ls.Name}
		if seen[k] || !listenerSetParent(ls, g.gw) {
			continue
		}
		seen[k] = true
		cands = append(cands, ls)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, c := cands[i], cands[j]
		if !a.CreationTimestamp.Equal(&c.CreationTimestamp) {
			return a.CreationTimestamp.Before(&c.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < c.Namespace+"/"+c.Name
	})
	// live are the listeners already holding their port and hostname.
	var live []*listenerState
	for _, l := range g.listeners {
		if !l.cond.isFalse("Accepted") && !l.conflicted {
			live = append(live, l)
		}
	}
	for _, ls := range cands {
		st := &lsState{ls: ls, g: g, cond: newConditions(ls.Generation, b.now)}
		g.sets = append(g.sets, st)
		if !g.accepted {
			st.cond.set("Accepted", false, string(gwv1.ListenerSetReasonParentNotAccepted), "the parent Gateway "+g.key()+" is not accepted")
			st.cond.set("Programmed", false, string(gwv1.ListenerSetReasonParentNotAccepted), "the ListenerSet is not accepted")
			continue
		}
		if ok, why := b.listenerSetAllowed(g.gw, ls.Namespace); !ok {
			st.cond.set("Accepted", false, string(gwv1.ListenerSetReasonNotAllowed), why)
			st.cond.set("Programmed", false, string(gwv1.ListenerSetReasonNotAllowed), "the ListenerSet is not accepted")
			continue
		}
		st.allowed = true
		for i := range ls.Spec.Listeners {
			e := &ls.Spec.Listeners[i]
			spec := &gwv1.Listener{Name: e.Name, Hostname: e.Hostname, Port: e.Port, Protocol: e.Protocol, TLS: e.TLS, AllowedRoutes: e.AllowedRoutes}
			st.listeners = append(st.listeners, b.newListenerFor(g, st, spec))
		}
		markDuplicateNames(st.listeners) // validate_crd.go
		programmed := 0
		for _, l := range st.listeners {
			if !l.cond.isFalse("Accepted") {
				if reason, msg := conflictWith(live, l); reason != "" {
					l.conflicted = true
					l.cond.set("Conflicted", true, reason, msg)
				} else {
					live = append(live, l)
				}
			}
			l.finishConditions()
			if c := l.cond.get("Conflicted"); l.conflicted && c != nil {
				// Unlike two listeners of one Gateway, the one with lower
				// precedence is refused outright (Gateway API ListenerSet).
				reason, msg := c.Reason, c.Message
				l.cond.set("Accepted", false, reason, msg)
				l.cond.set("Programmed", false, reason, msg)
			}
			if l.ready {
				programmed++
				pg := g.ports[l.spec.Port]
				if pg == nil {
					pg = &portGroup{owner: map[string]*listenerState{}, sniTaken: map[string]bool{}}
					g.ports[l.spec.Port] = pg
				}
				pg.listeners = append(pg.listeners, l)
			}
			g.setListeners = append(g.setListeners, l)
		}
		// A listener is valid when it can be programmed: one that is
		// accepted but has unresolved references (a certificate without
		// its ReferenceGrant) does not keep the ListenerSet accepted.
		switch {
		case programmed == len(st.listeners) && programmed > 0:
			st.cond.set("Accepted", true, string(gwv1.ListenerSetReasonAccepted), "the ListenerSet is attached to Gateway "+g.key())
		case programmed > 0:
			st.cond.set("Accepted", true, string(gwv1.ListenerSetReasonListenersNotValid), "some listeners are invalid; the valid ones are programmed")
		default:
			st.cond.set("Accepted", false, string(gwv1.ListenerSetReasonListenersNotValid), "no listener is valid")
		}
		if programmed > 0 {
			st.cond.set("Programmed", true, string(gwv1.ListenerSetReasonProgrammed), "the ListenerSet is programmed")
		} else {
			st.cond.set("Programmed", false, string(gwv1.ListenerSetReasonListenersNotValid), "no listener could be programmed")
		}
	}
}

// conflictWith checks l against the listeners that take precedence, with
// the rules markConflicts applies inside one Gateway.
func conflictWith(live []*listenerState, l *listenerState) (string, string) {
	for _, o := range live {
		if o.spec.Port != l.spec.Port || (o.spec.Protocol == gwv1.UDPProtocolType) != (l.spec.Protocol == gwv1.UDPProtocolType) {
			continue // another port, or the other port space (UDP vs TCP)
		}
		if portProtocol(o) != portProtocol(l) {
			return string(gwv1.ListenerEntryReasonProtocolConflict),
				fmt.Sprintf("port %d is used by listener %s with protocol %s", l.spec.Port, o.name(), o.spec.Protocol)
		}
		if o.host == l.host {
			return string(gwv1.ListenerEntryReasonHostnameConflict),
				fmt.Sprintf("port %d: hostname %q is used by listener %s", l.spec.Port, domain(l.host), o.name())
		}
	}
	return "", ""
}

// finishListenerSets writes the ListenerSets' statuses (attachedRoutes is
// known only after routes) and the Gateway's attachedListenerSets.
func (b *builder) finishListenerSets(g *gatewayState) {
	var attached int32
	for _, st := range g.sets {
		// Counted: the ListenerSets the Gateway accepted that have at
		// least one valid listener.
		if st.allowed && !st.cond.isFalse("Accepted") {
			attached++
		}
		st.ls.Status.Conditions = st.cond.list
		st.ls.Status.Listeners = nil
		for _, l := range st.listeners {
			st.ls.Status.Listeners = append(st.ls.Status.Listeners, gwv1.ListenerEntryStatus{
				Name:           l.spec.Name,
				SupportedKinds: l.kinds,
				AttachedRoutes: l.attached,
				Conditions:     l.cond.list,
			})
		}
	}
	if g.gw.Spec.AllowedListeners != nil || len(g.sets) > 0 {
		g.gw.Status.AttachedListenerSets = &attached
	}
}

func isListenerSetRef(p *gwv1.ParentReference) bool {
	if p.Group != nil && string(*p.Group) != resource.GroupGatewayAPI {
		return false
	}
	return p.Kind != nil && *p.Kind == "ListenerSet"
}

// refSet returns the ListenerSet of ours a parentRef names, or nil.
func (b *builder) refSet(routeNS string, p *gwv1.ParentReference) *lsState {
	ns := routeNS
	if p.Namespace != nil && *p.Namespace != "" {
		ns = string(*p.Namespace)
	}
	for _, g := range b.gwOrder {
		for _, st := range g.sets {
			if st.ls.Namespace == ns && st.ls.Name == string(p.Name) {
				return st
			}
		}
	}
	return nil
}

// routeParent returns the Gateway of ours a route parentRef reaches: the
// Gateway itself, or the parent of the ListenerSet it names.
func (b *builder) routeParent(routeNS string, p *gwv1.ParentReference) *gatewayState {
	if isListenerSetRef(p) {
		if st := b.refSet(routeNS, p); st != nil {
			return st.g
		}
		return nil
	}
	return b.parentGateway(routeNS, p)
}

// refListeners are the listeners a parentRef may select from: a Gateway's
// own, or those of the ListenerSet it names (none when that ListenerSet is
// not accepted).
func (b *builder) refListeners(g *gatewayState, routeNS string, p *gwv1.ParentReference) []*listenerState {
	if !isListenerSetRef(p) {
		return g.listeners
	}
	st := b.refSet(routeNS, p)
	if st == nil || !st.allowed {
		return nil
	}
	return st.listeners
}

// refWhere names a parentRef's object in messages.
func (b *builder) refWhere(g *gatewayState, routeNS string, p *gwv1.ParentReference) string {
	if isListenerSetRef(p) {
		ns := routeNS
		if p.Namespace != nil && *p.Namespace != "" {
			ns = string(*p.Namespace)
		}
		w := "ListenerSet " + ns + "/" + string(p.Name)
		if st := b.refSet(routeNS, p); st != nil && !st.allowed {
			w += " (not accepted by Gateway " + g.key() + ")"
		}
		return w
	}
	return "Gateway " + g.key()
}
