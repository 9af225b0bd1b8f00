package translate

import (
	"slices"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// statusShells is copySet for Options.SkipStatus: the objects whose status
// the translator writes are copied one level deep (the struct, and its
// status in full), so statuses still never touch the caller's values; all
// other objects, which the translator only reads, are shared. A deep copy
// of specs is what this saves; the statuses are the same as copySet's, so
// a caller that keeps them (egctl x serve's status) pays nothing more.
//
// It relies on the translator never writing to an object's spec or
// metadata, and on every status field being assigned whole (never an
// element of a slice that may still be the caller's).
func statusShells(in *resource.Set) *resource.Set {
	return &resource.Set{
		GatewayClasses:         shells(in.GatewayClasses, func(o *gwv1.GatewayClass) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		Gateways:               shells(in.Gateways, func(o *gwv1.Gateway) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		ListenerSets:           shells(in.ListenerSets, func(o *gwv1.ListenerSet) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		HTTPRoutes:             shells(in.HTTPRoutes, func(o *gwv1.HTTPRoute) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		GRPCRoutes:             shells(in.GRPCRoutes, func(o *gwv1.GRPCRoute) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		TLSRoutes:              shells(in.TLSRoutes, func(o *gwv1.TLSRoute) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		TCPRoutes:              shells(in.TCPRoutes, func(o *gwv1.TCPRoute) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		UDPRoutes:              shells(in.UDPRoutes, func(o *gwv1.UDPRoute) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		BackendTLSPolicies:     shells(in.BackendTLSPolicies, func(o *gwv1.BackendTLSPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		Backends:               shells(in.Backends, func(o *egv1a1.Backend) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		ReferenceGrants:        withoutNil(in.ReferenceGrants),
		Namespaces:             withoutNil(in.Namespaces),
		Services:               withoutNil(in.Services),
		EndpointSlices:         withoutNil(in.EndpointSlices),
		Secrets:                withoutNil(in.Secrets),
		ConfigMaps:             withoutNil(in.ConfigMaps),
		EnvoyProxies:           shells(in.EnvoyProxies, func(o *egv1a1.EnvoyProxy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		ClientTrafficPolicies:  shells(in.ClientTrafficPolicies, func(o *egv1a1.ClientTrafficPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		BackendTrafficPolicies: shells(in.BackendTrafficPolicies, func(o *egv1a1.BackendTrafficPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		SecurityPolicies:       shells(in.SecurityPolicies, func(o *egv1a1.SecurityPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		EnvoyExtensionPolicies: shells(in.EnvoyExtensionPolicies, func(o *egv1a1.EnvoyExtensionPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		EnvoyPatchPolicies:     shells(in.EnvoyPatchPolicies, func(o *egv1a1.EnvoyPatchPolicy) { st := o.Status; st.DeepCopyInto(&o.Status) }),
		HTTPRouteFilters:       withoutNil(in.HTTPRouteFilters),
		Origins:                in.Origins, // only read
	}
}

// shells copies each object's struct and lets ownStatus replace the
// copied status with one of its own (DeepCopyInto from a separate variable:
// in and out must not alias); nil entries are dropped, as copySet drops
// them.
func shells[T any](in []*T, ownStatus func(*T)) []*T {
	if in == nil {
		return nil
	}
	out := make([]*T, 0, len(in))
	for _, o := range in {
		if o == nil {
			continue
		}
		c := *o
		ownStatus(&c)
		out = append(out, &c)
	}
	return out
}

// withoutNil returns in without nil entries, as copySet would, copying the
// slice only when there is one to drop.
func withoutNil[T comparable](in []T) []T {
	var zero T
	if !slices.Contains(in, zero) {
		return in
	}
	out := make([]T, 0, len(in))
	for _, o := range in {
		if o != zero {
			out = append(out, o)
		}
	}
	return out
}

// conditions accumulates the conditions of one status block (a Gateway, a
// listener, a route parent) in a fixed order: the order they are first set.
type conditions struct {
	gen  int64
	now  metav1.Time
	list []metav1.Condition
}

func newConditions(gen int64, now metav1.Time) *conditions {
	return &conditions{gen: gen, now: now}
}

// set writes a condition, replacing an earlier one of the same type.
func (c *conditions) set(typ string, ok bool, reason, msg string) {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	cond := metav1.Condition{
		Type:               typ,
		Status:             st,
		ObservedGeneration: c.gen,
		LastTransitionTime: c.now,
		Reason:             reason,
		Message:            msg,
	}
	for i := range c.list {
		if c.list[i].Type == typ {
			c.list[i] = cond
			return
		}
	}
	c.list = append(c.list, cond)
}

// fail writes a failure only if no failure of that type is recorded yet:
// the first reason found is the one reported, later ones join its message.
func (c *conditions) fail(typ, reason, msg string) {
	for i := range c.list {
		if c.list[i].Type == typ && c.list[i].Status == metav1.ConditionFalse {
			if msg != "" && !strings.Contains(c.list[i].Message, msg) {
				c.list[i].Message += "; " + msg
			}
			return
		}
	}
	c.set(typ, false, reason, msg)
}

// order puts the named condition types first, in that order, so statuses
// read the same whatever path set them.
func (c *conditions) order(types ...string) {
	out := make([]metav1.Condition, 0, len(c.list))
	for _, t := range types {
		if cd := c.get(t); cd != nil {
			out = append(out, *cd)
		}
	}
	for _, cd := range c.list {
		if !slices.Contains(types, cd.Type) {
			out = append(out, cd)
		}
	}
	c.list = out
}

func (c *conditions) get(typ string) *metav1.Condition {
	for i := range c.list {
		if c.list[i].Type == typ {
			return &c.list[i]
		}
	}
	return nil
}

func (c *conditions) isFalse(typ string) bool {
	cd := c.get(typ)
	return cd != nil && cd.Status == metav1.ConditionFalse
}

// bad reports whether a condition says "not OK". Conflicted and
// PartiallyInvalid are the condition types where True is the bad polarity
// (a PartiallyInvalid route had rules dropped); a True Accepted with reason
// ListenersNotValid still means part of the Gateway was rejected.
func bad(c metav1.Condition) bool {
	if c.Type == "Conflicted" || c.Type == "PartiallyInvalid" {
		return c.Status == metav1.ConditionTrue
	}
	if c.Reason == "ListenersNotValid" {
		return true
	}
	return c.Status != metav1.ConditionTrue
}

// problemSink collects Problems, one per distinct bad condition of an object.
type problemSink struct {
	set  *resource.Set
	seen map[Problem]bool
	list []Problem
}

func (p *problemSink) add(k resource.Key, conds []metav1.Condition, prefix string) {
	others := 0
	for _, c := range conds {
		if bad(c) && c.Type != "Programmed" {
			others++
		}
	}
	for _, c := range conds {
		if !bad(c) {
			continue
		}
		// Programmed=False only echoes the other failures; listing it too
		// would double every listener problem.
		if c.Type == "Programmed" && others > 0 {
			continue
		}
		pr := Problem{Key: k, Origin: p.set.Origin(k), Condition: c.Type, Reason: c.Reason, Message: prefix + c.Message}
		if p.seen == nil {
			p.seen = map[Problem]bool{}
		}
		if p.seen[pr] {
			continue
		}
		p.seen[pr] = true
		p.list = append(p.list, pr)
	}
}
