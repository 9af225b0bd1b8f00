package translate

import (
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// EnvoyProxy reaches a Gateway two ways: the GatewayClass's
// spec.parametersRef (every Gateway of the class) and the Gateway's
// spec.infrastructure.parametersRef (that Gateway). As in Envoy Gateway the
// Gateway's replaces the class's unless it sets spec.mergeType, which then
// lays it over the class's (StrategicMerge or JSONMerge). A reference that
// cannot be used (another kind, a missing object, content egctl cannot
// honour) leaves the class or Gateway not accepted, InvalidParameters, and
// nothing is compiled for it: serving without what the EnvoyProxy asks
// (another route order, no access log, IPv4 instead of IPv6) would be a
// silent drop.
//
// Statuses follow Envoy Gateway: the GatewayClass or Gateway carries
// Accepted=False/InvalidParameters "Invalid parametersRef: …", and the
// EnvoyProxy an ancestor per GatewayClass or Gateway that references it
// directly, Accepted or InvalidParameters.

// epIndex is the EnvoyProxy state of one translation.
type epIndex struct {
	byKey map[nsName]*egv1a1.EnvoyProxy
	// class is the (valid) EnvoyProxy of each accepted GatewayClass.
	class map[string]*egv1a1.EnvoyProxy
	// configs caches the translation of each (class, Gateway) pair.
	configs map[[2]*egv1a1.EnvoyProxy]*epResult
	// ancestors are the statuses to write, per EnvoyProxy.
	ancestors map[*egv1a1.EnvoyProxy][]egv1a1.EnvoyProxyAncestorStatus
	// warned: one warning per EnvoyProxy and message.
	warned map[string]bool
	// defaults is the config of proxies without an EnvoyProxy under
	// Options.EnvoyGatewayDefaults.
	defaults *proxyConfig
	// serviceIPs are the cluster IP endpoints of Service routing, one
	// slice per Service port (envoyproxy_apply.go).
	serviceIPs map[epKey][]ir.Endpoint
}

type epResult struct {
	cfg *proxyConfig
	err error
}

func (b *builder) envoyProxies() *epIndex {
	if b.ep != nil {
		return b.ep
	}
	x := &epIndex{byKey: map[nsName]*egv1a1.EnvoyProxy{}, class: map[string]*egv1a1.EnvoyProxy{},
		configs: map[[2]*egv1a1.EnvoyProxy]*epResult{}, ancestors: map[*egv1a1.EnvoyProxy][]egv1a1.EnvoyProxyAncestorStatus{},
		warned: map[string]bool{}}
	for _, ep := range b.out.EnvoyProxies {
		k := nsName{ep.Namespace, ep.Name}
		if _, dup := x.byKey[k]; !dup {
			x.byKey[k] = ep
		}
	}
	b.ep = x
	return x
}

// invalidParams is the message prefix Envoy Gateway uses.
const invalidParams = "Invalid parametersRef: "

// checkParametersRef returns why a GatewayClass's parametersRef is
// unusable, or "". The class's EnvoyProxy is checked on its own here; what
// needs other objects (collector backends) is resolved per Gateway.
func (b *builder) checkParametersRef(gc *gwv1.GatewayClass) string {
	p := gc.Spec.ParametersRef
	if p == nil {
		return ""
	}
	if string(p.Group) != resource.GroupEnvoyGateway || p.Kind != "EnvoyProxy" {
		return invalidParams + "spec.parametersRef: " + groupKind(string(p.Group), string(p.Kind)) + " is not supported (use " + resource.GroupEnvoyGateway + "/EnvoyProxy)"
	}
	if p.Namespace == nil || *p.Namespace == "" {
		// Gateway API: the namespace is required for a namespaced kind
		// (Envoy Gateway assumes "default").
		return invalidParams + "spec.parametersRef: namespace is required for EnvoyProxy (a namespaced kind)"
	}
	x := b.envoyProxies()
	ep := x.byKey[nsName{string(*p.Namespace), p.Name}]
	if ep == nil {
		return invalidParams + "spec.parametersRef: EnvoyProxy " + string(*p.Namespace) + "/" + p.Name + " not found"
	}
	anc := gwv1.ParentReference{Group: ptrTo(gwv1.Group(gwv1.GroupName)), Kind: ptrTo(gwv1.Kind("GatewayClass")), Name: gwv1.ObjectName(gc.Name)}
	if _, err := b.translateEnvoyProxy(ep, nil, false); err != nil {
		x.setAncestor(ep, anc, b.now, err.Error())
		return invalidParams + err.Error()
	}
	x.setAncestor(ep, anc, b.now, "")
	x.class[gc.Name] = ep
	return ""
}

// checkEnvoyProxies resolves the EnvoyProxy of every Gateway of ours and
// refuses the Gateways whose EnvoyProxy cannot be honoured. It runs after
// Backends are known (collectors may be Backends) and before routes attach,
// so routes see a refused Gateway as not accepted.
func (b *builder) checkEnvoyProxies() {
	if len(b.out.EnvoyProxies) == 0 && !b.anyInfraRef() {
		return
	}
	x := b.envoyProxies()
	for _, g := range b.gwOrder {
		if !g.accepted {
			continue
		}
		class := x.class[string(g.gw.Spec.GatewayClassName)]
		gwEP, fromGateway, msg := b.gatewayEnvoyProxy(g, class)
		var cfg *proxyConfig
		if msg == "" && (class != nil || gwEP != nil) {
			var err error
			if cfg, err = b.translateEnvoyProxy(class, gwEP, true); err != nil {
				msg = invalidParams + err.Error()
			}
		}
		if fromGateway {
			anc := gwv1.ParentReference{Group: ptrTo(gwv1.Group(gwv1.GroupName)), Kind: ptrTo(gwv1.Kind("Gateway")),
				Namespace: ptrTo(gwv1.Namespace(g.gw.Namespace)), Name: gwv1.ObjectName(g.gw.Name)}
			x.setAncestor(gwEP, anc, b.now, strings.TrimPrefix(msg, invalidParams))
		}
		if msg != "" {
			b.refuseGateway(g, string(gwv1.GatewayReasonInvalidParameters), msg)
			continue
		}
		if cfg == nil {
			continue
		}
		g.ep = cfg
		if cfg.keepPorts {
			g.keep = true
		}
		for _, w := range cfg.warnings {
			b.warnEnvoyProxy(w)
		}
	}
	b.markMergedConflicts() // envoyproxy_merge.go
}

func (b *builder) anyInfraRef() bool {
	for _, g := range b.gwOrder {
		if inf := g.gw.Spec.Infrastructure; inf != nil && inf.ParametersRef != nil {
			return true
		}
	}
	return false
}

// gatewayEnvoyProxy finds the EnvoyProxy of spec.infrastructure.parametersRef
// (in the Gateway's namespace), or why it cannot be used. fromGateway is
// set when the Gateway names one that exists: it is then an ancestor.
func (b *builder) gatewayEnvoyProxy(g *gatewayState, class *egv1a1.EnvoyProxy) (ep *egv1a1.EnvoyProxy, fromGateway bool, msg string) {
	inf := g.gw.Spec.Infrastructure
	if inf == nil || inf.ParametersRef == nil {
		return nil, false, ""
	}
	ref := inf.ParametersRef
	if string(ref.Group) != resource.GroupEnvoyGateway || string(ref.Kind) != "EnvoyProxy" {
		return nil, false, invalidParams + "spec.infrastructure.parametersRef: " + groupKind(string(ref.Group), string(ref.Kind)) + " is not supported (use " + resource.GroupEnvoyGateway + "/EnvoyProxy)"
	}
	ep = b.envoyProxies().byKey[nsName{g.gw.Namespace, ref.Name}]
	if ep == nil {
		return nil, false, invalidParams + "spec.infrastructure.parametersRef: EnvoyProxy " + g.gw.Namespace + "/" + ref.Name + " not found"
	}
	if class != nil && class.Spec.MergeGateways != nil && *class.Spec.MergeGateways {
		return ep, true, invalidParams + "spec.infrastructure.parametersRef must be unset: the GatewayClass's EnvoyProxy " +
			class.Namespace + "/" + class.Name + " merges its Gateways into one proxy (mergeGateways), whose settings are the class's"
	}
	return ep, true, ""
}

// translateEnvoyProxy translates the EnvoyProxy of a class, of a Gateway,
// or both merged, once per pair. Without resolve, references to other
// objects are not followed (the class is checked before Backends exist);
// nothing is cached then.
func (b *builder) translateEnvoyProxy(class, gw *egv1a1.EnvoyProxy, resolve bool) (*proxyConfig, error) {
	x := b.envoyProxies()
	key := [2]*egv1a1.EnvoyProxy{class, gw}
	if r, ok := x.configs[key]; ok && resolve {
		return r.cfg, r.err
	}
	var sources []*egv1a1.EnvoyProxy
	spec := (*egv1a1.EnvoyProxySpec)(nil)
	if class != nil {
		sources = append(sources, class)
		spec = &class.Spec
	}
	if gw != nil {
		sources = append(sources, gw)
		if spec == nil || gw.Spec.MergeType == nil || *gw.Spec.MergeType == egv1a1.Replace {
			spec, sources = &gw.Spec, []*egv1a1.EnvoyProxy{gw}
		} else {
			merged, err := mergeSpecs(spec, &gw.Spec, *gw.Spec.MergeType)
			if err != nil {
				return b.cacheEP(key, nil, fmt.Errorf("spec.mergeType: merging EnvoyProxy %s/%s onto %s/%s: %v", gw.Namespace, gw.Name, class.Namespace, class.Name, err), resolve)
			}
			spec = merged
		}
	}
	if spec == nil {
		return nil, nil
	}
	cfg, err := b.translateSpec(sources, spec, resolve) // envoyproxy_spec.go
	return b.cacheEP(key, cfg, err, resolve)
}

func (b *builder) cacheEP(key [2]*egv1a1.EnvoyProxy, cfg *proxyConfig, err error, keep bool) (*proxyConfig, error) {
	if keep {
		b.envoyProxies().configs[key] = &epResult{cfg, err}
	}
	return cfg, err
}

// refuseGateway marks an accepted Gateway not accepted: no listener is
// programmed and routes cannot attach (see refused).
func (b *builder) refuseGateway(g *gatewayState, reason, msg string) {
	if b.refusedGW == nil {
		b.refusedGW = map[*gatewayState]string{}
	}
	b.refusedGW[g] = msg
	g.cond.set("Accepted", false, reason, msg)
	g.cond.set("Programmed", false, "Invalid", msg)
	g.accepted = false
	g.proxy = nil
	for _, l := range append(append([]*listenerState(nil), g.listeners...), g.setListeners...) {
		l.ready = false
		if !l.cond.isFalse("Programmed") {
			l.cond.set("Programmed", false, "Invalid", "the Gateway is not accepted (spec.infrastructure.parametersRef or its GatewayClass's parametersRef)")
		}
	}
	for _, pg := range g.ports {
		pg.listeners = nil
	}
}

// setAncestor records the EnvoyProxy's Accepted condition for one
// GatewayClass or Gateway referencing it; msg "" means accepted.
func (x *epIndex) setAncestor(ep *egv1a1.EnvoyProxy, anc gwv1.ParentReference, now metav1.Time, msg string) {
	c := newConditions(ep.Generation, now)
	if msg == "" {
		c.set(string(egv1a1.EnvoyProxyConditionAccepted), true, string(egv1a1.EnvoyProxyReasonAccepted), "EnvoyProxy has been accepted.")
	} else {
		c.set(string(egv1a1.EnvoyProxyConditionAccepted), false, string(egv1a1.EnvoyProxyReasonInvalidParameters), msg)
	}
	for i, a := range x.ancestors[ep] {
		if parentRefEqual(a.AncestorRef, anc) {
			x.ancestors[ep][i].Conditions = c.list
			return
		}
	}
	x.ancestors[ep] = append(x.ancestors[ep], egv1a1.EnvoyProxyAncestorStatus{AncestorRef: anc, Conditions: c.list})
}

func parentRefEqual(a, b gwv1.ParentReference) bool {
	s := func(p gwv1.ParentReference) string {
		var g, k, ns string
		if p.Group != nil {
			g = string(*p.Group)
		}
		if p.Kind != nil {
			k = string(*p.Kind)
		}
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		return g + "/" + k + "/" + ns + "/" + string(p.Name)
	}
	return s(a) == s(b)
}

// envoyProxyProblems writes the EnvoyProxy statuses (when statuses are
// printed) and returns one problem per EnvoyProxy ancestor not accepted.
func (b *builder) envoyProxyProblems() []Problem {
	if b.ep == nil {
		return nil
	}
	var out []Problem
	for _, ep := range b.out.EnvoyProxies {
		anc := b.ep.ancestors[ep]
		if len(anc) == 0 {
			continue
		}
		sort.SliceStable(anc, func(i, j int) bool {
			return ancestorKey(anc[i].AncestorRef) < ancestorKey(anc[j].AncestorRef)
		})
		ep.Status.Ancestors = anc
		k := resource.Key{Group: resource.GroupEnvoyGateway, Kind: "EnvoyProxy", Namespace: ep.Namespace, Name: ep.Name}
		for _, a := range anc {
			for _, c := range a.Conditions {
				if c.Status == metav1.ConditionFalse {
					out = append(out, Problem{Key: k, Origin: b.out.Origin(k), Condition: c.Type, Reason: c.Reason,
						Message: ancestorKey(a.AncestorRef) + ": " + c.Message})
				}
			}
		}
	}
	return out
}

func ancestorKey(p gwv1.ParentReference) string {
	k := ""
	if p.Kind != nil {
		k = string(*p.Kind)
	}
	if p.Namespace != nil && *p.Namespace != "" {
		return k + " " + string(*p.Namespace) + "/" + string(p.Name)
	}
	return k + " " + string(p.Name)
}

// warnEnvoyProxy adds a warning once per EnvoyProxy and message.
func (b *builder) warnEnvoyProxy(w epWarning) {
	x := b.envoyProxies()
	id := w.key.String() + "\x00" + w.msg
	if x.warned[id] {
		return
	}
	x.warned[id] = true
	b.warn(w.key, w.msg)
}

// epWarning is a warning about one EnvoyProxy object.
type epWarning struct {
	key resource.Key
	msg string
}

func envoyProxyKey(ep *egv1a1.EnvoyProxy) resource.Key {
	return resource.Key{Group: resource.GroupEnvoyGateway, Kind: "EnvoyProxy", Namespace: ep.Namespace, Name: ep.Name}
}
