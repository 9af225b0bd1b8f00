package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const policyBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
    - {name: http, protocol: HTTP, port: 8080}
    - {name: other, protocol: HTTP, port: 8081}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: guarded, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: open, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: other}]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
`

// routesByObject maps "ns/name" of each HTTPRoute to whether all its IR
// routes answer a direct 500.
func failsClosed(t *testing.T, cfg *ir.Config) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range cfg.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					k := r.Metadata.Namespace + "/" + r.Metadata.Name
					dr := r.DirectResponse != nil && r.DirectResponse.StatusCode == 500 && r.Destination == nil
					if prev, seen := out[k]; seen {
						dr = dr && prev
					}
					out[k] = dr
				}
			}
		}
	}
	return out
}

func TestUnsupportedPoliciesFailClosed(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		closed map[string]bool
		// why is in the problem's message; "does not translate" when empty.
		why string
	}{
		{"route target", `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  authorization:
    rules: [{action: Deny, cel: "request.method == 'DELETE'"}]
`, map[string]bool{"default/guarded": true, "default/open": false}, ""},
		// A ClientTrafficPolicy egctl cannot honour on its listener: no
		// hostname to give HTTP/1.0 requests.
		{"gateway listener target", `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: ctp, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: other}
  http1: {http10: {useDefaultHost: true}}
`, map[string]bool{"default/guarded": false, "default/open": true}, "no default host"},
		{"label selector picks the labelled route", `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: btp, namespace: default}
spec:
  targetSelectors: [{kind: HTTPRoute, matchLabels: {team: a}}]
  loadBalancer: {type: DynamicModule, dynamicModule: {name: m, lbPolicyName: p}}
`, map[string]bool{"default/guarded": true, "default/open": false}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := strings.Replace(policyBase, "metadata: {name: guarded, namespace: default}", "metadata: {name: guarded, namespace: default, labels: {team: a}}", 1)
			set, _, err := manifest.LoadBytes("in.yaml", []byte(base+"---"+tt.policy), manifest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Translate(set, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.IR.Validate(); err != nil {
				t.Fatal(err)
			}
			got := failsClosed(t, res.IR)
			for k, want := range tt.closed {
				if got[k] != want {
					t.Errorf("%s fails closed = %v, want %v", k, got[k], want)
				}
			}
			why := tt.why
			if why == "" {
				why = "does not translate"
			}
			if len(res.Problems) != 1 || res.Problems[0].Reason != "Invalid" || !strings.Contains(res.Problems[0].Message, why) {
				t.Fatalf("problems = %+v, want one Invalid policy problem", res.Problems)
			}
		})
	}
}

func TestUnsupportedPolicyStatus(t *testing.T) {
	policy := `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: auth, namespace: default, generation: 3}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  authorization:
    rules: [{action: Deny, cel: "request.method == 'DELETE'"}]
`
	set, _, err := manifest.LoadBytes("in.yaml", []byte(policyBase+"---"+policy), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	anc := res.Status.SecurityPolicies[0].Status.Ancestors
	// As Envoy Gateway reports it: a policy on a route reports on the
	// route's parents.
	if len(anc) != 1 || string(anc[0].AncestorRef.Name) != "eg" || *anc[0].AncestorRef.Kind != "Gateway" ||
		anc[0].AncestorRef.SectionName == nil || *anc[0].AncestorRef.SectionName != "http" {
		t.Fatalf("ancestors = %+v", anc)
	}
	c := anc[0].Conditions[0]
	if c.Type != "Accepted" || c.Status != "False" || c.Reason != "Invalid" || c.ObservedGeneration != 3 {
		t.Fatalf("condition = %+v", c)
	}
	if len(set.SecurityPolicies[0].Status.Ancestors) != 0 {
		t.Fatal("the input object was changed")
	}

	// Without statuses the input must not be written either.
	res, err = Translate(set, Options{SkipStatus: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.SecurityPolicies[0].Status.Ancestors) != 0 || len(res.Problems) != 1 {
		t.Fatalf("SkipStatus: input changed or problem missing: %+v", res.Problems)
	}
}
