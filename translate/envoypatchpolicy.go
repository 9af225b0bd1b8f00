package translate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// EnvoyPatchPolicy is read but not applied yet. Serving the Gateway it
// targets without its patches would drop what the user asked for, so every
// such policy is a Problem and what it targets fails closed: HTTP routes
// answer 500, TCP and TLS routes refuse connections, UDP routes drop
// datagrams.

// policyTarget is one object a policy attaches to.
type policyTarget struct {
	kind, namespace, name, section string
}

// unsupportedPolicy is one policy object with its targets.
type unsupportedPolicy struct {
	key     resource.Key
	targets []policyTarget
	status  *gwv1.PolicyStatus
	gen     int64
}

func collectPolicies(s *resource.Set) []unsupportedPolicy {
	var out []unsupportedPolicy
	for _, p := range s.EnvoyPatchPolicies {
		ref := p.Spec.TargetRef
		t := policyTarget{kind: string(ref.Kind), namespace: p.Namespace, name: string(ref.Name)}
		out = append(out, unsupportedPolicy{
			key:     resource.Key{Group: resource.GroupEnvoyGateway, Kind: "EnvoyPatchPolicy", Namespace: p.Namespace, Name: p.Name},
			targets: []policyTarget{t},
			status:  &p.Status,
			gen:     p.Generation,
		})
	}
	return out
}

// applyEnvoyPatchPolicies makes what each policy targets fail closed in
// cfg and returns one Problem per policy.
func applyEnvoyPatchPolicies(set, out *resource.Set, cfg *ir.Config, opts Options) []Problem {
	var problems []Problem
	for _, p := range collectPolicies(set) {
		msg := fmt.Sprintf("egctl does not translate %s yet: its settings are not applied, and %s", p.key.Kind, p.affected())
		problems = append(problems, Problem{Key: p.key, Origin: set.Origin(p.key), Condition: "Accepted", Reason: "Invalid", Message: msg})
		for _, t := range p.targets {
			failClosed(cfg, func(m *ir.Metadata, listener string) bool { return t.matches(m, listener) })
		}
		writePolicyStatus(out, p, msg, opts)
	}
	return problems
}

func (p unsupportedPolicy) affected() string {
	if len(p.targets) == 0 {
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
	case "EnvoyPatchPolicy":
		for _, p := range s.EnvoyPatchPolicies {
			if find(p.Namespace, p.Name) {
				return &p.Status
			}
		}
	}
	return nil
}
