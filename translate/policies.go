package translate

import (
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// Envoy Gateway's policy kinds are read but not translated yet. Serving the
// routes they target without them would drop what the user asked for (an
// authentication requirement, a client certificate check, a timeout), so
// every such policy is a Problem and what it targets fails closed: HTTP
// routes answer 500, TCP and TLS routes refuse connections, UDP routes
// drop datagrams.

// policyTarget is one object a policy attaches to.
type policyTarget struct {
	kind, namespace, name, section string
}

// unsupportedPolicy is one policy object with its targets.
type unsupportedPolicy struct {
	key      resource.Key
	targets  []policyTarget
	selector bool // targetSelectors: targets chosen by labels
	status   *gwv1.PolicyStatus
	gen      int64
}

func collectPolicies(s *resource.Set) []unsupportedPolicy {
	var out []unsupportedPolicy
	add := func(kind string, meta *metav1.ObjectMeta, refs egv1a1.PolicyTargetReferences, st *gwv1.PolicyStatus) {
		p := unsupportedPolicy{
			key:      resource.Key{Group: resource.GroupEnvoyGateway, Kind: kind, Namespace: meta.Namespace, Name: meta.Name},
			selector: len(refs.TargetSelectors) > 0,
			status:   st,
			gen:      meta.Generation,
		}
		all := refs.TargetRefs
		if refs.TargetRef != nil {
			all = append([]gwv1.LocalPolicyTargetReferenceWithSectionName{*refs.TargetRef}, all...)
		}
		for _, r := range all {
			t := policyTarget{kind: string(r.Kind), namespace: meta.Namespace, name: string(r.Name)}
			if r.SectionName != nil {
				t.section = string(*r.SectionName)
			}
			p.targets = append(p.targets, t)
		}
		out = append(out, p)
	}
	for _, p := range s.ClientTrafficPolicies {
		add("ClientTrafficPolicy", &p.ObjectMeta, p.Spec.PolicyTargetReferences, &p.Status)
	}
	for _, p := range s.BackendTrafficPolicies {
		add("BackendTrafficPolicy", &p.ObjectMeta, p.Spec.PolicyTargetReferences, &p.Status)
	}
	for _, p := range s.SecurityPolicies {
		add("SecurityPolicy", &p.ObjectMeta, p.Spec.PolicyTargetReferences, &p.Status)
	}
	for _, p := range s.EnvoyExtensionPolicies {
		add("EnvoyExtensionPolicy", &p.ObjectMeta, p.Spec.PolicyTargetReferences, &p.Status)
	}
	for _, p := range s.EnvoyPatchPolicies {
		ref := p.Spec.TargetRef
		add("EnvoyPatchPolicy", &p.ObjectMeta, egv1a1.PolicyTargetReferences{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: ref}},
		}, &p.Status)
	}
	return out
}

// applyUnsupportedPolicies makes what each policy targets fail closed in
// cfg and returns one Problem per policy. Policies choosing targets by
// label (targetSelectors) cannot be resolved here, so every route in their
// namespace fails closed: wider than the policy, never more open.
func applyUnsupportedPolicies(set, out *resource.Set, cfg *ir.Config, opts Options) []Problem {
	var problems []Problem
	for _, p := range collectPolicies(set) {
		msg := fmt.Sprintf("egctl does not translate %s yet: its settings are not applied, and %s", p.key.Kind, p.affected())
		problems = append(problems, Problem{Key: p.key, Origin: set.Origin(p.key), Condition: "Accepted", Reason: "Invalid", Message: msg})
		for _, t := range p.targets {
			failClosed(cfg, func(m *ir.Metadata, listener string) bool { return t.matches(m, listener) })
		}
		if p.selector {
			ns := p.key.Namespace
			failClosed(cfg, func(m *ir.Metadata, _ string) bool { return m != nil && m.Namespace == ns && m.Kind != "Gateway" })
		}
		writePolicyStatus(out, p, msg, opts)
	}
	return problems
}

