package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// btlsPolicy is one BackendTLSPolicy after validation.
type btlsPolicy struct {
	p *gwv1.BackendTLSPolicy
	// tls is what backends it wins get; nil when the policy is unusable,
	// and then connections to its targets must fail rather than go out in
	// plain text.
	tls *ir.BackendTLS
	// accepted/resolved hold a failure (reason, message); "" when fine.
	acceptReason, acceptMsg   string
	resolveReason, resolveMsg string
	conflictedOn              []string // targets it lost, for the message
}

// btlsKey is a policy target: a Service (kind "Service") or an Envoy
// Gateway Backend (kind backendKind), and a section (a Service port name,
// a Backend port number) or "".
type btlsKey struct{ kind, ns, service, section string }

// backendKind is the target kind of an Envoy Gateway Backend.
const backendKind = "Backend"

// btlsTargetKind returns the key kind of a target, or "" when the policy
// cannot target it.
func btlsTargetKind(group, kind string) string {
	switch {
	case group == "" && kind == "Service":
		return "Service"
	case group == resource.GroupEnvoyGateway && kind == backendKind:
		return backendKind
	}
	return ""
}

// btlsIndex holds every BackendTLSPolicy, and for each target the one that
// takes precedence.
type btlsIndex struct {
	all      []*btlsPolicy
	byTarget map[btlsKey]*btlsPolicy
	// svcUsers lists, per Service or Backend, the Gateways whose routes
	// send traffic to it: the ancestors of the policies targeting it.
	svcUsers map[btlsUser][]nsName
}

