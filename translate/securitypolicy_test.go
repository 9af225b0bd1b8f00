package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const spBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
    - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
    - {name: tcp, protocol: TCP, port: 9000, allowedRoutes: {namespaces: {from: All}}}
    - {name: udp, protocol: UDP, port: 9053, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: app}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  parentRefs: [{name: eg, namespace: infra, sectionName: http}]
  hostnames: [a.example.com, b.example.com]
  rules:
    - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
    - matches: [{path: {value: /x}}]
      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: app}
spec:
  parentRefs: [{name: eg, namespace: infra, sectionName: tcp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: udp, namespace: app}
spec:
  parentRefs: [{name: eg, namespace: infra, sectionName: udp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: infra}
stringData: {.htpasswd: "ops:{SHA}LnNEJV8jKtmfFq9Xj5SGUhsNZSU=\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: app}
stringData: {.htpasswd: "dev:{SHA}LnNEJV8jKtmfFq9Xj5SGUhsNZSU=\n"}
`

func translateSP(t *testing.T, policies string) *Result {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(spBase+"---"+policies), manifest.Options{SkipAPIValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatalf("IR: %v", err)
	}
	return res
}

func httpRoutes(res *Result) []*ir.HTTPRoute {
	var out []*ir.HTTPRoute
	for _, p := range res.IR.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				out = append(out, vh.Routes...)
			}
		}
	}
	return out
}

// One policy is translated once: every route it covers shares the result.
func TestSecurityPolicySharedSettings(t *testing.T) {
	res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]
  basicAuth: {users: {name: users}}
`)
	rs := httpRoutes(res)
	if len(rs) != 4 {
		t.Fatalf("%d IR routes, want 4 (2 rules x 2 hostnames)", len(rs))
	}
	for _, r := range rs {
		if r.Security == nil || r.Security != rs[0].Security {
			t.Fatalf("route %s: settings %p, want the shared %p", r.Name, r.Security, rs[0].Security)
		}
	}
	if got := rs[0].Security.BasicAuth.Name; got != "securitypolicy/infra/gw" {
		t.Errorf("basic auth name %q", got)
	}
}

// A route policy merged onto the listener's: the parent's basic auth keeps
// its namespace (its Secret) and its name; the route adds authorization
// and names its rules.
func TestSecurityPolicyMergeOwners(t *testing.T) {
	res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]
  basicAuth: {users: {name: users}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: web, namespace: app}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  mergeType: StrategicMerge
  authorization:
    defaultAction: Deny
    rules: [{action: Allow, principal: {clientCIDRs: [10.0.0.0/8]}}]
`)
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	s := httpRoutes(res)[0].Security
	if s.BasicAuth == nil || s.BasicAuth.Name != "securitypolicy/infra/gw" || !strings.HasPrefix(string(s.BasicAuth.Users), "ops:") {
		t.Fatalf("merged basic auth %+v: want the parent's, its Secret from infra", s.BasicAuth)
	}
	if s.Authorization == nil || s.Authorization.Rules[0].Name != "securitypolicy/app/web/authorization/rule/0" {
		t.Fatalf("merged authorization %+v", s.Authorization)
	}
	if s.Policy != "securitypolicy/app/web" {
		t.Errorf("Policy %q", s.Policy)
	}
	st := res.Status.SecurityPolicies
	for _, p := range st {
		if p.Name != "web" {
			continue
		}
		found := false
		for _, c := range p.Status.Ancestors[0].Conditions {
			if c.Type == "Merged" && c.Status == "True" && strings.Contains(c.Message, "infra/gw") {
				found = true
			}
		}
		if !found {
			t.Errorf("route policy status lacks Merged with infra/gw: %+v", p.Status.Ancestors[0].Conditions)
		}
	}
}

// Authentication on a Gateway reaches its TCP and UDP routes: their
// traffic is refused, not let through; CORS alone leaves them be; client
// CIDR authorization is enforced on TCP.
func TestSecurityPolicyLayer4(t *testing.T) {
	tcpRefused := func(res *Result) bool {
		for _, p := range res.IR.Proxies {
			for _, l := range p.TCP {
				for _, r := range l.Routes {
					return r.Destination.InvalidWeight > 0 && len(r.Destination.Backends) == 0
				}
			}
		}
		t.Fatal("no TCP route")
		return false
	}
	udpDropped := func(res *Result) bool {
		for _, p := range res.IR.Proxies {
			for _, l := range p.UDP {
				return l.Route == nil
			}
		}
		t.Fatal("no UDP listener")
		return false
	}
	t.Run("authentication", func(t *testing.T) {
		res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  basicAuth: {users: {name: users}}
`)
		if !tcpRefused(res) || !udpDropped(res) {
			t.Fatal("TCP or UDP traffic let through without the basic auth the Gateway asks for")
		}
		if httpRoutes(res)[0].Security == nil {
			t.Fatal("HTTP routes lost the policy")
		}
		if len(res.Problems) == 0 || !strings.Contains(res.Problems[0].Message, "cannot be enforced") {
			t.Fatalf("problems: %v", res.Problems)
		}
	})
	t.Run("cors only", func(t *testing.T) {
		res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  cors: {allowOrigins: ["https://a.example.com"]}
`)
		if tcpRefused(res) || udpDropped(res) || len(res.Problems) != 0 {
			t.Fatalf("CORS closed L4 traffic: %v", res.Problems)
		}
	})
	t.Run("client CIDRs on a TCPRoute", func(t *testing.T) {
		res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: tcp, namespace: app}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: tcp}]
  authorization:
    rules: [{action: Allow, principal: {clientCIDRs: [10.1.2.3/8]}}]
`)
		r := res.IR.Proxies[0].TCP[0].Routes[0]
		if r.Security == nil || r.Security.Authorization.DefaultAction != ir.AuthorizationDeny ||
			r.Security.Authorization.Rules[0].ClientCIDRs[0] != "10.0.0.0/8" {
			t.Fatalf("TCP security %+v", r.Security)
		}
	})
	t.Run("headers on a TCPRoute", func(t *testing.T) {
		res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: tcp, namespace: app}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: tcp}]
  authorization:
    rules: [{action: Deny, principal: {headers: [{name: x-a, values: [b]}]}}]
