package translate

import (
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// The attachment engine: every Envoy Gateway policy kind that names its
// targets with targetRef / targetRefs / targetSelectors goes through here.
// It resolves targets, settles conflicts between policies of one kind on one
// target (oldest wins), answers "which policy applies to this route on this
// listener" by precedence (route rule > route > listener > Gateway, and
// ListenerSet listener > ListenerSet > Gateway for routes attached through a
// ListenerSet), and keeps the per-ancestor conditions the kinds' statuses
// are written from (attach_status.go). What a policy *does* is its kind's
// business (one file per kind).

// scopeLevel orders attachment points from the widest to the narrowest.
type scopeLevel uint8

const (
	levelGateway scopeLevel = iota
	levelListener
	levelListenerSet
	levelListenerSetListener
	levelRoute
	levelRouteRule
)

// scope is one attachment point: a Gateway (section: a listener), a
// ListenerSet (section: one of its listeners), a route (kind HTTPRoute,
// GRPCRoute, TCPRoute, TLSRoute, UDPRoute; section: a rule name).
type scope struct {
	level               scopeLevel
	kind, ns, name, sec string
}

func (s scope) nsName() string { return s.ns + "/" + s.name }

// String names the scope as Envoy Gateway's status messages do.
func (s scope) String() string {
	if s.sec != "" {
		return s.ns + "/" + s.name + "/" + s.sec
	}
	return s.ns + "/" + s.name
}

// describe names the scope for people: "HTTPRoute default/foo rule r1".
func (s scope) describe() string {
	switch s.level {
	case levelListener, levelListenerSetListener:
		return fmt.Sprintf("%s %s listener %s", s.kind, s.nsName(), s.sec)
	case levelRouteRule:
		return fmt.Sprintf("%s %s rule %s", s.kind, s.nsName(), s.sec)
	}
	return s.kind + " " + s.nsName()
}

func (s scope) parentOf() scope {
	p := s
	p.sec = ""
	switch s.level {
	case levelListener:
		p.level = levelGateway
	case levelListenerSetListener:
		p.level = levelListenerSet
	case levelRouteRule:
		p.level = levelRoute
	}
	return p
}

// policyKind describes one policy kind to the engine.
type policyKind struct {
	name string // "BackendTrafficPolicy"
	// plural is how status messages name several of them
	// ("backendTrafficPolicies").
	plural string
	// targets are the kinds (group gateway.networking.k8s.io) a policy of
	// this kind may target.
	targets map[string]bool
	// routeRules: sectionName on a route target names a rule.
	routeRules bool
}

var routeKinds = map[string]bool{"HTTPRoute": true, "GRPCRoute": true, "TCPRoute": true, "TLSRoute": true, "UDPRoute": true}

// policy is one policy object as the engine sees it, whatever its kind.
type policy struct {
	kind      *policyKind
	key       resource.Key
	meta      *metav1.ObjectMeta
	refs      egv1a1.PolicyTargetReferences
	mergeType *egv1a1.MergeType
	// spec is the kind's spec (*egv1a1.BackendTrafficPolicySpec, …): what
	// a policy of mergeType is merged onto its parent's (attach_merge.go).
	spec any
	// status is the object's status in the output set (nil only for a
	// policy built by a test).
	status *gwv1.PolicyStatus
	order  int // position after sorting: lower is older

	// targets in resolution order (selected ones first, sorted by the
	// selected object's age, then targetRefs, as Envoy Gateway does).
	targets []scope
	// st holds the conditions per ancestor (attach_status.go).
	st policyStatus
}

func (p *policy) String() string { return p.key.Namespace + "/" + p.key.Name }

// attachIndex holds the policies of one kind by the scope they claimed.
type attachIndex struct {
	kind     *policyKind
	policies []*policy // sorted: oldest first, then namespace, then name
	byScope  map[scope]*policy
	// children records, for status, the narrower scopes whose own policy
	// takes over from (overrides) or merges onto a policy's scope.
	overriddenBy map[scope]map[scope]bool
	mergedBy     map[scope]map[scope]bool
}

// targetKey locates an object that may be a target.
type targetKey struct{ kind, ns, name string }

// targetIndex is every object a policy may target, built once per
// translation and shared by every kind.
type targetIndex struct {
	objs map[targetKey]*targetObj
	// byKind lists the objects of each kind, for targetSelectors, in input
	// order.
	byKind map[string][]*targetObj
}

type targetObj struct {
	kind    string
	meta    *metav1.ObjectMeta
	ours    bool // a Gateway of ours, or an object attached to one
	gateway *gatewayState
	set     *lsState
	// sections are the listener names (Gateway, ListenerSet) or rule names
	// (routes) a sectionName may name.
	sections map[string]bool
	// parents are the route's parentRefs of ours: the ancestors of a
	// policy that targets the route.
	parents []gwv1.ParentReference
}

// buildTargetIndex indexes Gateways, ListenerSets and routes.
func (b *builder) buildTargetIndex() *targetIndex {
	ix := &targetIndex{objs: map[targetKey]*targetObj{}, byKind: map[string][]*targetObj{}}
	add := func(o *targetObj) {
		k := targetKey{o.kind, o.meta.Namespace, o.meta.Name}
		if _, dup := ix.objs[k]; dup {
			return // the first object read wins, as everywhere
		}
		ix.objs[k] = o
		ix.byKind[o.kind] = append(ix.byKind[o.kind], o)
	}
	for _, gw := range b.out.Gateways {
		g := b.gateways[nsName{gw.Namespace, gw.Name}]
		o := &targetObj{kind: "Gateway", meta: &gw.ObjectMeta, ours: g != nil && g.gw == gw, gateway: g, sections: map[string]bool{}}
		for _, l := range gw.Spec.Listeners {
			o.sections[string(l.Name)] = true
		}
		add(o)
	}
	sets := map[nsName]*lsState{}
	for _, g := range b.gwOrder {
		for _, st := range g.sets {
			sets[nsName{st.ls.Namespace, st.ls.Name}] = st
		}
	}
	for _, ls := range b.out.ListenerSets {
		st := sets[nsName{ls.Namespace, ls.Name}]
		o := &targetObj{kind: "ListenerSet", meta: &ls.ObjectMeta, ours: st != nil && st.ls == ls, set: st, sections: map[string]bool{}}
		if st != nil {
			o.gateway = st.g
		}
		for _, l := range ls.Spec.Listeners {
			o.sections[string(l.Name)] = true
		}
		add(o)
	}
	route := func(kind string, meta *metav1.ObjectMeta, spec *gwv1.CommonRouteSpec, rules []string) {
		o := &targetObj{kind: kind, meta: meta, sections: map[string]bool{}}
		for _, r := range rules {
			if r != "" {
				o.sections[r] = true
			}
		}
		for i := range spec.ParentRefs {
			p := &spec.ParentRefs[i]
			if b.routeParent(meta.Namespace, p) != nil {
				o.ours = true
				o.parents = append(o.parents, *p)
			}
		}
		add(o)
	}
	for _, r := range b.out.HTTPRoutes {
		names := make([]string, len(r.Spec.Rules))
		for i, rule := range r.Spec.Rules {
			if rule.Name != nil {
				names[i] = string(*rule.Name)
			}
		}
		route("HTTPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, names)
	}
	for _, r := range b.out.GRPCRoutes {
		names := make([]string, len(r.Spec.Rules))
		for i, rule := range r.Spec.Rules {
			if rule.Name != nil {
				names[i] = string(*rule.Name)
			}
		}
		route("GRPCRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, names)
	}
	for _, r := range b.out.TCPRoutes {
		names := make([]string, len(r.Spec.Rules))
		for i, rule := range r.Spec.Rules {
			if rule.Name != nil {
				names[i] = string(*rule.Name)
			}
		}
		route("TCPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, names)
	}
	for _, r := range b.out.TLSRoutes {
		names := make([]string, len(r.Spec.Rules))
		for i, rule := range r.Spec.Rules {
			if rule.Name != nil {
				names[i] = string(*rule.Name)
			}
		}
		route("TLSRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, names)
	}
	for _, r := range b.out.UDPRoutes {
		names := make([]string, len(r.Spec.Rules))
		for i, rule := range r.Spec.Rules {
			if rule.Name != nil {
				names[i] = string(*rule.Name)
			}
		}
		route("UDPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, names)
	}
	return ix
}

// sortPolicies orders policies as Envoy Gateway's provider does: oldest
// creationTimestamp first, then namespace, then name. The first to claim a
// target keeps it.
func sortPolicies(ps []*policy) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].meta, ps[j].meta
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for i, p := range ps {
		p.order = i
	}
}

// attachPolicies resolves every policy's targets and claims scopes in age order,
// recording on each policy's ancestors what happened. Policies are
// deduplicated by namespace/name (the first object read wins).
func (b *builder) attachPolicies(kind *policyKind, ps []*policy) *attachIndex {
	if b.targets == nil {
		b.targets = b.buildTargetIndex()
	}
	seen := make(map[nsName]bool, len(ps))
	uniq := ps[:0:0]
	for _, p := range ps {
		k := nsName{p.meta.Namespace, p.meta.Name}
		if seen[k] {
			continue
		}
		seen[k] = true
		uniq = append(uniq, p)
	}
	sortPolicies(uniq)
	ix := &attachIndex{kind: kind, policies: uniq, byScope: map[scope]*policy{},
		overriddenBy: map[scope]map[scope]bool{}, mergedBy: map[scope]map[scope]bool{}}
	for _, p := range uniq {
		b.resolveTargets(p)
	}
	// Narrow scopes first, as Envoy Gateway processes them: a conflict is
	// settled within one level, so the order across levels only matters
	// for the order conditions are written in.
	for _, p := range uniq {
		for _, t := range p.targets {
			b.claim(ix, p, t)
		}
	}
	return ix
}

// resolveTargets fills p.targets from targetRef(s) and targetSelectors.
// Unusable references are recorded as not-accepted ancestors.
func (b *builder) resolveTargets(p *policy) {
	type sel struct {
		s  scope
		ts metav1.Time
	}
	var selected []sel
	dedup := map[scope]bool{}
	for i, ts := range p.refs.TargetSelectors {
		group := resource.GroupGatewayAPI
		if ts.Group != nil && *ts.Group != "" {
			group = string(*ts.Group)
		}
		field := fmt.Sprintf("spec.targetSelectors[%d]", i)
		if group != resource.GroupGatewayAPI || !p.kind.targets[string(ts.Kind)] {
			p.st.invalidTarget(p, scope{kind: string(ts.Kind), ns: p.meta.Namespace, name: "*"},
				"Invalid", fmt.Sprintf("%s: %s cannot target %s/%s", field, p.kind.name, group, ts.Kind))
			continue
		}
		ls, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: ts.MatchLabels, MatchExpressions: ts.MatchExpressions})
		if err != nil {
			p.st.invalidTarget(p, scope{kind: string(ts.Kind), ns: p.meta.Namespace, name: "*"},
				"Invalid", fmt.Sprintf("%s: %v", field, err))
			continue
		}
		for _, o := range b.targets.byKind[string(ts.Kind)] {
			if !b.selectorNamespaceMatches(&ts, p.meta.Namespace, o.meta.Namespace) {
				continue
			}
			if !ls.Matches(labels.Set(o.meta.Labels)) {
				continue
			}
			if o.meta.Namespace != p.meta.Namespace && !b.grants.allowed(
				objRef{group: resource.GroupEnvoyGateway, kind: p.kind.name, namespace: p.meta.Namespace},
				objRef{group: resource.GroupGatewayAPI, kind: o.kind, namespace: o.meta.Namespace, name: o.meta.Name}) {
				continue
			}
			s := targetScope(o.kind, o.meta.Namespace, o.meta.Name, "")
			if dedup[s] {
				continue
			}
			dedup[s] = true
			selected = append(selected, sel{s, o.meta.CreationTimestamp})
		}
	}
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].ts.Before(&selected[j].ts) })
	for _, s := range selected {
		p.targets = append(p.targets, s.s)
	}
	refs := p.refs.TargetRefs
	field := "spec.targetRefs"
	if p.refs.TargetRef != nil {
		refs = []gwv1.LocalPolicyTargetReferenceWithSectionName{*p.refs.TargetRef}
		field = "spec.targetRef"
	}
	for i, r := range refs {
		f := field
		if p.refs.TargetRef == nil {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		sec := ""
		if r.SectionName != nil {
			sec = string(*r.SectionName)
		}
		s := targetScope(string(r.Kind), p.meta.Namespace, string(r.Name), sec)
		if string(r.Group) != resource.GroupGatewayAPI || !p.kind.targets[string(r.Kind)] {
			p.st.invalidTarget(p, s, "Invalid", fmt.Sprintf("%s: %s cannot target %s/%s", f, p.kind.name, r.Group, r.Kind))
			continue
		}
		if sec != "" && routeKinds[string(r.Kind)] && !p.kind.routeRules {
			p.st.invalidTarget(p, s, "Invalid", fmt.Sprintf("%s: %s cannot target a rule of a route (sectionName)", f, p.kind.name))
			continue
		}
		if dedup[s] {
			continue
		}
		dedup[s] = true
		p.targets = append(p.targets, s)
	}
}

