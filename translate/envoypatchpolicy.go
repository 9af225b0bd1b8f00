package translate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// EnvoyPatchPolicy patches the xDS resources egctl generates, with JSON
// patches (RFC 6902) on listeners, route configurations, clusters, cluster
// load assignments and secrets by name. translate resolves the target and
// hands the patches to the proxies it covers (Accepted); xds applies them
// last, to every output, and says how that went (ir.PatchResult), which
// Result.RecordPatchResults writes as the Programmed condition, as Envoy
// Gateway does.
//
// Targets: a Gateway in the policy's namespace, or a GatewayClass, whose
// patches go to every proxy of the class (Envoy Gateway applies a
// GatewayClass target only with mergeGateways, where the class has one
// proxy; egctl compiles each Gateway of a class separately, so a
// class-wide patch goes to each of them, and a resource only one of them
// has is no error as long as some proxy has it).
//
// Envoy Gateway only applies patches when its configuration sets
// extensionApis.enableEnvoyPatchPolicy; egctl has no such configuration: the
// manifests given to it are the whole intent, so it always applies them.

// eppRecord is what Result.RecordPatchResults needs of one policy.
type eppRecord struct {
	key     resource.Key
	origin  resource.Origin
	gen     int64
	status  *gwv1.PolicyStatus
	shared  bool
	proxies int
}

// eppIndex is every policy given to a proxy, by "namespace/name".
type eppIndex struct {
	byName     map[string]*eppRecord
	controller string
	now        metav1.Time
}

// applyEnvoyPatchPolicies resolves every EnvoyPatchPolicy, gives its
// patches to the proxies of cfg it targets, and writes Accepted.
func (b *builder) applyEnvoyPatchPolicies(cfg *ir.Config) ([]Problem, *eppIndex) {
	if len(b.out.EnvoyPatchPolicies) == 0 {
		return nil, nil
	}
	ix := &eppIndex{byName: map[string]*eppRecord{}, controller: b.opts.ControllerName, now: b.now}
	seen := map[nsName]bool{}
	var ps []*egv1a1.EnvoyPatchPolicy
	for _, p := range b.out.EnvoyPatchPolicies {
		k := nsName{p.Namespace, p.Name}
		if !seen[k] {
			seen[k] = true
			ps = append(ps, p)
		}
	}
	// Envoy Gateway's order: priority, then age, then namespace/name.
	sort.SliceStable(ps, func(i, j int) bool {
		a, c := ps[i], ps[j]
		if a.Spec.Priority != c.Spec.Priority {
			return a.Spec.Priority < c.Spec.Priority
		}
		if !a.CreationTimestamp.Equal(&c.CreationTimestamp) {
			return a.CreationTimestamp.Before(&c.CreationTimestamp)
		}
		if a.Namespace != c.Namespace {
			return a.Namespace < c.Namespace
		}
		return a.Name < c.Name
	})
	sink := &problemSink{set: b.out}
	for _, p := range ps {
		rec := &eppRecord{
			key:    resource.Key{Group: resource.GroupEnvoyGateway, Kind: "EnvoyPatchPolicy", Namespace: p.Namespace, Name: p.Name},
			origin: b.out.Origin(resource.Key{Group: resource.GroupEnvoyGateway, Kind: "EnvoyPatchPolicy", Namespace: p.Namespace, Name: p.Name}),
			gen:    p.Generation,
		}
		rec.status = &p.Status
		anc, proxies, cond := b.resolveEPP(p)
		if anc == nil {
			continue // not ours
		}
		if cond.Status == metav1.ConditionTrue {
			patch, err := eppPatches(p)
			if err != nil {
				cond = metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, Reason: string(gwv1.PolicyReasonInvalid), Message: err.Error()}
			} else {
				patch.Shared = anc.Kind != nil && *anc.Kind == "GatewayClass"
				rec.shared = patch.Shared
				for _, px := range proxies {
					px.Patches = append(px.Patches, patch)
				}
				rec.proxies = len(proxies)
			}
		}
		cond.ObservedGeneration, cond.LastTransitionTime = p.Generation, b.now
		if rec.status != nil {
			setOurAncestor(rec.status, *anc, b.opts.ControllerName, cond)
		}
		if cond.Status == metav1.ConditionFalse {
			sink.add(rec.key, []metav1.Condition{cond}, "")
		}
		ix.byName[p.Namespace+"/"+p.Name] = rec
	}
	return sink.list, ix
}

