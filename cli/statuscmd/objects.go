package statuscmd

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// Condition types shown in their own columns.
const (
	condAccepted     = "Accepted"
	condResolvedRefs = "ResolvedRefs"
	condProgrammed   = "Programmed"
)

// ObjectStatus is one row of the offline table: an object, or one parent
// of a route, one ancestor of a policy, one listener of a Gateway.
type ObjectStatus struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Parent is the route parent or policy ancestor the row is about.
	Parent string `json:"parent,omitempty"`
	// Accepted, ResolvedRefs and Programmed are the condition statuses
	// ("True", "False", "Unknown"), empty when the object has no such
	// condition.
	Accepted     string `json:"accepted,omitempty"`
	ResolvedRefs string `json:"resolvedRefs,omitempty"`
	Programmed   string `json:"programmed,omitempty"`
	// Reason and Message are those of the first condition that is not OK,
	// or of Accepted when all are.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// OK is false when any condition says something is wrong.
	OK bool `json:"ok"`
	// Origin is where the object was read (file:line).
	Origin string `json:"origin,omitempty"`
}

// ref is "ns/name" or "name".
func (s ObjectStatus) ref() string {
	if s.Namespace == "" {
		return s.Name
	}
	return s.Namespace + "/" + s.Name
}

// bad says whether a condition reports a problem, with the rule
// translate's Problems use. Conflicted and PartiallyInvalid are the types
// where True is bad (a PartiallyInvalid route had rules dropped); an
// Accepted=True with reason ListenersNotValid still means part of the
// Gateway was refused.
func bad(c metav1.Condition) bool {
	switch {
	case c.Type == "Conflicted" || c.Type == string(gwv1.RouteConditionPartiallyInvalid):
		return c.Status == metav1.ConditionTrue
	case c.Reason == string(gwv1.GatewayReasonListenersNotValid):
		return true
	}
	return c.Status != metav1.ConditionTrue
}

// row builds one row from a list of conditions.
func row(kind, ns, name, parent string, conds []metav1.Condition, origin resource.Origin) ObjectStatus {
	r := ObjectStatus{Kind: kind, Namespace: ns, Name: name, Parent: parent, OK: true, Origin: origin.String()}
	var first *metav1.Condition
	for i := range conds {
		c := &conds[i]
		switch c.Type {
		case condAccepted:
			r.Accepted = string(c.Status)
		case condResolvedRefs:
			r.ResolvedRefs = string(c.Status)
		case condProgrammed:
			r.Programmed = string(c.Status)
		}
		if bad(*c) {
			r.OK = false
			if first == nil || rank(c.Type) < rank(first.Type) {
				first = c
			}
		}
	}
	if first == nil {
		for i := range conds {
			if conds[i].Type == condAccepted {
				first = &conds[i]
			}
		}
	}
	if first == nil && len(conds) > 0 {
		first = &conds[0]
	}
	if first != nil {
		r.Reason, r.Message = first.Reason, first.Message
	}
	return r
}

// rank orders problems by how much they explain: not accepted first.
func rank(typ string) int {
	switch typ {
	case condAccepted:
		return 0
	case condResolvedRefs:
		return 1
	case condProgrammed:
		return 2
	}
	return 3
}

