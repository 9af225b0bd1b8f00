package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// Input where nothing can work must fail a CI gate, even though no status
// says so: no controller writes status on a Gateway that is not its own,
// or on a route whose parent does not exist. Each such case is a Problem
// without a condition (Condition is ""), one per Gateway or parentRef.

// Reasons of the Problems below.
const (
	ReasonNoGatewayClass     = "GatewayClassNotFound"
	ReasonForeignClass       = "GatewayClassNotOurs"
	ReasonParentNotFound     = "ParentNotFound"
	reasonAdminPortCollision = "PortUnavailable"
)

// unservedProblems lists the Gateways that compile to nothing because
// their GatewayClass is absent or belongs to another controller, the
// parentRefs of routes and ListenerSets that name a Gateway or ListenerSet
// that is not in the input, and routes without any parentRef.
func unservedProblems(in *resource.Set, controller string) []Problem {
	var out []Problem
	classes := make(map[string]*gwv1.GatewayClass, len(in.GatewayClasses))
	for _, gc := range in.GatewayClasses {
		classes[gc.Name] = gc
	}
	gateways := make(map[[2]string]bool, len(in.Gateways))
	for _, gw := range in.Gateways {
		gateways[[2]string{gw.Namespace, gw.Name}] = true
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name}
		cls := string(gw.Spec.GatewayClassName)
		switch gc := classes[cls]; {
		case gc == nil:
			out = append(out, Problem{Key: k, Origin: in.Origin(k), Reason: ReasonNoGatewayClass,
				Message: "GatewayClass " + cls + " is not in the input; nothing is compiled for this Gateway (add the GatewayClass manifest)"})
		case string(gc.Spec.ControllerName) != controller:
			out = append(out, Problem{Key: k, Origin: in.Origin(k), Reason: ReasonForeignClass,
				Message: fmt.Sprintf("GatewayClass %s has controllerName %s, not %s; nothing is compiled for this Gateway (see --controller-name)", cls, gc.Spec.ControllerName, controller)})
		}
	}
	listenerSets := make(map[[2]string]bool, len(in.ListenerSets))
	for _, ls := range in.ListenerSets {
		listenerSets[[2]string{ls.Namespace, ls.Name}] = true
	}
	exists := func(group *gwv1.Group, kind *gwv1.Kind, ns *gwv1.Namespace, name gwv1.ObjectName, defNS string) (string, bool, bool) {
		g, k := gwv1.GroupName, "Gateway"
		if group != nil {
			g = string(*group)
		}
		if kind != nil {
			k = string(*kind)
		}
		n := defNS
		if ns != nil && *ns != "" {
			n = string(*ns)
		}
		key := [2]string{n, string(name)}
		desc := k + " " + n + "/" + string(name)
		if g != gwv1.GroupName {
			return desc, false, false // another API's parent: not ours to judge
		}
		switch k {
		case "Gateway":
			return desc, gateways[key], true
		case "ListenerSet":
			return desc, listenerSets[key], true
		}
		return desc, false, false
	}
	routeParents := func(kind, ns, name string, refs []gwv1.ParentReference) {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: kind, Namespace: ns, Name: name}
		if len(refs) == 0 {
			out = append(out, Problem{Key: k, Origin: in.Origin(k), Reason: ReasonParentNotFound,
				Message: "spec.parentRefs is empty; the route is not served anywhere"})
		}
		for i, p := range refs {
			desc, ok, known := exists(p.Group, p.Kind, p.Namespace, p.Name, ns)
			if known && !ok {
				out = append(out, Problem{Key: k, Origin: in.Origin(k), Reason: ReasonParentNotFound, Parent: desc,
					Message: fmt.Sprintf("spec.parentRefs[%d]: %s is not in the input; the route is not served through it", i, desc)})
			}
		}
	}
	for _, r := range in.HTTPRoutes {
		routeParents("HTTPRoute", r.Namespace, r.Name, r.Spec.ParentRefs)
	}
	for _, r := range in.GRPCRoutes {
		routeParents("GRPCRoute", r.Namespace, r.Name, r.Spec.ParentRefs)
	}
	for _, r := range in.TLSRoutes {
		routeParents("TLSRoute", r.Namespace, r.Name, r.Spec.ParentRefs)
	}
	for _, r := range in.TCPRoutes {
		routeParents("TCPRoute", r.Namespace, r.Name, r.Spec.ParentRefs)
	}
	for _, r := range in.UDPRoutes {
		routeParents("UDPRoute", r.Namespace, r.Name, r.Spec.ParentRefs)
	}
	for _, ls := range in.ListenerSets {
		p := ls.Spec.ParentRef
		kind := gwv1.Kind("Gateway")
		if p.Kind != nil {
			kind = gwv1.Kind(*p.Kind)
		}
		var group *gwv1.Group
		if p.Group != nil {
			g := gwv1.Group(*p.Group)
			group = &g
		}
		var ns *gwv1.Namespace
		if p.Namespace != nil {
			n := gwv1.Namespace(*p.Namespace)
			ns = &n
		}
		desc, ok, known := exists(group, &kind, ns, gwv1.ObjectName(p.Name), ls.Namespace)
		if known && !ok {
			k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "ListenerSet", Namespace: ls.Namespace, Name: ls.Name}
			out = append(out, Problem{Key: k, Origin: in.Origin(k), Reason: ReasonParentNotFound, Parent: desc,
				Message: fmt.Sprintf("spec.parentRef: %s is not in the input; these listeners are served nowhere", desc)})
		}
	}
	return out
}

// checkAdminPort refuses a listener whose port is the one Envoy's admin
// interface listens on: Envoy would fail to start (address in use), taking
// every other listener of the Gateway down with it. UDP does not collide
// with the admin's TCP port.
func (b *builder) checkAdminPort(l *listenerState) {
	if b.opts.AdminPort == 0 || l.spec.Protocol == gwv1.UDPProtocolType || l.cond.isFalse("Accepted") {
		return
	}
	if p := l.bindPort(l.gw.keep); p == b.opts.AdminPort {
		msg := fmt.Sprintf("port %d is Envoy's admin port", p)
		if p != uint32(l.spec.Port) {
			msg = fmt.Sprintf("port %d binds %d, Envoy's admin port", l.spec.Port, p)
		}
		l.cond.set("Accepted", false, reasonAdminPortCollision, msg+" (--admin-address); use another port or move the admin interface")
	}
}