func targetScope(kind, ns, name, sec string) scope {
	s := scope{kind: kind, ns: ns, name: name, sec: sec}
	switch {
	case kind == "Gateway" && sec != "":
		s.level = levelListener
	case kind == "Gateway":
		s.level = levelGateway
	case kind == "ListenerSet" && sec != "":
		s.level = levelListenerSetListener
	case kind == "ListenerSet":
		s.level = levelListenerSet
	case sec != "":
		s.level = levelRouteRule
	default:
		s.level = levelRoute
	}
	return s
}

// selectorNamespaceMatches applies targetSelectors[].namespaces: the
// policy's own namespace unless told otherwise.
func (b *builder) selectorNamespaceMatches(ts *egv1a1.TargetSelector, policyNS, targetNS string) bool {
	if ts.Namespaces == nil || ts.Namespaces.From == "" || ts.Namespaces.From == egv1a1.TargetNamespaceFromSame {
		return policyNS == targetNS
	}
	switch ts.Namespaces.From {
	case egv1a1.TargetNamespaceFromAll:
		return true
	case egv1a1.TargetNamespaceFromSelector:
		if ts.Namespaces.Selector == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(ts.Namespaces.Selector)
		if err != nil {
			return false
		}
		return sel.Matches(labels.Set(b.namespaceLabels(targetNS)))
	}
	return false
}

