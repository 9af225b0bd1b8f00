package translate

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// processGatewayClasses accepts every GatewayClass naming our controller
// whose parametersRef, if any, names an EnvoyProxy in the input. Classes of
// other controllers are not ours: no status, no Problem. Gateways of a class
// we do not accept are not compiled (processGateways reads b.classes).
func (b *builder) processGatewayClasses() {
	b.ourClasses = map[string]bool{}
	for _, gc := range b.out.GatewayClasses {
		if string(gc.Spec.ControllerName) != b.opts.ControllerName {
			continue
		}
		b.ourClasses[gc.Name] = true
		c := newConditions(gc.Generation, b.now)
		if msg := b.checkParametersRef(gc); msg != "" {
			c.set("Accepted", false, string(gwv1.GatewayClassReasonInvalidParameters), msg)
		} else {
			b.classes[gc.Name] = true
			c.set("Accepted", true, "Accepted", "Valid GatewayClass")
		}
		gc.Status.Conditions = c.list
	}
}

// checkParametersRef returns why a GatewayClass's parametersRef is unusable,
// or "". Only Envoy Gateway's EnvoyProxy is a parameters kind; its settings
// are not applied yet, which is a warning, not a status.
func (b *builder) checkParametersRef(gc *gwv1.GatewayClass) string {
	p := gc.Spec.ParametersRef
	if p == nil {
		return ""
	}
	if string(p.Group) != resource.GroupEnvoyGateway || p.Kind != "EnvoyProxy" {
		return "spec.parametersRef: " + groupKind(string(p.Group), string(p.Kind)) + " is not supported (use " + resource.GroupEnvoyGateway + "/EnvoyProxy)"
	}
	if p.Namespace == nil || *p.Namespace == "" {
		return "spec.parametersRef: namespace is required for EnvoyProxy (a namespaced kind)"
	}
	ns := string(*p.Namespace)
	found := false
	for _, ep := range b.out.EnvoyProxies {
		if ep.Namespace == ns && ep.Name == p.Name {
			found = true
			break
		}
	}
	if !found {
		return "spec.parametersRef: EnvoyProxy " + ns + "/" + p.Name + " not found"
	}
	b.warn(resource.Key{Group: resource.GroupGatewayAPI, Kind: "GatewayClass", Name: gc.Name},
		"parametersRef EnvoyProxy "+ns+"/"+p.Name+": its settings are not applied by egctl yet")
	return ""
}
