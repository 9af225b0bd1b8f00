package translate

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// policyStatus collects a policy's conditions per ancestor while the engine
// and the kind's translator decide; writePolicyStatuses turns them into the
// object's PolicyStatus and into Problems.
type policyStatus struct {
	ancestors []*ancestorState
	// scopes are the targets the policy claimed, each with the ancestors it
	// reports on.
	scopes []claimedScope
}

type claimedScope struct {
	s   scope
	anc []*ancestorState
}

type ancestorState struct {
	ref   gwv1.ParentReference
	conds []metav1.Condition // Accepted first, then what else applies
}

func sameRef(a, b *gwv1.ParentReference) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	g := func(p *gwv1.Group) string { return str((*string)(p)) }
	k := func(p *gwv1.Kind) string { return str((*string)(p)) }
	n := func(p *gwv1.Namespace) string { return str((*string)(p)) }
	s := func(p *gwv1.SectionName) string { return str((*string)(p)) }
	return a.Name == b.Name && g(a.Group) == g(b.Group) && k(a.Kind) == k(b.Kind) &&
		n(a.Namespace) == n(b.Namespace) && s(a.SectionName) == s(b.SectionName)
}

func (ps *policyStatus) ancestor(ref gwv1.ParentReference) *ancestorState {
	for _, a := range ps.ancestors {
		if sameRef(&a.ref, &ref) {
			return a
		}
	}
	a := &ancestorState{ref: ref}
	ps.ancestors = append(ps.ancestors, a)
	return a
}

// set writes a condition on a, replacing one of the same type. A negative
// Accepted is never turned back into a positive one: the first reason to
// refuse stays, later ones join its message.
func (a *ancestorState) set(typ string, ok bool, reason, msg string) {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	for i := range a.conds {
		c := &a.conds[i]
		if c.Type != typ {
			continue
		}
		if typ == "Accepted" && c.Status == metav1.ConditionFalse {
			if ok {
				return
			}
			if msg != "" && !strings.Contains("; "+c.Message+"; ", "; "+msg+"; ") {
				c.Message += "; " + msg
			}
			return
		}
		c.Status, c.Reason, c.Message = st, reason, msg
		return
	}
	c := metav1.Condition{Type: typ, Status: st, Reason: reason, Message: msg}
	if typ == "Accepted" {
		// Accepted comes first, whatever was noted before it.
		a.conds = append([]metav1.Condition{c}, a.conds...)
		return
	}
	a.conds = append(a.conds, c)
}

func (a *ancestorState) accepted() bool {
	for _, c := range a.conds {
		if c.Type == "Accepted" {
			return c.Status == metav1.ConditionTrue
		}
	}
	return true // not refused (yet)
}

// invalidTarget records a target that cannot be used at all; the target
// itself stands as the ancestor, since there is no parent to name.
func (ps *policyStatus) invalidTarget(p *policy, s scope, reason, msg string) {
	ref := gwv1.ParentReference{
		Group:     ptrTo(gwv1.Group(resource.GroupGatewayAPI)),
		Kind:      ptrTo(gwv1.Kind(s.kind)),
		Namespace: ptrTo(gwv1.Namespace(s.ns)),
		Name:      gwv1.ObjectName(s.name),
	}
	if s.sec != "" {
		ref.SectionName = ptrTo(gwv1.SectionName(s.sec))
	}
	ps.ancestor(ref).set("Accepted", false, reason, msg)
}

func (ps *policyStatus) setAncestors(p *policy, refs []gwv1.ParentReference, typ string, ok bool, reason, msg string) {
	for _, r := range refs {
		ps.ancestor(r).set(typ, ok, reason, msg)
	}
}

func (ps *policyStatus) attached(p *policy, s scope, refs []gwv1.ParentReference) {
	cs := claimedScope{s: s}
	for _, r := range refs {
		cs.anc = append(cs.anc, ps.ancestor(r))
	}
	ps.scopes = append(ps.scopes, cs)
}

// fail marks the policy not accepted wherever it claimed s (every scope
// when s is nil): its kind could not honour it there.
func (p *policy) fail(s *scope, msg string) {
	for _, cs := range p.st.scopes {
		if s != nil && cs.s != *s {
			continue
		}
		for _, a := range cs.anc {
			a.set("Accepted", false, string(gwv1.PolicyReasonInvalid), msg)
		}
	}
}

// warn adds a Warning condition where the policy claimed s (every scope when
// s is nil): something was accepted but is not what the user may expect.
// Several warnings on one ancestor share the condition, as Envoy Gateway
// writes them: messages joined by "; ", reason "Warnings" when they differ.
func (p *policy) warn(s *scope, reason, msg string) {
	for _, cs := range p.st.scopes {
		if s != nil && cs.s != *s {
			continue
		}
		for _, a := range cs.anc {
			a.warn(reason, msg)
		}
	}
}

func (a *ancestorState) warn(reason, msg string) {
	for i := range a.conds {
		c := &a.conds[i]
		if c.Type != "Warning" {
			continue
		}
		if strings.Contains(c.Message, msg) {
			return
		}
		c.Message += "; " + msg
		if c.Reason != reason {
			c.Reason = "Warnings"
		}
		return
	}
	a.conds = append(a.conds, metav1.Condition{Type: "Warning", Status: metav1.ConditionTrue, Reason: reason, Message: msg})
}