// claim attaches p to target s unless the target is missing, not ours, or
// already claimed by an older policy of the same kind.
func (b *builder) claim(ix *attachIndex, p *policy, s scope) {
	o := b.targets.objs[targetKey{s.kind, s.ns, s.name}]
	if o == nil {
		// Envoy Gateway leaves this to "another controller may own it";
		// offline the input is all there is, so a policy pointing at
		// nothing is almost always a typo that would silently leave the
		// intended target unprotected.
		p.st.invalidTarget(p, s, string(gwv1.PolicyReasonTargetNotFound), fmt.Sprintf("%s %s not found", s.kind, s.nsName()))
		return
	}
	if !o.ours {
		return // another controller's object: not ours to report on
	}
	if s.sec != "" && !o.sections[s.sec] {
		what := "listener"
		if routeKinds[s.kind] {
			what = "rule"
		}
		p.st.setAncestors(p, b.ancestorsOf(s, o), "Accepted", false, string(gwv1.PolicyReasonTargetNotFound),
			fmt.Sprintf("No section name %s found for %s %s (no %s of that name)", s.sec, s.kind, s.nsName(), what))
		return
	}
	anc := b.ancestorsOf(s, o)
	if other, taken := ix.byScope[s]; taken && other != p {
		p.st.setAncestors(p, anc, "Accepted", false, string(gwv1.PolicyReasonConflicted), conflictMessage(p.kind.name, s))
		return
	}
	ix.byScope[s] = p
	p.st.attached(p, s, anc)
}

