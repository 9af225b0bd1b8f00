package translate

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// processGatewayClasses accepts every GatewayClass naming our controller
// whose parametersRef, if any, names a usable EnvoyProxy (envoyproxy.go). Classes of
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
