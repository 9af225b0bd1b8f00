package translate

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const attachBase = `
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
    - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
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
metadata: {name: a, namespace: default, labels: {team: blue}}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  hostnames: [a.example.com]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: default, labels: {team: red}}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  hostnames: [b.example.com]
  rules:
    - name: r1
      matches: [{path: {type: PathPrefix, value: /one}}]
      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
    - name: r2
      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: c, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: other}]
  hostnames: [c.example.com]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {tier: apps}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: d, namespace: apps, labels: {team: blue}}
spec:
  parentRefs: [{name: eg, namespace: default, sectionName: http}]
  hostnames: [d.example.com]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: apps}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
`

// btp renders a BackendTrafficPolicy; the engine does not care about the
// kind, so BackendTrafficPolicy objects stand in for every kind here.
func btp(name, ns, created, targets string, extra string) string {
	return fmt.Sprintf(`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
spec:
%s
%s
`, name, ns, created, targets, extra)
}

// attachRun translates base+policies, then runs the engine again over the
// BackendTrafficPolicies with a handler that records, per route (by IR
// name prefix "httproute/ns/name/rule/I"), which policy applied and what it
// was merged with.
type attachRun struct {
	b       *builder
	ix      *attachIndex
	applied map[string]string // route rule → "policy" or "policy+parent"
	res     *Result
}

func runAttach(t *testing.T, policies ...string) *attachRun {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(attachBase+strings.Join(policies, "")), manifest.Options{SkipAPIValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	b, res := translate(set, Options{})
	var ps []*policy
	for _, o := range b.out.BackendTrafficPolicies {
		p := b.newPolicy(btpKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, o.Spec.MergeType, &o.Spec, nil)
		ps = append(ps, p)
	}
	run := &attachRun{b: b, res: res, applied: map[string]string{}}
	run.ix = b.attachPolicies(btpKind, ps)
	// A fresh IR: the one in res already went through the kinds' handlers.
	_, fresh := translate(set, Options{SkipStatus: true})
	b.applyRoutePolicy(fresh.IR, &routePolicy{ix: run.ix, http: func(e effective, _ *attachPoint, r *ir.HTTPRoute) error {
		key := r.Name[:strings.Index(r.Name, "/match/")]
		v := e.policy.String()
		if e.parent != nil {
			v += "+" + e.parent.String()
		}
		if prev, ok := run.applied[key]; ok && prev != v {
			t.Errorf("%s: policy %s on one match, %s on another", key, prev, v)
		}
		run.applied[key] = v
		return nil
	}})
	run.ix.finishStatuses()
	return run
}

// conds renders a policy's ancestors as "Gateway default/eg/http: Accepted=True Accepted; …".
func (r *attachRun) conds(name string) string {
	for _, p := range r.ix.policies {
		if p.meta.Name != name {
			continue
		}
		var out []string
		for _, a := range p.st.ancestors {
			ref := string(*a.ref.Kind) + " " + string(*a.ref.Namespace) + "/" + string(a.ref.Name)
			if a.ref.SectionName != nil {
				ref += "/" + string(*a.ref.SectionName)
			}
			var cs []string
			for _, c := range a.conds {
				cs = append(cs, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
			}
			out = append(out, ref+": "+strings.Join(cs, ", "))
		}
		return strings.Join(out, "; ")
	}
	return "<no policy " + name + ">"
}

func (r *attachRun) message(name, condType string) string {
	for _, p := range r.ix.policies {
		if p.meta.Name != name {
			continue
		}
		for _, a := range p.st.ancestors {
			for _, c := range a.conds {
				if c.Type == condType {
					return c.Message
				}
			}
		}
	}
	return ""
}

func TestAttachPrecedence(t *testing.T) {
	r := runAttach(t,
		btp("gw", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]`, ""),
		btp("listener", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]`, ""),
		btp("route", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}]`, ""),
		btp("rule", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: b, sectionName: r1}]`, ""),
	)
	want := map[string]string{
		"httproute/default/a/rule/0": "default/route",
		"httproute/default/b/rule/0": "default/rule",
		"httproute/default/b/rule/1": "default/listener",
		"httproute/default/c/rule/0": "default/gw",
		"httproute/apps/d/rule/0":    "default/listener",
	}
	for k, v := range want {
		if r.applied[k] != v {
			t.Errorf("%s: applied %q, want %q", k, r.applied[k], v)
		}
	}
	if got := r.conds("route"); got != "Gateway default/eg/http: Accepted=True Accepted" {
		t.Errorf("route policy ancestors: %s", got)
	}
	if got := r.conds("gw"); got != "Gateway default/eg: Accepted=True Accepted, Overridden=True Overridden" {
		t.Errorf("gateway policy ancestors: %s", got)
	}
	wantMsg := "This policy is being overridden by other backendTrafficPolicies for these gateway listeners: [default/eg/http] and these routes: [default/a] and these route rules: [default/b/r1]"
	if got := r.message("gw", "Overridden"); got != wantMsg {
		t.Errorf("gateway policy Overridden message:\n got %s\nwant %s", got, wantMsg)
	}
	if got := r.message("listener", "Overridden"); !strings.Contains(got, "these routes: [default/a]") || !strings.Contains(got, "these route rules: [default/b/r1]") {
		t.Errorf("listener policy Overridden message: %s", got)
	}
}