func conflictMessage(kind string, s scope) string {
	switch s.level {
	case levelListener, levelListenerSetListener:
		return fmt.Sprintf("Unable to target Listener %s/%s, another %s has already attached to it", s.nsName(), s.sec, kind)
	case levelRouteRule:
		return fmt.Sprintf("Unable to target RouteRule %s/%s, another %s has already attached to it", s.name, s.sec, kind)
	}
	return fmt.Sprintf("Unable to target %s %s, another %s has already attached to it", s.kind, s.name, kind)
}

// ancestorsOf is where a policy on s reports status, as Envoy Gateway
// reports it: the Gateway or ListenerSet itself (with the section), or,
// for a route, each parentRef of ours.
func (b *builder) ancestorsOf(s scope, o *targetObj) []gwv1.ParentReference {
	if !routeKinds[s.kind] {
		ref := gwv1.ParentReference{
			Group:     ptrTo(gwv1.Group(resource.GroupGatewayAPI)),
			Kind:      ptrTo(gwv1.Kind(s.kind)),
			Namespace: ptrTo(gwv1.Namespace(s.ns)),
			Name:      gwv1.ObjectName(s.name),
		}
		if s.sec != "" {
			ref.SectionName = ptrTo(gwv1.SectionName(s.sec))
		}
		return []gwv1.ParentReference{ref}
	}
	out := make([]gwv1.ParentReference, 0, len(o.parents))
	for _, p := range o.parents {
		ns := s.ns
		if p.Namespace != nil && *p.Namespace != "" {
			ns = string(*p.Namespace)
		}
		kind := "Gateway"
		if p.Kind != nil && *p.Kind != "" {
			kind = string(*p.Kind)
		}
		out = append(out, gwv1.ParentReference{
			Group:       ptrTo(gwv1.Group(resource.GroupGatewayAPI)),
			Kind:        ptrTo(gwv1.Kind(kind)),
			Namespace:   ptrTo(gwv1.Namespace(ns)),
			Name:        p.Name,
			SectionName: p.SectionName,
		})
	}
	return out
}