// resolveEPP finds the proxies a policy targets. anc is nil for a target
// that belongs to another controller (nothing is written, as for every
// kind); cond is the Accepted condition.
func (b *builder) resolveEPP(p *egv1a1.EnvoyPatchPolicy) (anc *gwv1.ParentReference, proxies []*ir.Proxy, cond metav1.Condition) {
	ref := p.Spec.TargetRef
	ok := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: string(gwv1.PolicyReasonAccepted), Message: "Policy has been accepted."}
	bad := func(reason, format string, args ...any) metav1.Condition {
		return metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	kind := string(ref.Kind)
	anc = &gwv1.ParentReference{Group: ptrTo(gwv1.Group(resource.GroupGatewayAPI)), Kind: ptrTo(gwv1.Kind(kind)), Name: ref.Name}
	if kind != "GatewayClass" {
		anc.Namespace = ptrTo(gwv1.Namespace(p.Namespace))
	}
	if string(ref.Group) != resource.GroupGatewayAPI || (kind != "Gateway" && kind != "GatewayClass") {
		return anc, nil, bad(string(gwv1.PolicyReasonInvalid),
			"spec.targetRef: TargetRef.Group:%s TargetRef.Kind:%s, only TargetRef.Group:%s and TargetRef.Kind:Gateway or GatewayClass is supported",
			ref.Group, ref.Kind, resource.GroupGatewayAPI)
	}
	switch kind {
	case "Gateway":
		g := b.gateways[nsName{p.Namespace, string(ref.Name)}]
		if g == nil {
			for _, gw := range b.out.Gateways {
				if gw.Namespace == p.Namespace && gw.Name == string(ref.Name) {
					return nil, nil, ok // another controller's Gateway
				}
			}
			return anc, nil, bad(string(gwv1.PolicyReasonTargetNotFound), "Gateway %s/%s not found", p.Namespace, ref.Name)
		}
		if b.mergesGateways(string(g.gw.Spec.GatewayClassName)) {
			return anc, nil, bad(string(gwv1.PolicyReasonInvalid),
				"spec.targetRef: TargetRef.Group:%s TargetRef.Kind:Gateway, only TargetRef.Group:%s and TargetRef.Kind:GatewayClass is supported (the class merges its Gateways)",
				ref.Group, resource.GroupGatewayAPI)
		}
		if g.proxy != nil {
			proxies = []*ir.Proxy{g.proxy}
		}
	case "GatewayClass":
		name := string(ref.Name)
		if !b.classes[name] {
			if b.ourClasses[name] {
				return anc, nil, bad(string(gwv1.PolicyReasonInvalid), "GatewayClass %s is not accepted", name)
			}
			for _, gc := range b.out.GatewayClasses {
				if gc.Name == name {
					return nil, nil, ok
				}
			}
			return anc, nil, bad(string(gwv1.PolicyReasonTargetNotFound), "GatewayClass %s not found", name)
		}
		seen := map[*ir.Proxy]bool{}
		for _, g := range b.gwOrder {
			// Merged Gateways share one proxy: patch it once.
			if string(g.gw.Spec.GatewayClassName) == name && g.proxy != nil && !seen[g.proxy] {
				seen[g.proxy] = true
				proxies = append(proxies, g.proxy)
			}
		}
	}
	if p.Spec.Type != egv1a1.JSONPatchEnvoyPatchType {
		return anc, nil, bad(string(gwv1.PolicyReasonInvalid), "spec.type %q is not supported; only JSONPatch", p.Spec.Type)
	}
	return anc, proxies, ok
}

// mergesGateways reports whether the class's EnvoyProxy asks for one proxy
// for all its Gateways.
func (b *builder) mergesGateways(class string) bool {
	for _, gc := range b.out.GatewayClasses {
		if gc.Name != class {
			continue
		}
		pr := gc.Spec.ParametersRef
		if pr == nil || string(pr.Group) != resource.GroupEnvoyGateway || pr.Kind != "EnvoyProxy" || pr.Namespace == nil {
			return false
		}
		for _, ep := range b.out.EnvoyProxies {
			if ep.Namespace == string(*pr.Namespace) && ep.Name == pr.Name {
				return ep.Spec.MergeGateways != nil && *ep.Spec.MergeGateways
			}
		}
	}
	return false
}