func TestAttachConflictOldestWins(t *testing.T) {
	r := runAttach(t,
		btp("young", "default", "2024-06-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}]`, ""),
		btp("old", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}]`, ""),
		// Same age: the name decides.
		btp("zz", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: c}]`, ""),
		btp("aa", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: c}]`, ""),
	)
	if r.applied["httproute/default/a/rule/0"] != "default/old" || r.applied["httproute/default/c/rule/0"] != "default/aa" {
		t.Fatalf("applied = %v", r.applied)
	}
	if got := r.conds("young"); got != "Gateway default/eg/http: Accepted=False Conflicted" {
		t.Errorf("young: %s", got)
	}
	if got := r.message("young", "Accepted"); got != "Unable to target HTTPRoute a, another BackendTrafficPolicy has already attached to it" {
		t.Errorf("young message: %s", got)
	}
	if got := r.conds("zz"); got != "Gateway default/eg/other: Accepted=False Conflicted" {
		t.Errorf("zz: %s", got)
	}
}

func TestAttachMerge(t *testing.T) {
	r := runAttach(t,
		btp("gw", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]`,
			"  timeout: {http: {requestTimeout: 5s}}\n  retry: {numRetries: 2, retryOn: {triggers: [connect-failure]}}"),
		btp("route", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}]`,
			"  mergeType: JSONMerge\n  retry: {numRetries: 5}"),
		btp("rule", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: b, sectionName: r1}]`,
			"  mergeType: StrategicMerge"),
	)
	if got := r.applied["httproute/default/a/rule/0"]; got != "default/route+default/gw" {
		t.Errorf("route a: %s", got)
	}
	if got := r.applied["httproute/default/b/rule/0"]; got != "default/rule+default/gw" {
		t.Errorf("route b rule r1: %s", got)
	}
	if got := r.conds("route"); got != "Gateway default/eg/http: Accepted=True Accepted, Merged=True Merged" {
		t.Errorf("route: %s", got)
	}
	if got := r.message("route", "Merged"); got != "Merged with policy default/gw" {
		t.Errorf("route Merged message: %s", got)
	}
	if got := r.message("gw", "Merged"); got != "This policy is being merged by other backendTrafficPolicies for these routes: [default/a] and these route rules: [default/b/r1]" {
		t.Errorf("gw Merged message: %s", got)
	}
	if got := r.message("gw", "Overridden"); got != "" {
		t.Errorf("gw should not be Overridden by policies merged onto it: %s", got)
	}

	// What the kinds get: the child laid over the parent.
	var parent, child *egv1a1.BackendTrafficPolicySpec
	for _, o := range r.b.out.BackendTrafficPolicies {
		switch o.Name {
		case "gw":
			parent = &o.Spec
		case "route":
			child = &o.Spec
		}
	}
	for _, mt := range []egv1a1.MergeType{egv1a1.JSONMerge, egv1a1.StrategicMerge} {
		m, err := mergeSpecs(parent, child, mt)
		if err != nil {
			t.Fatal(err)
		}
		if m.Retry == nil || *m.Retry.NumRetries != 5 || m.Retry.RetryOn == nil || len(m.Retry.RetryOn.Triggers) != 1 {
			t.Errorf("%s: retry = %+v, want numRetries 5 from the route and the Gateway's retryOn", mt, m.Retry)
		}
		if m.Timeout == nil || m.Timeout.HTTP == nil || m.Timeout.HTTP.RequestTimeout == nil || *m.Timeout.HTTP.RequestTimeout != "5s" {
			t.Errorf("%s: timeout = %+v, want the Gateway's", mt, m.Timeout)
		}
	}
	if _, err := mergeSpecs(parent, child, "Bogus"); err == nil {
		t.Error("unknown mergeType accepted")
	}
}