// finishStatuses completes every policy of ix: Accepted where nothing
// refused it, Merged and Overridden from what lookups found.
func (ix *attachIndex) finishStatuses() {
	for _, p := range ix.policies {
		for _, cs := range p.st.scopes {
			for _, a := range cs.anc {
				a.set("Accepted", true, string(gwv1.PolicyReasonAccepted), "Policy has been accepted.")
			}
			merged := ix.mergedBy[cs.s]
			if len(merged) > 0 {
				msg := fmt.Sprintf("This policy is being merged by other %s for %s", ix.kind.plural, scopeList(merged))
				for _, a := range cs.anc {
					a.set("Merged", true, "Merged", msg)
				}
			}
			over := map[scope]bool{}
			for c := range ix.overriddenBy[cs.s] {
				if !merged[c] {
					over[c] = true
				}
			}
			if len(over) > 0 {
				msg := fmt.Sprintf("This policy is being overridden by other %s for %s", ix.kind.plural, scopeList(over))
				for _, a := range cs.anc {
					a.set("Overridden", true, "Overridden", msg)
				}
			}
			if parent := ix.mergedOnto(cs.s); parent != nil {
				for _, a := range cs.anc {
					a.set("Merged", true, "Merged", "Merged with policy "+parent.String())
				}
			}
		}
	}
}

// mergedOnto is the parent policy the policy at s was merged with, if any.
func (ix *attachIndex) mergedOnto(s scope) *policy {
	for ps, children := range ix.mergedBy {
		if children[s] {
			return ix.byScope[ps]
		}
	}
	return nil
}

// writeStatuses writes the collected conditions into each policy's status
// (when statuses are kept) and returns one Problem per distinct refusal.
func (ix *attachIndex) writeStatuses(b *builder, set *resource.Set) []Problem {
	ix.finishStatuses()
	sink := &problemSink{set: set}
	for _, p := range ix.policies {
		var conds []metav1.Condition
		for _, a := range p.st.ancestors {
			for _, c := range a.conds {
				if c.Type == "Accepted" && c.Status == metav1.ConditionFalse {
					conds = append(conds, c)
				}
			}
		}
		sink.add(p.key, conds, "")
		if len(p.st.ancestors) == 0 {
			// Envoy Gateway stays silent here (another controller may own
			// the target); offline, a policy that reaches nothing usually
			// means a selector or name that matches nothing.
			b.warn(p.key, "attaches to nothing egctl compiles: no Gateway, ListenerSet or route of ours matches its targetRefs/targetSelectors")
		}
		if p.status == nil {
			continue
		}
		// Keep what other controllers wrote; replace our own entries.
		kept := p.status.Ancestors[:0:0]
		for _, a := range p.status.Ancestors {
			if string(a.ControllerName) != b.opts.ControllerName {
				kept = append(kept, a)
			}
		}
		for _, a := range p.st.ancestors {
			cs := make([]metav1.Condition, len(a.conds))
			for i, c := range a.conds {
				c.ObservedGeneration = p.meta.Generation
				c.LastTransitionTime = b.now
				cs[i] = c
			}
			kept = append(kept, gwv1.PolicyAncestorStatus{
				AncestorRef:    a.ref,
				ControllerName: gwv1.GatewayController(b.opts.ControllerName),
				Conditions:     cs,
			})
		}
		// The CRD allows 16 ancestors; Envoy Gateway aggregates the rest.
		if len(kept) > 16 {
			kept = aggregateAncestors(kept, b)
		}
		p.status.Ancestors = kept
	}
	return sink.list
}

// aggregateAncestors keeps the 16 ancestors Envoy Gateway keeps (refused
// first, then overridden, then the rest, each by namespace and name) and
// says on the last one kept that some were left out, as the status API
// allows no more.
func aggregateAncestors(in []gwv1.PolicyAncestorStatus, b *builder) []gwv1.PolicyAncestorStatus {
	rank := func(a *gwv1.PolicyAncestorStatus) int {
		for _, c := range a.Conditions {
			if c.Type == "Accepted" && c.Status == metav1.ConditionFalse {
				return 0
			}
		}
		for _, c := range a.Conditions {
			if c.Type == "Overridden" && c.Status == metav1.ConditionTrue {
				return 1
			}
		}
		return 2
	}
	str := func(p *gwv1.Namespace) string {
		if p == nil {
			return ""
		}
		return string(*p)
	}
	out := append([]gwv1.PolicyAncestorStatus(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, c := &out[i], &out[j]
		if ra, rc := rank(a), rank(c); ra != rc {
			return ra < rc
		}
		if na, nc := str(a.AncestorRef.Namespace), str(c.AncestorRef.Namespace); na != nc {
			return na < nc
		}
		return a.AncestorRef.Name < c.AncestorRef.Name
	})
	out = out[:16]
	last := &out[len(out)-1]
	last.Conditions = append(append([]metav1.Condition(nil), last.Conditions...), metav1.Condition{
		Type: "Aggregated", Status: metav1.ConditionTrue, Reason: "Aggregated",
		Message:            fmt.Sprintf("Ancestors have been truncated because the number of policy ancestors exceeds 16 (%d more are not listed).", len(in)-16),
		ObservedGeneration: last.Conditions[0].ObservedGeneration, LastTransitionTime: b.now,
	})
	return out
}