func (p unsupportedPolicy) affected() string {
	if len(p.targets) == 0 && !p.selector {
		return "it targets nothing"
	}
	names := make([]string, 0, len(p.targets)+1)
	for _, t := range p.targets {
		n := t.kind + " " + t.namespace + "/" + t.name
		if t.section != "" {
			n += " section " + t.section
		}
		names = append(names, n)
	}
	if p.selector {
		names = append(names, "every route in namespace "+p.key.Namespace+" (targetSelectors)")
	}
	return "traffic through " + strings.Join(names, ", ") + " fails closed"
}

// matches reports whether a route (its metadata) on the named listener is
// covered by the target.
func (t policyTarget) matches(m *ir.Metadata, listener string) bool {
	if m == nil {
		return false
	}
	if t.kind == "Gateway" {
		gw := t.namespace + "/" + t.name + "/"
		if !strings.HasPrefix(listener, gw) {
			return false
		}
		return t.section == "" || listener == gw+t.section
	}
	if m.Kind != t.kind || m.Namespace != t.namespace || m.Name != t.name {
		return false
	}
	return t.section == "" || m.SectionName == t.section
}

// failClosed turns every route hit selects into a refusal.
func failClosed(cfg *ir.Config, hit func(m *ir.Metadata, listener string) bool) {
	for _, px := range cfg.Proxies {
		for _, l := range px.HTTP {
			for _, vh := range l.VirtualHosts {
				for i, r := range vh.Routes {
					if hit(r.Metadata, l.Name) {
						vh.Routes[i] = &ir.HTTPRoute{
							Name: r.Name, Metadata: r.Metadata, Match: r.Match,
							DirectResponse: &ir.DirectResponse{StatusCode: 500},
						}
					}
				}
			}
		}
		for _, l := range px.TCP {
			for i, r := range l.Routes {
				if hit(r.Metadata, l.Name) && r.Destination != nil {
					cp := *r
					cp.Destination = &ir.RouteDestination{Name: r.Destination.Name, InvalidWeight: 1, Metadata: r.Destination.Metadata}
					l.Routes[i] = &cp
				}
			}
		}
		for _, l := range px.UDP {
			if l.Route != nil && hit(l.Route.Metadata, l.Name) {
				l.Route = nil
			}
		}
	}
}

// writePolicyStatus records the refusal on the policy's status, with the
// policy's targets as ancestors.
func writePolicyStatus(out *resource.Set, p unsupportedPolicy, msg string, opts Options) {
	if out == nil {
		return
	}
	st := findPolicyStatus(out, p.key)
	if st == nil {
		return
	}
	st.Ancestors = nil
	for _, t := range p.targets {
		ns := gwv1.Namespace(t.namespace)
		ref := gwv1.ParentReference{Group: ptrTo(gwv1.Group(resource.GroupGatewayAPI)), Kind: ptrTo(gwv1.Kind(t.kind)), Namespace: &ns, Name: gwv1.ObjectName(t.name)}
		if t.section != "" {
			ref.SectionName = ptrTo(gwv1.SectionName(t.section))
		}
		st.Ancestors = append(st.Ancestors, gwv1.PolicyAncestorStatus{
			AncestorRef:    ref,
			ControllerName: gwv1.GatewayController(opts.ControllerName),
			Conditions: []metav1.Condition{{
				Type: "Accepted", Status: metav1.ConditionFalse, Reason: "Invalid", Message: msg,
				ObservedGeneration: p.gen, LastTransitionTime: metav1.NewTime(opts.Now),
			}},
		})
	}
}

func findPolicyStatus(s *resource.Set, k resource.Key) *gwv1.PolicyStatus {
	find := func(ns, name string) bool { return ns == k.Namespace && name == k.Name }
	switch k.Kind {
	case "ClientTrafficPolicy":
		for _, p := range s.ClientTrafficPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	case "BackendTrafficPolicy":
		for _, p := range s.BackendTrafficPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	case "SecurityPolicy":
		for _, p := range s.SecurityPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	case "EnvoyExtensionPolicy":
		for _, p := range s.EnvoyExtensionPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	case "EnvoyPatchPolicy":
		for _, p := range s.EnvoyPatchPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	}
	return nil
}