// backendTLSPolicies builds the index on first use.
func (b *builder) backendTLSPolicies() *btlsIndex {
	if b.btls != nil {
		return b.btls
	}
	idx := &btlsIndex{byTarget: map[btlsKey]*btlsPolicy{}}
	b.btls = idx
	seen := map[nsName]bool{}
	for _, p := range b.out.BackendTLSPolicies {
		k := nsName{p.Namespace, p.Name}
		if seen[k] {
			continue
		}
		seen[k] = true
		idx.all = append(idx.all, b.validateBackendTLSPolicy(p))
	}
	// Gateway API precedence: the oldest policy, then namespace/name.
	ordered := append([]*btlsPolicy(nil), idx.all...)
	sort.SliceStable(ordered, func(i, j int) bool {
		a, c := ordered[i].p, ordered[j].p
		if !a.CreationTimestamp.Equal(&c.CreationTimestamp) {
			return a.CreationTimestamp.Before(&c.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < c.Namespace+"/"+c.Name
	})
	for _, bp := range ordered {
		// An invalid policy still claims its targets: the user asked for
		// TLS there, so they fail instead of going out in plain text.
		for _, t := range bp.p.Spec.TargetRefs {
			kind := btlsTargetKind(string(t.Group), string(t.Kind))
			if kind == "" {
				continue
			}
			key := btlsKey{kind, bp.p.Namespace, string(t.Name), ""}
			if t.SectionName != nil {
				key.section = string(*t.SectionName)
			}
			if winner, taken := idx.byTarget[key]; taken {
				bp.conflictedOn = append(bp.conflictedOn, fmt.Sprintf("%s %s/%s%s (taken by %s/%s)",
					key.kind, key.ns, key.service, sectionSuffix(key.section), winner.p.Namespace, winner.p.Name))
				continue
			}
			idx.byTarget[key] = bp
		}
	}
	return idx
}

func sectionSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " port " + s
}

func (b *builder) validateBackendTLSPolicy(p *gwv1.BackendTLSPolicy) *btlsPolicy {
	bp := &btlsPolicy{p: p}
	invalid := func(msg string) *btlsPolicy {
		bp.acceptReason, bp.acceptMsg = string(gwv1.PolicyReasonInvalid), msg
		return bp
	}
	for i, t := range p.Spec.TargetRefs {
		if btlsTargetKind(string(t.Group), string(t.Kind)) == "" {
			return invalid(fmt.Sprintf("spec.targetRefs[%d]: %s is not supported; only core Service and %s/Backend",
				i, groupKind(string(t.Group), string(t.Kind)), resource.GroupEnvoyGateway))
		}
	}
	if len(p.Spec.Options) > 0 {
		return invalid("spec.options: no option is supported")
	}
	v := p.Spec.Validation
	host := strings.ToLower(string(v.Hostname))
	if host == "" {
		return invalid("spec.validation.hostname is required")
	}
	t := &ir.BackendTLS{SNI: host}
	for i, s := range v.SubjectAltNames {
		switch s.Type {
		case gwv1.HostnameSubjectAltNameType:
			if s.Hostname == "" {
				return invalid(fmt.Sprintf("spec.validation.subjectAltNames[%d]: hostname is empty", i))
			}
			t.SubjectAltNames = append(t.SubjectAltNames, ir.SubjectAltName{Type: ir.SANDNS, Value: string(s.Hostname)})
		case gwv1.URISubjectAltNameType:
			if s.URI == "" {
				return invalid(fmt.Sprintf("spec.validation.subjectAltNames[%d]: uri is empty", i))
			}
			t.SubjectAltNames = append(t.SubjectAltNames, ir.SubjectAltName{Type: ir.SANURI, Value: string(s.URI)})
		default:
			return invalid(fmt.Sprintf("spec.validation.subjectAltNames[%d]: type %q is not supported", i, s.Type))
		}
	}
	switch {
	case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != "" && len(v.CACertificateRefs) > 0:
		return invalid("spec.validation: caCertificateRefs and wellKnownCACertificates are mutually exclusive")
	case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != "":
		if *v.WellKnownCACertificates != gwv1.WellKnownCACertificatesSystem {
			return invalid(fmt.Sprintf("spec.validation.wellKnownCACertificates %q is not supported; only System", *v.WellKnownCACertificates))
		}
		t.UseSystemCA = true
		t.CAName = ir.SystemCASecret
	case len(v.CACertificateRefs) == 0:
		return invalid("spec.validation needs caCertificateRefs or wellKnownCACertificates")
	default:
		from := objRef{group: resource.GroupGatewayAPI, kind: "BackendTLSPolicy", namespace: p.Namespace, name: p.Name}
		var bundle []string
		for i, ref := range v.CACertificateRefs {
			pemText, reason, msg := b.resolveCA(from, string(ref.Group), string(ref.Kind), p.Namespace, string(ref.Name))
			if reason != "" {
				if reason == "InvalidCACertificateKind" {
					reason = string(gwv1.BackendTLSPolicyReasonInvalidKind)
				}
				if bp.resolveReason == "" {
					bp.resolveReason = reason
					bp.resolveMsg = fmt.Sprintf("spec.validation.caCertificateRefs[%d]: %s", i, msg)
				} else {
					bp.resolveMsg += fmt.Sprintf("; spec.validation.caCertificateRefs[%d]: %s", i, msg)
				}
				continue
			}
			bundle = append(bundle, pemText)
		}
		if len(bundle) == 0 {
			bp.acceptReason = string(gwv1.BackendTLSPolicyReasonNoValidCACertificate)
			bp.acceptMsg = "no caCertificateRef is valid; connections to the targets fail"
			return bp
		}
		t.CACertificates = strings.Join(bundle, "")
		t.CAName = caSecretName(p.Name, p.Namespace)
	}
	bp.tls = t
	return bp
}

// caSecretName is the SDS secret Envoy Gateway puts the CA certificates
// of a BackendTLSPolicy or a Backend in.
func caSecretName(name, ns string) string { return name + "/" + ns + "-ca" }

// policyFor returns the policy that applies to a Service port: one naming
// the port by sectionName before one for the whole Service.
func (idx *btlsIndex) policyFor(ns, svc string, sp *corev1.ServicePort) *btlsPolicy {
	if sp != nil && sp.Name != "" {
		if bp := idx.byTarget[btlsKey{"Service", ns, svc, sp.Name}]; bp != nil {
			return bp
		}
	}
	return idx.byTarget[btlsKey{"Service", ns, svc, ""}]
}

// policyForBackend returns the policy that applies to a reference to an
// Envoy Gateway Backend through port (a number, or "" without one): one
// naming the port by sectionName before one for the whole Backend.
func (idx *btlsIndex) policyForBackend(ns, name, port string) *btlsPolicy {
	if port != "" {
		if bp := idx.byTarget[btlsKey{backendKind, ns, name, port}]; bp != nil {
			return bp
		}
	}
	return idx.byTarget[btlsKey{backendKind, ns, name, ""}]
}

// btlsUser is a Service or a Backend a Gateway's routes send traffic to.
type btlsUser struct{ kind, ns, name string }

// wantsTLS reports whether a Service appProtocol means TLS to the backend.
func wantsTLS(appProtocol *string) bool {
	if appProtocol == nil {
		return false
	}
	switch *appProtocol {
	case "kubernetes.io/wss", "https", "tls":
		return true
	}
	return false
}

// applyBackendTLS sets be.TLS from the policy targeting the Service port.
// An unusable policy empties the backend's endpoints: its share of traffic
// then fails (503) instead of going out without the TLS the user asked for.
// A port whose appProtocol needs TLS but that no policy covers is an error.
//
// Gateway API scopes the policy to HTTPRoute, GRPCRoute and terminated
// TLSRoute traffic: TCPRoute and UDPRoute backends are left alone, and
// TLSRoute backends reached through a passthrough listener lose the TLS
// again when the proxy is assembled (finishBackendTLS).
func (b *builder) applyBackendTLS(fromKind string, be *ir.Backend, svc *corev1.Service, sp *corev1.ServicePort) *refError {
	if fromKind == "TCPRoute" || fromKind == "UDPRoute" {
		return nil
	}
	idx := b.backendTLSPolicies()
	bp := idx.policyFor(svc.Namespace, svc.Name, sp)
	if bp == nil {
		if sp != nil && wantsTLS(sp.AppProtocol) {
			return &refError{"UnsupportedProtocol", fmt.Sprintf("Service %s/%s port %d: appProtocol %q needs TLS to the backend and no BackendTLSPolicy targets it",
				svc.Namespace, svc.Name, sp.Port, *sp.AppProtocol)}
		}
		return nil
	}
	if bp.tls == nil {
		be.Endpoints = nil
		return nil
	}
	be.TLS = bp.tls
	return nil
}

// recordBackendTLSAncestors notes which Services the Gateway's proxy
// sends traffic to: a policy targeting one of them has that Gateway as an
// ancestor in its status.
func (b *builder) recordBackendTLSAncestors(g *gatewayState) {
	if g.proxy == nil || len(b.out.BackendTLSPolicies) == 0 {
		return
	}
	idx := b.backendTLSPolicies()
	if idx.svcUsers == nil {
		idx.svcUsers = map[btlsUser][]nsName{}
	}
	gk := nsName{g.gw.Namespace, g.gw.Name}
	note := func(d *ir.RouteDestination) {
		if d == nil {
			return
		}
		for _, be := range d.Backends {
			if be == nil || be.Metadata == nil || (be.Metadata.Kind != "Service" && be.Metadata.Kind != backendKind) {
				continue
			}
			sk := btlsUser{be.Metadata.Kind, be.Metadata.Namespace, be.Metadata.Name}
			if !slices.Contains(idx.svcUsers[sk], gk) {
				idx.svcUsers[sk] = append(idx.svcUsers[sk], gk)
			}
		}
	}
	for _, l := range g.proxy.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				note(r.Destination)
				for _, m := range r.Mirrors {
					note(m.Destination)
				}
			}
		}
	}
	for _, l := range g.proxy.TCP {
		for _, r := range l.Routes {
			note(r.Destination)
		}
	}
}

