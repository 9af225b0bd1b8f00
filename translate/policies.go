package translate

import (
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// Envoy Gateway's policy kinds. Each goes through the attachment engine
// (attach.go) and is translated by its own file; the kinds' allowed targets
// are those their CRDs allow.
var (
	ctpKind = &policyKind{name: "ClientTrafficPolicy", plural: "clientTrafficPolicies",
		targets: map[string]bool{"Gateway": true, "ListenerSet": true}}
	btpKind = &policyKind{name: "BackendTrafficPolicy", plural: "backendTrafficPolicies", routeRules: true,
		targets: map[string]bool{"Gateway": true, "ListenerSet": true, "HTTPRoute": true, "GRPCRoute": true, "TCPRoute": true, "TLSRoute": true, "UDPRoute": true}}
	spKind = &policyKind{name: "SecurityPolicy", plural: "securityPolicies", routeRules: true,
		targets: map[string]bool{"Gateway": true, "ListenerSet": true, "HTTPRoute": true, "GRPCRoute": true, "TCPRoute": true}}
	eepKind = &policyKind{name: "EnvoyExtensionPolicy", plural: "envoyExtensionPolicies", routeRules: true,
		targets: map[string]bool{"Gateway": true, "ListenerSet": true, "HTTPRoute": true, "GRPCRoute": true, "TCPRoute": true, "TLSRoute": true, "UDPRoute": true}}
)

// newPolicy wraps one policy object for the engine. Its status is the
// output set's own (a deep copy, or a status shell with
// Options.SkipStatus), never the caller's.
func (b *builder) newPolicy(kind *policyKind, meta *metav1.ObjectMeta, refs egv1a1.PolicyTargetReferences, mt *egv1a1.MergeType, spec any, status *gwv1.PolicyStatus) *policy {
	p := &policy{
		kind: kind, meta: meta, refs: refs, mergeType: mt, spec: spec,
		key:    resource.Key{Group: resource.GroupEnvoyGateway, Kind: kind.name, Namespace: meta.Namespace, Name: meta.Name},
		status: status,
	}
	return p
}

// applyPolicies attaches and applies every policy kind to cfg and returns
// the problems found, statuses written.
func (b *builder) applyPolicies(cfg *ir.Config) []Problem {
	var ctps, btps, sps, eeps []*policy
	for _, o := range b.out.ClientTrafficPolicies {
		ctps = append(ctps, b.newPolicy(ctpKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, nil, &o.Spec, &o.Status))
	}
	for _, o := range b.out.BackendTrafficPolicies {
		btps = append(btps, b.newPolicy(btpKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, o.Spec.MergeType, &o.Spec, &o.Status))
	}
	for _, o := range b.out.SecurityPolicies {
		sps = append(sps, b.newPolicy(spKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, o.Spec.MergeType, &o.Spec, &o.Status))
	}
	for _, o := range b.out.EnvoyExtensionPolicies {
		eeps = append(eeps, b.newPolicy(eepKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, o.Spec.MergeType, &o.Spec, &o.Status))
	}
	if len(ctps)+len(btps)+len(sps)+len(eeps) == 0 {
		return nil
	}
	ctp := b.attachPolicies(ctpKind, ctps)
	sp := b.attachPolicies(spKind, sps)
	btp := b.attachPolicies(btpKind, btps)
	eep := b.attachPolicies(eepKind, eeps)
	if b.merge != nil {
		b.merge.ctpIx, b.merge.btpIx = ctp, btp
	}

	// Listener settings first; then security, whose failures close routes
	// before traffic and extension settings are spent on them.
	b.applyListenerPolicy(cfg, b.clientTrafficPolicies(ctp)) // clienttrafficpolicy.go
	b.applyRoutePolicy(cfg, b.securityPolicies(sp))          // securitypolicy.go
	b.applyRoutePolicy(cfg, b.backendTrafficPolicies(btp))   // backendtrafficpolicy.go
	b.applyRoutePolicy(cfg, b.envoyExtensionPolicies(eep))   // envoyextensionpolicy.go

	var problems []Problem
	for _, ix := range []*attachIndex{ctp, sp, btp, eep} {
		problems = append(problems, ix.writeStatuses(b, b.out)...)
	}
	return problems
}

// notTranslated is the handler of a kind egctl does not translate yet:
// every route or listener it applies to fails closed, and it says so.
func notTranslated(ix *attachIndex) error {
	return fmt.Errorf("egctl does not translate %s yet: its settings are not applied", ix.kind.name)
}
