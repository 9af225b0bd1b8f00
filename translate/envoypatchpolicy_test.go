package translate

import (
	"strconv"
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const eppBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: a, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: b, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8081}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: foreign, namespace: default}
spec:
  gatewayClassName: theirs
  listeners: [{name: http, protocol: HTTP, port: 8082}]
`

func epp(name, kind, target string, priority int) string {
	return `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: ` + name + `, namespace: default}
spec:
  type: JSONPatch
  priority: ` + strconv.Itoa(priority) + `
  targetRef: {group: gateway.networking.k8s.io, kind: ` + kind + `, name: ` + target + `}
  jsonPatches:
    - type: type.googleapis.com/envoy.config.listener.v3.Listener
      name: default/a/http
      operation: {op: replace, path: /per_connection_buffer_limit_bytes, value: 1}
`
}

func translateEPP(t *testing.T, docs string, opts Options) *Result {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	return res
}

func patchesOf(res *Result) map[string][]string {
	out := map[string][]string{}
	for _, p := range res.IR.Proxies {
		for _, ep := range p.Patches {
			out[p.Name] = append(out[p.Name], ep.Policy)
		}
	}
	return out
}

func TestEPPTargets(t *testing.T) {
	docs := eppBase + epp("late", "Gateway", "a", 5) + epp("early", "Gateway", "a", -5) +
		epp("class", "GatewayClass", "eg", 0) + epp("foreign", "Gateway", "foreign", 0) +
		epp("other-class", "GatewayClass", "theirs", 0)
	res := translateEPP(t, docs, Options{})
	got := patchesOf(res)
	// Priority first, then the class-wide one on both proxies.
	if strings.Join(got["default/a"], ",") != "default/early,default/class,default/late" ||
		strings.Join(got["default/b"], ",") != "default/class" {
		t.Fatalf("patches by proxy = %v", got)
	}
	for _, p := range res.IR.Proxies {
		for _, ep := range p.Patches {
			if ep.Shared != (ep.Policy == "default/class") {
				t.Errorf("%s on %s: Shared = %v", ep.Policy, p.Name, ep.Shared)
			}
		}
	}
	for _, p := range res.Status.EnvoyPatchPolicies {
		switch p.Name {
		case "foreign", "other-class":
			// another controller's target: nothing written
			if len(p.Status.Ancestors) != 0 {
				t.Errorf("%s: status %+v", p.Name, p.Status.Ancestors)
			}
		case "class":
			a := p.Status.Ancestors
			if len(a) != 1 || *a[0].AncestorRef.Kind != "GatewayClass" || a[0].AncestorRef.Namespace != nil {
				t.Fatalf("class ancestors = %+v", a)
			}
			wantCond(t, a[0].Conditions, "Accepted", "True", "Accepted")
		default:
			wantCond(t, p.Status.Ancestors[0].Conditions, "Accepted", "True", "Accepted")
		}
	}
	if ps := policyProblems(res.Problems); len(ps) != 0 {
		t.Fatalf("problems = %+v", ps)
	}
}

// policyProblems leaves out the Gateway of another controller these inputs
// hold on purpose (it is a problem of its own: nothing is compiled for it).
func policyProblems(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Key.Kind != "Gateway" {
			out = append(out, p)
		}
	}
	return out
}

func TestEPPMergeGatewaysRefusesGatewayTarget(t *testing.T) {
	docs := strings.Replace(eppBase, "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}",
		"spec:\n  controllerName: gateway.envoyproxy.io/gatewayclass-controller\n  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: merged, namespace: default}", 1) + `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: merged, namespace: default}
spec: {mergeGateways: true}
` + epp("gw", "Gateway", "a", 0)
	res := translateEPP(t, docs, Options{})
	c := wantCond(t, res.Status.EnvoyPatchPolicies[0].Status.Ancestors[0].Conditions, "Accepted", "False", "Invalid")
	if !strings.Contains(c.Message, "GatewayClass") {
		t.Fatalf("message %q", c.Message)
	}
	if len(patchesOf(res)) != 0 {
		t.Fatal("a refused policy was given to a proxy")
	}
}

func TestRecordPatchResults(t *testing.T) {
	docs := eppBase + epp("class", "GatewayClass", "eg", 0) + epp("one", "Gateway", "a", 0)
	res := translateEPP(t, docs, Options{})
	status := func(name string) (string, string, string) {
		for _, p := range res.Status.EnvoyPatchPolicies {
			if p.Name == name {
				c := cond(t, p.Status.Ancestors[0].Conditions, "Programmed")
				return string(c.Status), c.Reason, c.Message
			}
		}
		t.Fatalf("no policy %s", name)
		return "", "", ""
	}
	lis := ir.TypeListener + "/default/a/http"
	// The class-wide policy finds its listener on proxy a only: fine.
	res.RecordPatchResults([]ir.PatchResult{
		{Policy: "default/class", Proxy: "default/a", Applied: 1},
		{Policy: "default/class", Proxy: "default/b", NotFound: []string{lis}},
		{Policy: "default/one", Proxy: "default/a", Errors: []string{"jsonPatches[0]: boom"}},
	})
	if s, r, _ := status("class"); s != "True" || r != "Programmed" {
		t.Fatalf("class: %s/%s", s, r)
	}
	if s, r, m := status("one"); s != "False" || r != "Invalid" || !strings.Contains(m, "boom") {
		t.Fatalf("one: %s/%s %q", s, r, m)
	}
	if ps := policyProblems(res.Problems); len(ps) != 1 || ps[0].Key.Name != "one" || ps[0].Condition != "Programmed" {
		t.Fatalf("problems = %+v", ps)
	}

	// Missing on every proxy of the class: ResourceNotFound.
	res = translateEPP(t, docs, Options{})
	res.RecordPatchResults([]ir.PatchResult{
		{Policy: "default/class", Proxy: "default/a", NotFound: []string{lis}},
		{Policy: "default/class", Proxy: "default/b", NotFound: []string{lis}},
	})
	if s, r, m := status("class"); s != "False" || r != "ResourceNotFound" || !strings.Contains(m, lis) {
		t.Fatalf("class: %s/%s %q", s, r, m)
	}

	// Without statuses, problems still come and the input stays as it was.
	set, _, _ := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{})
	res, _ = Translate(set, Options{SkipStatus: true})
	res.RecordPatchResults([]ir.PatchResult{{Policy: "default/one", Proxy: "default/a", NotFound: []string{lis}}})
	if len(policyProblems(res.Problems)) != 1 || policyProblems(res.Problems)[0].Reason != "ResourceNotFound" {
		t.Fatalf("problems = %+v", policyProblems(res.Problems))
	}
	for _, p := range set.EnvoyPatchPolicies {
		if len(p.Status.Ancestors) != 0 {
			t.Fatal("the input object was changed")
		}
	}
}