// Objects flattens the statuses of a translated set into rows, kind by
// kind in pipeline order, then by namespace and name. Objects without any
// status (not owned by this controller, no parent of ours) are left out.
func Objects(s *resource.Set) []ObjectStatus {
	if s == nil {
		return nil
	}
	var out []ObjectStatus
	key := func(kind, ns, name string) resource.Key {
		return resource.Key{Kind: kind, Namespace: ns, Name: name}
	}
	origin := func(group, kind, ns, name string) resource.Origin {
		k := key(kind, ns, name)
		k.Group = group
		return s.Origin(k)
	}
	gw := resource.GroupGatewayAPI
	eg := resource.GroupEnvoyGateway

	for _, o := range sorted(s.GatewayClasses) {
		if len(o.Status.Conditions) > 0 {
			out = append(out, row("GatewayClass", "", o.Name, "", o.Status.Conditions, origin(gw, "GatewayClass", "", o.Name)))
		}
	}
	for _, o := range sorted(s.Gateways) {
		if len(o.Status.Conditions) == 0 && len(o.Status.Listeners) == 0 {
			continue
		}
		org := origin(gw, "Gateway", o.Namespace, o.Name)
		r := row("Gateway", o.Namespace, o.Name, "", o.Status.Conditions, org)
		// The Gateway's references are its listeners' (certificates).
		for _, l := range o.Status.Listeners {
			for _, c := range l.Conditions {
				if c.Type == condResolvedRefs {
					if r.ResolvedRefs == "" || c.Status != metav1.ConditionTrue {
						r.ResolvedRefs = string(c.Status)
					}
				}
			}
		}
		out = append(out, r)
		for _, l := range o.Status.Listeners {
			out = append(out, row("Listener", o.Namespace, o.Name+"/"+string(l.Name), "", l.Conditions, org))
		}
	}
	for _, o := range sorted(s.ListenerSets) {
		if len(o.Status.Conditions) == 0 && len(o.Status.Listeners) == 0 {
			continue
		}
		org := origin(gw, "ListenerSet", o.Namespace, o.Name)
		out = append(out, row("ListenerSet", o.Namespace, o.Name, "", o.Status.Conditions, org))
		for _, l := range o.Status.Listeners {
			out = append(out, row("Listener", o.Namespace, o.Name+"/"+string(l.Name), "", l.Conditions, org))
		}
	}
	routes := func(kind, ns, name string, spec gwv1.CommonRouteSpec, parents []gwv1.RouteParentStatus) {
		org := origin(gw, kind, ns, name)
		for _, p := range parents {
			out = append(out, row(kind, ns, name, parentString(p.ParentRef, ns), p.Conditions, org))
		}
		if len(parents) == 0 {
			// Not attached to anything of ours: say so only for routes
			// that are not someone else's (no parent status at all), as a
			// typo in parentRefs leaves a route silently unused.
			for _, ref := range spec.ParentRefs {
				out = append(out, ObjectStatus{Kind: kind, Namespace: ns, Name: name, Parent: parentString(ref, ns), OK: true, Origin: org.String(),
					Reason: "NoStatus", Message: "no status for this parent: it does not exist or is not a Gateway of this controller; the route is not served through it"})
			}
		}
	}
	for _, o := range sorted(s.HTTPRoutes) {
		routes("HTTPRoute", o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Status.Parents)
	}
	for _, o := range sorted(s.GRPCRoutes) {
		routes("GRPCRoute", o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Status.Parents)
	}
	for _, o := range sorted(s.TLSRoutes) {
		routes("TLSRoute", o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Status.Parents)
	}
	for _, o := range sorted(s.TCPRoutes) {
		routes("TCPRoute", o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Status.Parents)
	}
	for _, o := range sorted(s.UDPRoutes) {
		routes("UDPRoute", o.Namespace, o.Name, o.Spec.CommonRouteSpec, o.Status.Parents)
	}
	for _, o := range sorted(s.Backends) {
		if len(o.Status.Conditions) > 0 {
			out = append(out, row("Backend", o.Namespace, o.Name, "", o.Status.Conditions, origin(eg, "Backend", o.Namespace, o.Name)))
		}
	}
	for _, o := range sorted(s.EnvoyProxies) {
		org := origin(eg, "EnvoyProxy", o.Namespace, o.Name)
		for _, a := range o.Status.Ancestors {
			parent := parentString(a.AncestorRef, o.Namespace)
			if a.AncestorRef.Kind != nil && *a.AncestorRef.Kind == "GatewayClass" {
				parent = "GatewayClass " + string(a.AncestorRef.Name) // cluster-scoped
			}
			out = append(out, row("EnvoyProxy", o.Namespace, o.Name, parent, a.Conditions, org))
		}
	}
	policies := func(group, kind, ns, name string, st gwv1.PolicyStatus) {
		org := origin(group, kind, ns, name)
		for _, a := range st.Ancestors {
			out = append(out, row(kind, ns, name, parentString(a.AncestorRef, ns), a.Conditions, org))
		}
	}
	for _, o := range sorted(s.BackendTLSPolicies) {
		policies(gw, "BackendTLSPolicy", o.Namespace, o.Name, o.Status)
	}
	for _, o := range sorted(s.ClientTrafficPolicies) {
		policies(eg, "ClientTrafficPolicy", o.Namespace, o.Name, o.Status)
	}
	for _, o := range sorted(s.BackendTrafficPolicies) {
		policies(eg, "BackendTrafficPolicy", o.Namespace, o.Name, o.Status)
	}
	for _, o := range sorted(s.SecurityPolicies) {
		policies(eg, "SecurityPolicy", o.Namespace, o.Name, o.Status)
	}
	for _, o := range sorted(s.EnvoyExtensionPolicies) {
		policies(eg, "EnvoyExtensionPolicy", o.Namespace, o.Name, o.Status)
	}
	for _, o := range sorted(s.EnvoyPatchPolicies) {
		policies(eg, "EnvoyPatchPolicy", o.Namespace, o.Name, o.Status)
	}
	return out
}

