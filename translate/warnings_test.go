package translate

import (
	"strings"
	"testing"
)

// TestMissingGatewayClass: a Gateway whose class is absent from the input
// compiles nothing; that is a Problem (a CI failure), not a warning.
func TestMissingGatewayClass(t *testing.T) {
	res := run(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 8080, protocol: HTTP}]
`)
	if len(res.Warnings) != 0 || len(res.Problems) != 1 {
		t.Fatalf("warnings %v, problems %v", res.Warnings, res.Problems)
	}
	if p := res.Problems[0]; p.Condition != "" || p.Reason != ReasonNoGatewayClass ||
		p.String() != "Gateway default/gw: GatewayClass eg is not in the input; nothing is compiled for this Gateway (add the GatewayClass manifest)" {
		t.Errorf("problem %+v", p)
	}
	// Present class: nothing to say.
	if res := run(t, egRepro); len(res.Warnings) != 0 || len(res.Problems) != 0 {
		t.Errorf("unexpected warnings %v, problems %v", res.Warnings, res.Problems)
	}
}

const epYAML = `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: proxy-config, namespace: envoy-gateway-system}
spec: {}
---
`

func classWithParams(ns string) string {
	return strings.Replace(egRepro, "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}",
		`spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: proxy-config, namespace: `+ns+`}`, 1)
}

// TestGatewayClassParametersRef: a parametersRef to a missing EnvoyProxy is
// InvalidParameters and its Gateways are not compiled; an existing one is
// accepted, and so is the EnvoyProxy (envoyproxy_test.go covers its fields).
func TestGatewayClassParametersRef(t *testing.T) {
	res := run(t, classWithParams("envoy-gateway-system"))
	gc := res.Status.GatewayClasses[0]
	wantCond(t, gc.Status.Conditions, "Accepted", "False", "InvalidParameters")
	if len(res.IR.Proxies) != 0 {
		t.Errorf("a Gateway of a refused class was compiled")
	}
	if !hasProblem(res, "GatewayClass", "Accepted") {
		t.Errorf("no GatewayClass problem: %v", res.Problems)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "not accepted") {
		t.Errorf("warnings %v", res.Warnings)
	}

	res = run(t, classWithParams("envoy-gateway-system")+epYAML)
	c := wantCond(t, res.Status.GatewayClasses[0].Status.Conditions, "Accepted", "True", "Accepted")
	if strings.Contains(c.Message, "EnvoyProxy") {
		t.Errorf("Accepted message should stay plain: %q", c.Message)
	}
	if len(res.IR.Proxies) != 1 {
		t.Errorf("proxies %d, want 1", len(res.IR.Proxies))
	}
	// The EnvoyProxy applies now: no warning, and its status names the class.
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %v", res.Warnings)
	}
	anc := res.Status.EnvoyProxies[0].Status.Ancestors
	if len(anc) != 1 || string(anc[0].AncestorRef.Name) != "eg" {
		t.Fatalf("EnvoyProxy ancestors %+v", anc)
	}
	wantCond(t, anc[0].Conditions, "Accepted", "True", "Accepted")
}