func TestAttachTargets(t *testing.T) {
	r := runAttach(t,
		btp("missing", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: nope}]`, ""),
		btp("nosection", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: nope}]`, ""),
		btp("badkind", "default", "2024-01-01T00:00:00Z", `  targetRefs: [{group: gateway.networking.k8s.io, kind: GatewayClass, name: eg}]`, ""),
		btp("selected", "default", "2024-01-01T00:00:00Z", `  targetSelectors: [{kind: HTTPRoute, matchExpressions: [{key: team, operator: In, values: [blue]}]}]`, ""),
		btp("nothing", "default", "2024-01-01T00:00:00Z", `  targetSelectors: [{kind: HTTPRoute, matchLabels: {team: green}}]`, ""),
	)
	if got := r.conds("missing"); got != "HTTPRoute default/nope: Accepted=False TargetNotFound" {
		t.Errorf("missing: %s", got)
	}
	if got := r.conds("nosection"); got != "Gateway default/eg/nope: Accepted=False TargetNotFound" {
		t.Errorf("nosection: %s", got)
	}
	if got := r.conds("badkind"); got != "GatewayClass default/eg: Accepted=False Invalid" {
		t.Errorf("badkind: %s", got)
	}
	// The selector stays in its own namespace: apps/d is blue too.
	if r.applied["httproute/default/a/rule/0"] != "default/selected" || r.applied["httproute/apps/d/rule/0"] != "" {
		t.Errorf("applied = %v", r.applied)
	}
	var warned bool
	for _, w := range r.res.Warnings {
		warned = warned || (w.Key.Name == "nothing" && strings.Contains(w.Message, "attaches to nothing"))
	}
	if !warned {
		t.Errorf("no warning for a selector that selects nothing: %v", r.res.Warnings)
	}
}

func TestAttachSelectorNamespaces(t *testing.T) {
	all := `  targetSelectors: [{kind: HTTPRoute, matchLabels: {team: blue}, namespaces: {from: All}}]`
	bySel := `  targetSelectors: [{kind: HTTPRoute, matchLabels: {team: blue}, namespaces: {from: Selector, selector: {matchLabels: {tier: apps}}}}]`
	grant := `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: apps}
spec:
  from: [{group: gateway.envoyproxy.io, kind: BackendTrafficPolicy, namespace: default}]
  to: [{group: gateway.networking.k8s.io, kind: HTTPRoute}]
`
	for _, tt := range []struct {
		name, policy, grant string
		want                []string
	}{
		{"all without grant", all, "", []string{"httproute/default/a/rule/0"}},
		{"all with grant", all, grant, []string{"httproute/apps/d/rule/0", "httproute/default/a/rule/0"}},
		{"selector with grant", bySel, grant, []string{"httproute/apps/d/rule/0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runAttach(t, tt.grant, btp("p", "default", "2024-01-01T00:00:00Z", tt.policy, ""))
			var got []string
			for k := range r.applied {
				got = append(got, k)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("applied to %v, want %v", got, tt.want)
			}
		})
	}
}

// A policy the kind refuses fails its routes closed and says so in status
// and as a Problem; the other routes are untouched.
func TestAttachFailureFailsClosed(t *testing.T) {
	set, _, err := manifest.LoadBytes("in.yaml", []byte(attachBase+btp("p", "default", "2024-01-01T00:00:00Z",
		`  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: b, sectionName: r2}]`, "")), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, res := translate(set, Options{})
	var ps []*policy
	for _, o := range b.out.BackendTrafficPolicies {
		ps = append(ps, b.newPolicy(btpKind, &o.ObjectMeta, o.Spec.PolicyTargetReferences, o.Spec.MergeType, &o.Spec, &o.Status))
	}
	ix := b.attachPolicies(btpKind, ps)
	b.applyRoutePolicy(res.IR, &routePolicy{ix: ix, http: func(effective, *attachPoint, *ir.HTTPRoute) error {
		return fmt.Errorf("spec.retry: cannot do that")
	}})
	problems := ix.writeStatuses(b, b.out)
	if len(problems) != 1 || problems[0].Reason != "Invalid" || !strings.Contains(problems[0].Message, "spec.retry: cannot do that; the traffic it applies to fails closed") {
		t.Fatalf("problems = %+v", problems)
	}
	for _, l := range res.IR.Proxies[0].HTTP {
		for _, vh := range l.VirtualHosts {
			for _, rt := range vh.Routes {
				closed := rt.DirectResponse != nil && rt.DirectResponse.StatusCode == 500
				want := strings.HasPrefix(rt.Name, "httproute/default/b/rule/1/")
				if closed != want {
					t.Errorf("%s: fails closed %v, want %v", rt.Name, closed, want)
				}
			}
		}
	}
	st := b.out.BackendTrafficPolicies[0].Status
	if len(st.Ancestors) != 1 || st.Ancestors[0].Conditions[0].Status != metav1.ConditionFalse || st.Ancestors[0].Conditions[0].ObservedGeneration != 0 {
		t.Fatalf("status = %+v", st)
	}
}