// parentString renders a parent or ancestor reference: "ns/name" for a
// Gateway, "Kind ns/name" otherwise, then the section and port if set.
func parentString(p gwv1.ParentReference, defaultNS string) string {
	ns := defaultNS
	if p.Namespace != nil && *p.Namespace != "" {
		ns = string(*p.Namespace)
	}
	s := ns + "/" + string(p.Name)
	if p.Kind != nil && *p.Kind != "" && *p.Kind != "Gateway" {
		s = string(*p.Kind) + " " + s
	}
	var extra []string
	if p.SectionName != nil && *p.SectionName != "" {
		extra = append(extra, string(*p.SectionName))
	}
	if p.Port != nil {
		extra = append(extra, fmt.Sprintf("port %d", *p.Port))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// named is any API object.
type named interface {
	GetNamespace() string
	GetName() string
}

func sorted[T named](list []T) []T {
	out := append([]T(nil), list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out
}

// withUnserved adds a row for each problem no status carries (a Gateway
// whose class is missing or another controller's, a parentRef to nothing;
// see translate's unserved.go), so that status fails where translate does.
// A route's NoStatus row for a parent that does not exist is replaced by
// the problem's row.
func withUnserved(rows []ObjectStatus, problems []translate.Problem) []ObjectStatus {
	var extra []ObjectStatus
	gone := map[string]bool{} // "Kind ns/name|parent" of replaced NoStatus rows
	for _, p := range problems {
		if p.Condition != "" {
			continue
		}
		parent := strings.TrimPrefix(p.Parent, "Gateway ")
		extra = append(extra, ObjectStatus{
			Kind: p.Key.Kind, Namespace: p.Key.Namespace, Name: p.Key.Name, Parent: parent,
			Reason: p.Reason, Message: p.Message, OK: false, Origin: p.Origin.String(),
		})
		if parent != "" {
			gone[p.Key.Kind+" "+p.Key.Namespace+"/"+p.Key.Name+"|"+parent] = true
		}
	}
	if len(extra) == 0 {
		return rows
	}
	out := make([]ObjectStatus, 0, len(rows)+len(extra))
	for _, r := range rows {
		if r.Reason == "NoStatus" {
			p := r.Parent
			if i := strings.Index(p, " ("); i >= 0 {
				p = p[:i] // section and port
			}
			if gone[r.Kind+" "+r.ref()+"|"+p] {
				continue
			}
		}
		out = append(out, r)
	}
	for _, e := range extra {
		out = slices.Insert(out, insertAt(out, e), e)
	}
	return out
}

// kindOrder is the order of Objects' rows.
var kindOrder = []string{"GatewayClass", "Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "Backend"}

func kindRank(kind string) int {
	if kind == "Listener" {
		kind = "Gateway"
	}
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// insertAt places a row after the rows of its object, or else after the
// rows of its kind and of the kinds before it, by namespace and name.
func insertAt(rows []ObjectStatus, e ObjectStatus) int {
	at := 0
	for i, r := range rows {
		rk, ek := kindRank(r.Kind), kindRank(e.Kind)
		if rk < ek || rk == ek && (r.Kind == e.Kind && r.ref() <= e.ref() || r.Kind != e.Kind && r.ref() < e.ref()) {
			at = i + 1
		}
	}
	return at
}