`)
		if !tcpRefused(res) || len(res.Problems) != 1 {
			t.Fatalf("a header rule on TCP: refused %v, problems %v", tcpRefused(res), res.Problems)
		}
	})
}

// Input the CRDs would refuse is refused, with the field named.
func TestSecurityPolicyCRDRules(t *testing.T) {
	for _, c := range []struct{ name, spec, want string }{
		{"extractFrom two kinds", `apiKeyAuth: {credentialRefs: [{name: users}], extractFrom: [{headers: [a], params: [b]}]}`,
			"spec.apiKeyAuth.extractFrom[0]: exactly one of headers, params, or cookies"},
		{"optional and failOpen", `jwt: {optional: true, failOpen: false, providers: [{name: p, localJWKS: {inline: '{"keys":[{"kty":"oct","k":"AAAA"}]}'}}]}`,
			"optional and failOpen cannot both be set"},
		{"recompute without claims", `jwt: {providers: [{name: p, recomputeRoute: true, localJWKS: {inline: '{"keys":[{"kty":"oct","k":"AAAA"}]}'}}]}`,
			"claimToHeaders must be specified"},
		{"not a key set", `jwt: {providers: [{name: p, localJWKS: {inline: 'nope'}}]}`, "not a JSON Web Key Set"},
		{"duplicate provider", `jwt: {providers: [{name: p, localJWKS: {inline: '{"keys":[{"kty":"oct","k":"AAAA"}]}'}}, {name: p, localJWKS: {inline: '{"keys":[{"kty":"oct","k":"AAAA"}]}'}}]}`,
			"provider name \"p\" repeats"},
		{"bad origin", `cors: {allowOrigins: ["example.com"]}`, "spec.cors.allowOrigins[0]"},
		{"mergeType on a Gateway", `mergeType: JSONMerge
  cors: {allowOrigins: ["*"]}`, "spec.mergeType: only a policy that targets routes"},
		{"jwt principal without jwt", `authorization: {rules: [{action: Allow, principal: {jwt: {provider: p, scopes: [a]}}}]}`,
			"\"p\" is not a provider of spec.jwt"},
		{"https to an IP", `jwt: {providers: [{name: p, remoteJWKS: {uri: "https://10.0.0.1/keys"}}]}`,
			"https to an IP address cannot be verified"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]
  `+c.spec+`
`)
			if len(res.Problems) == 0 || !strings.Contains(res.Problems[0].Message, c.want) {
				t.Fatalf("problems %v, want one saying %q", res.Problems, c.want)
			}
			for _, r := range httpRoutes(res) {
				if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
					t.Fatalf("route %s is not closed", r.Name)
				}
			}
		})
	}
}

// A symmetric key in a local key set is redacted in printed IR; its
// public neighbours stay readable.
func TestSecurityPolicyRedactJWKS(t *testing.T) {
	res := translateSP(t, `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]
  jwt: {providers: [{name: p, localJWKS: {inline: '{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0LXNlY3JldA"},{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"BB"}]}'}}]}
`)
	p := ir.RedactSecrets(res.IR.Proxies[0])
	got := p.HTTP[0].VirtualHosts[0].Routes[0].Security.JWT.Providers[0].LocalJWKS
	if strings.Contains(got, "c2VjcmV0") || !strings.Contains(got, `"x":"AA"`) || !strings.Contains(got, ir.Redacted) {
		t.Fatalf("redacted key set %s", got)
	}
	orig := res.IR.Proxies[0].HTTP[0].VirtualHosts[0].Routes[0].Security.JWT.Providers[0].LocalJWKS
	if !strings.Contains(orig, "c2VjcmV0") {
		t.Fatal("redaction changed the IR itself")
	}
}