// eppPatches copies the policy's patches into the IR.
func eppPatches(p *egv1a1.EnvoyPatchPolicy) (*ir.EnvoyPatch, error) {
	out := &ir.EnvoyPatch{Policy: p.Namespace + "/" + p.Name, Priority: p.Spec.Priority}
	for i, jp := range p.Spec.JSONPatches {
		op := jp.Operation
		x := ir.JSONPatch{Type: string(jp.Type), Name: jp.Name, Op: string(op.Op)}
		if op.Path != nil {
			x.Path, x.HasPath = *op.Path, true
		}
		if op.JSONPath != nil {
			x.JSONPath = *op.JSONPath
		}
		if op.From != nil {
			x.From, x.HasFrom = *op.From, true
		}
		if op.Value != nil {
			if !json.Valid(op.Value.Raw) {
				return nil, fmt.Errorf("spec.jsonPatches[%d].operation.value is not JSON", i)
			}
			x.Value = append(json.RawMessage(nil), op.Value.Raw...)
		}
		out.Patches = append(out.Patches, x)
	}
	return out, nil
}

// setOurAncestor writes cond on the ancestor ref of our controller,
// replacing a condition of the same type; other controllers' entries stay.
func setOurAncestor(st *gwv1.PolicyStatus, ref gwv1.ParentReference, controller string, cond metav1.Condition) {
	for i := range st.Ancestors {
		a := &st.Ancestors[i]
		if string(a.ControllerName) == controller && sameRef(&a.AncestorRef, &ref) {
			for j := range a.Conditions {
				if a.Conditions[j].Type == cond.Type {
					a.Conditions[j] = cond
					return
				}
			}
			a.Conditions = append(a.Conditions, cond)
			return
		}
	}
	st.Ancestors = append(st.Ancestors, gwv1.PolicyAncestorStatus{
		AncestorRef: ref, ControllerName: gwv1.GatewayController(controller), Conditions: []metav1.Condition{cond},
	})
}

// RecordPatchResults writes what xds reported about each EnvoyPatchPolicy
// (xds.Resources.PatchResults of every proxy compiled) as the policy's
// Programmed condition, and adds a Problem for each policy that did not
// apply. A policy given to several proxies (a GatewayClass target) misses a
// resource only when none of them has it.
func (r *Result) RecordPatchResults(results []ir.PatchResult) {
	if r == nil || r.epp == nil || len(results) == 0 {
		return
	}
	by := map[string][]ir.PatchResult{}
	for _, pr := range results {
		by[pr.Policy] = append(by[pr.Policy], pr)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rec := r.epp.byName[n]
		if rec == nil {
			continue
		}
		prs := by[n]
		var errs, notFound []string
		missing := map[string]int{}
		for _, pr := range prs {
			prefix := ""
			if len(prs) > 1 {
				prefix = "proxy " + pr.Proxy + ": "
			}
			for _, e := range pr.Errors {
				errs = append(errs, prefix+e)
			}
			for _, nf := range dedupStrings(pr.NotFound) {
				missing[nf]++
			}
		}
		for nf, c := range missing {
			if !rec.shared || c == len(prs) {
				notFound = append(notFound, nf)
			}
		}
		sort.Strings(notFound)
		cond := metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: string(egv1a1.PolicyReasonProgrammed),
			Message: "Patches have been successfully applied."}
		switch {
		case len(errs) > 0:
			msg := strings.Join(errs, "; ")
			if len(notFound) > 0 {
				msg += "; unable to find xds resources: " + strings.Join(notFound, ",")
			}
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(egv1a1.PolicyReasonInvalid), msg+"; none of the policy's patches were applied"
		case len(notFound) > 0:
			cond.Status, cond.Reason = metav1.ConditionFalse, string(egv1a1.PolicyReasonResourceNotFound)
			cond.Message = "Unable to find xds resources: " + strings.Join(notFound, ",")
			if !rec.shared {
				cond.Message += "; none of the policy's patches were applied"
			}
		}
		cond.ObservedGeneration, cond.LastTransitionTime = rec.gen, r.epp.now
		if rec.status != nil {
			for i := range rec.status.Ancestors {
				a := &rec.status.Ancestors[i]
				if string(a.ControllerName) != r.epp.controller || !acceptedTrue(a.Conditions) {
					continue
				}
				setOurAncestor(rec.status, a.AncestorRef, r.epp.controller, cond)
			}
		}
		if cond.Status == metav1.ConditionFalse {
			r.Problems = append(r.Problems, Problem{Key: rec.key, Origin: rec.origin, Condition: cond.Type, Reason: cond.Reason, Message: cond.Message})
		}
	}
	sortProblems(r.Problems)
}

func acceptedTrue(cs []metav1.Condition) bool {
	for _, c := range cs {
		if c.Type == "Accepted" {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

func dedupStrings(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