// attachPoint is where one IR route (or listener) sits: enough to find
// every scope that may hold a policy for it.
type attachPoint struct {
	gateway nsName
	// listener is the Gateway listener or, with set, the ListenerSet
	// listener the route is served through.
	listener string
	set      *nsName
	// route and rule are empty for a listener-level lookup.
	routeKind, routeNS, routeName, rule string
}

// chain lists the scopes that may apply to a, narrowest first.
func (a *attachPoint) chain(dst []scope) []scope {
	dst = dst[:0]
	if a.routeKind != "" {
		if a.rule != "" {
			dst = append(dst, scope{levelRouteRule, a.routeKind, a.routeNS, a.routeName, a.rule})
		}
		dst = append(dst, scope{levelRoute, a.routeKind, a.routeNS, a.routeName, ""})
	}
	if a.set != nil {
		dst = append(dst,
			scope{levelListenerSetListener, "ListenerSet", a.set.ns, a.set.name, a.listener},
			scope{levelListenerSet, "ListenerSet", a.set.ns, a.set.name, ""})
	} else {
		dst = append(dst, scope{levelListener, "Gateway", a.gateway.ns, a.gateway.name, a.listener})
	}
	return append(dst, scope{levelGateway, "Gateway", a.gateway.ns, a.gateway.name, ""})
}

// effective is the policy that applies at a and, when that policy asks to
// be merged (mergeType) and sits on a route or rule, the closest policy on
// the listener / ListenerSet / Gateway it is merged onto. at is the scope
// the winner was found at.
type effective struct {
	policy, parent *policy
	at, parentAt   scope
}

// lookup finds the effective policy for a. It also records, for status,
// which wider policies were overridden or merged onto; call it once per
// IR route or listener.
func (ix *attachIndex) lookup(a *attachPoint, buf []scope) (effective, []scope) {
	buf = a.chain(buf)
	var e effective
	for i, s := range buf {
		p := ix.byScope[s]
		if p == nil {
			continue
		}
		e.policy, e.at = p, s
		if p.mergeType != nil && s.level >= levelRoute {
			for _, ps := range buf[i+1:] {
				if ps.level >= levelRoute {
					// Envoy Gateway merges a rule's policy onto the
					// listener's or Gateway's, not onto the route's.
					continue
				}
				if pp := ix.byScope[ps]; pp != nil {
					e.parent, e.parentAt = pp, ps
					break
				}
			}
		}
		// Every wider scope holding a policy is overridden by (or merged
		// with) this one for this route. Past the parent a merged policy is
		// laid over, the parent is what took their place (Envoy Gateway
		// names the listener's policy, not the route, as overriding them).
		by, pastParent := s, false
		for _, ws := range buf[i+1:] {
			if ix.byScope[ws] == nil {
				continue
			}
			m := ix.overriddenBy
			if e.parent != nil && ws == e.parentAt {
				m = ix.mergedBy
			}
			set := m[ws]
			if set == nil {
				set = map[scope]bool{}
				m[ws] = set
			}
			set[by] = true
			if e.parent != nil && ws == e.parentAt && !pastParent {
				pastParent, by = true, ws
			}
		}
		break
	}
	return e, buf
}

// scopeList formats child scopes as Envoy Gateway's Overridden and Merged
// messages do: "these gateway listeners: [...] and these routes: [...]".
func scopeList(set map[scope]bool) string {
	by := map[scopeLevel][]string{}
	for s := range set {
		by[s.level] = append(by[s.level], s.String())
	}
	order := []struct {
		l     scopeLevel
		label string
	}{
		{levelListener, "these gateway listeners"},
		{levelListenerSet, "these listenersets"},
		{levelListenerSetListener, "these listenerset listeners"},
		{levelRoute, "these routes"},
		{levelRouteRule, "these route rules"},
	}
	var parts []string
	for _, o := range order {
		if l := by[o.l]; len(l) > 0 {
			sort.Strings(l)
			l = dedupSorted(l)
			parts = append(parts, fmt.Sprintf("%s: [%s]", o.label, strings.Join(l, " ")))
		}
	}
	return strings.Join(parts, " and ")
}

func dedupSorted(l []string) []string {
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}