// writeBackendTLSStatus writes one ancestor entry per Gateway whose routes
// use a backend the policy targets, as Gateway API asks of policies that
// attach to backends.
func (b *builder) writeBackendTLSStatus() {
	if len(b.out.BackendTLSPolicies) == 0 {
		return
	}
	b.backendTLSPolicies()
	for _, bp := range b.btls.all {
		var anc []nsName
		for _, t := range bp.p.Spec.TargetRefs {
			kind := btlsTargetKind(string(t.Group), string(t.Kind))
			for _, gk := range b.btls.svcUsers[btlsUser{kind, bp.p.Namespace, string(t.Name)}] {
				if !slices.Contains(anc, gk) {
					anc = append(anc, gk)
				}
			}
		}
		sort.Slice(anc, func(i, j int) bool {
			if anc[i].ns != anc[j].ns {
				return anc[i].ns < anc[j].ns
			}
			return anc[i].name < anc[j].name
		})
		var out []gwv1.PolicyAncestorStatus
		for _, a := range bp.p.Status.Ancestors {
			if string(a.ControllerName) != b.opts.ControllerName {
				out = append(out, a) // another controller's entry stays
			}
		}
		for _, a := range anc {
			c := newConditions(bp.p.Generation, b.now)
			switch {
			case bp.acceptReason != "":
				c.set("Accepted", false, bp.acceptReason, bp.acceptMsg)
			case len(bp.conflictedOn) > 0:
				c.set("Accepted", false, string(gwv1.PolicyReasonConflicted),
					"an older policy takes precedence on "+strings.Join(bp.conflictedOn, ", "))
			default:
				c.set("Accepted", true, string(gwv1.PolicyReasonAccepted), "Policy has been accepted")
			}
			if bp.resolveReason != "" {
				c.set("ResolvedRefs", false, bp.resolveReason, bp.resolveMsg)
			} else {
				c.set("ResolvedRefs", true, string(gwv1.BackendTLSPolicyReasonResolvedRefs), "All references resolved")
			}
			ns := gwv1.Namespace(a.ns)
			out = append(out, gwv1.PolicyAncestorStatus{
				AncestorRef: gwv1.ParentReference{
					Group:     ptrTo(gwv1.Group(gwv1.GroupName)),
					Kind:      ptrTo(gwv1.Kind("Gateway")),
					Namespace: &ns,
					Name:      gwv1.ObjectName(a.name),
				},
				ControllerName: gwv1.GatewayController(b.opts.ControllerName),
				Conditions:     c.list,
			})
		}
		bp.p.Status.Ancestors = out
	}
}
