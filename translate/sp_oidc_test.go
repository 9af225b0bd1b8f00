package translate

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/certgen"
	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

// spTestInput is what the OIDC and ext-auth unit tests share: a Gateway,
// routes, the client secret and HMAC key, an ext-auth Service and Backend.
const spTestInput = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: app-oidc, namespace: default}
stringData: {client-secret: s3cr3t}
---
apiVersion: v1
kind: Secret
metadata: {name: envoy-oidc-hmac, namespace: envoy-gateway-system}
stringData: {hmac-secret: 0123456789abcdef0123456789abcdef}
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: default}
spec:
  clusterIP: 10.96.0.9
  ports: [{name: grpc, port: 9000}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: authz-fqdn, namespace: default}
spec: {endpoints: [{fqdn: {hostname: authz.example.net, port: 9001}}]}
`

// spBuilder translates spTestInput (plus extra documents) and returns the
// builder, ready for spOIDC / spExtAuth calls on hand-made policies.
func spBuilder(t *testing.T, opts Options, extra ...string) *builder {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(spTestInput+strings.Join(extra, "")), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := translate(set, opts)
	return b
}

// spPolicy makes a policy from a spec written in YAML.
func spPolicy(t *testing.T, ns, name, specYAML string) *policy {
	t.Helper()
	spec := &egv1a1.SecurityPolicySpec{}
	if err := yaml.UnmarshalStrict([]byte(specYAML), spec); err != nil {
		t.Fatal(err)
	}
	p := &policy{kind: spKind, spec: spec}
	p.key.Namespace, p.key.Name = ns, name
	p.meta = &metav1.ObjectMeta{Namespace: ns, Name: name}
	return p
}

const oidcSpec = `oidc:
  provider: {issuer: "https://idp.example.com", authorizationEndpoint: "https://idp.example.com/a", tokenEndpoint: "https://idp.example.com/t"}
  clientID: app
  clientSecret: {name: app-oidc}
`

func TestOIDCHMACSecretNamesMatchCertgen(t *testing.T) {
	// egctl x certgen writes the Secret the translator reads.
	if OIDCHMACSecretNamespace != certgen.DefaultNamespace || OIDCHMACSecretName != certgen.OIDCHMACSecretName || OIDCHMACSecretKey != certgen.HMACSecretKey {
		t.Fatalf("translate reads %s/%s[%s], certgen writes %s/%s[%s]", OIDCHMACSecretNamespace, OIDCHMACSecretName, OIDCHMACSecretKey,
			certgen.DefaultNamespace, certgen.OIDCHMACSecretName, certgen.HMACSecretKey)
	}
}

func TestOIDCPassThroughFromJWTProviders(t *testing.T) {
	b := spBuilder(t, Options{})
	tests := []struct {
		name, jwt, extra string
		want             []ir.OIDCHeaderMatch
		err              string
	}{
		{"default extractor", `jwt: {providers: [{name: p, remoteJWKS: {uri: "https://idp.example.com/jwks"}}]}`, "",
			[]ir.OIDCHeaderMatch{{Name: "Authorization", Type: ir.HeaderMatchPrefix, Value: "Bearer "}}, ""},
		{"headers", `jwt: {providers: [{name: p, remoteJWKS: {uri: "https://x/j"}, extractFrom: {headers: [{name: X-Token}, {name: X-Auth, valuePrefix: "Token "}], cookies: [c]}}]}`, "",
			[]ir.OIDCHeaderMatch{{Name: "X-Token", Type: ir.HeaderMatchPresent}, {Name: "X-Auth", Type: ir.HeaderMatchPrefix, Value: "Token "}}, ""},
		{"cookies only", `jwt: {providers: [{name: p, remoteJWKS: {uri: "https://x/j"}, extractFrom: {cookies: [IdToken]}}]}`, "", nil,
			"a JWT provider that reads a header"},
		{"no jwt", "", "", nil, "needs spec.jwt"},
		{"forwarded in the header JWT reads", `jwt: {providers: [{name: p, remoteJWKS: {uri: "https://x/j"}}]}`, "  forwardIDToken: {header: authorization}\n", nil,
			"also a header a JWT provider reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := spPolicy(t, "default", strings.ReplaceAll(tt.name, " ", "-"), oidcSpec+"  passThroughAuthHeader: true\n"+tt.extra+tt.jwt+"\n")
			o, err := b.spOIDC(effective{policy: p}, p.spec.(*egv1a1.SecurityPolicySpec))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(o.PassThrough) != fmt.Sprint(tt.want) {
				t.Fatalf("pass-through %+v, want %+v", o.PassThrough, tt.want)
			}
		})
	}
}

func TestOIDCDiscovery(t *testing.T) {
	calls := 0
	disc := func(issuer string) (*OIDCProviderConfig, error) {
		calls++
		switch issuer {
		case "https://idp.example.com":
			return &OIDCProviderConfig{Issuer: "https://idp.example.com/", AuthorizationEndpoint: "https://idp.example.com/disc-auth",
				TokenEndpoint: "https://tokens.example.com/disc-token", EndSessionEndpoint: "https://idp.example.com/bye"}, nil
		case "https://liar.example.com":
			return &OIDCProviderConfig{Issuer: "https://evil.example.com", AuthorizationEndpoint: "https://e/a", TokenEndpoint: "https://e/t"}, nil
		}
		return nil, errors.New("no such issuer")
	}
	b := spBuilder(t, Options{OIDCDiscovery: disc})
	get := func(spec string) (*ir.OIDC, error) {
		p := spPolicy(t, "default", fmt.Sprintf("p%d", calls), spec)
		return b.spOIDC(effective{policy: p}, p.spec.(*egv1a1.SecurityPolicySpec))
	}
	o, err := get("oidc: {provider: {issuer: \"https://idp.example.com\"}, clientID: app, clientSecret: {name: app-oidc}}")
	if err != nil {
		t.Fatal(err)
	}
	if o.Provider.AuthorizationEndpoint != "https://idp.example.com/disc-auth" || o.Provider.TokenEndpoint != "https://tokens.example.com/disc-token" ||
		o.Provider.EndSessionEndpoint != "https://idp.example.com/bye" {
		t.Fatalf("discovered provider %+v", o.Provider)
	}
	// An endpoint written in the policy wins over the discovered one.
	o, err = get("oidc: {provider: {issuer: \"https://idp.example.com\", authorizationEndpoint: \"https://idp.example.com/mine?x=1\"}, clientID: app, clientSecret: {name: app-oidc}}")
	if err != nil || o.Provider.AuthorizationEndpoint != "https://idp.example.com/mine?x=1" || o.Provider.TokenEndpoint != "https://tokens.example.com/disc-token" {
		t.Fatalf("provider %+v, %v", o.Provider, err)
	}
	if _, err := get("oidc: {provider: {issuer: \"https://liar.example.com\"}, clientID: app, clientSecret: {name: app-oidc}}"); err == nil || !strings.Contains(err.Error(), "names issuer https://evil.example.com") {
		t.Fatalf("a configuration for another issuer: %v", err)
	}
	if _, err := get("oidc: {provider: {issuer: \"https://gone.example.com\"}, clientID: app, clientSecret: {name: app-oidc}}"); err == nil || !strings.Contains(err.Error(), "no such issuer") {
		t.Fatalf("discovery failure: %v", err)
	}
	before := calls
	if _, err := get(oidcSpec); err != nil || calls != before {
		t.Fatalf("both endpoints given: discovery called (%v)", err)
	}
}

// TestOIDCOwnerAndCache: a policy merged onto a parent takes names and
// namespaces from the policy that owns spec.oidc; each (policy, parent)
// is translated once.
func TestOIDCOwnerAndCache(t *testing.T) {
	b := spBuilder(t, Options{})
	parent := spPolicy(t, "default", "gw", oidcSpec)
	child := spPolicy(t, "default", "route", "extAuth: {grpc: {backendRefs: [{name: authz, port: 9000}]}}\n")
	mt := egv1a1.StrategicMerge
	child.mergeType = &mt
	merged, err := mergeSpecs(parent.spec.(*egv1a1.SecurityPolicySpec), child.spec.(*egv1a1.SecurityPolicySpec), mt)
	if err != nil {
		t.Fatal(err)
	}
	e := effective{policy: child, parent: parent}
	o1, err := b.spOIDC(e, merged)
	if err != nil {
		t.Fatal(err)
	}
	if o1.Name != "securitypolicy/default/gw" {
		t.Fatalf("merged oidc named %s, want the parent's (it owns spec.oidc)", o1.Name)
	}
	a, err := b.spExtAuth(e, merged)
	if err != nil || a.Name != "securitypolicy/default/route" || a.Destination.Name != "securitypolicy/default/route/extauth/0" {
		t.Fatalf("ext auth %+v, %v: want the route policy's names", a, err)
	}
	o2, _ := b.spOIDC(e, merged)
	if o1 != o2 {
		t.Fatal("the same (policy, parent) translated twice")
	}
	if o3, _ := b.spOIDC(effective{policy: parent}, parent.spec.(*egv1a1.SecurityPolicySpec)); o3 == o1 {
		t.Fatal("a different (policy, parent) shares the cached result")
	}
}

// TestOIDCSharedAcrossRoutes: one Gateway-level policy over many routes
// gives every route the same settings value (translated once).
func TestOIDCSharedAcrossRoutes(t *testing.T) {
	var routes strings.Builder
	for i := range 50 {
		fmt.Fprintf(&routes, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r%d, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [r%d.example.com]
  rules: [{backendRefs: [{name: authz, port: 9000}]}]
`, i, i)
	}
	set, _, err := manifest.LoadBytes("in.yaml", []byte(spTestInput+routes.String()+`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
`+indentSpec(oidcSpec)), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	var first *ir.OIDC
	n := 0
	for _, l := range res.IR.Proxies[0].HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Security == nil || r.Security.OIDC == nil {
					t.Fatalf("route %s has no OIDC", r.Name)
				}
				if first == nil {
					first = r.Security.OIDC
				}
				if r.Security.OIDC != first {
					t.Fatalf("route %s has its own copy of the policy's OIDC settings", r.Name)
				}
				n++
			}
		}
	}
	if n != 50 {
		t.Fatalf("%d routes, want 50", n)
	}
}

func indentSpec(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

func TestOIDCRedirectPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.example.com/oauth2/callback":          "/oauth2/callback",
		"%REQ(x-forwarded-proto)%://%REQ(:authority)%/a/b": "/a/b",
		"http://localhost:8080/cb":                         "/cb",
		"https://www.example.com/":                         "error",
		"https://www.example.com":                          "error",
		"ftp://www.example.com/cb":                         "error",
		"https://www.example.com/cb?x=1":                   "error",
		"www.example.com/cb":                               "error",
	} {
		got, err := oidcRedirectPath(in)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// BenchmarkSPAuthEveryRoute: one Gateway-level policy with oidc (and one
// with extAuth) over 2,000 routes; compare with the same routes without
// policies (BenchmarkSPAuthEveryRoute/none).
func BenchmarkSPAuthEveryRoute(b *testing.B) {
	var routes strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&routes, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r%d, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [r%d.example.com]
  rules: [{backendRefs: [{name: authz, port: 9000}]}]
`, i, i)
	}
	policy := func(spec string) string {
		return `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
` + indentSpec(spec)
	}
	for _, c := range []struct{ name, extra string }{
		{"none", ""},
		{"oidc", policy(oidcSpec)},
		{"extauth", policy("extAuth: {grpc: {backendRefs: [{name: authz, port: 9000}]}}\n")},
	} {
		set, _, err := manifest.LoadBytes("in.yaml", []byte(spTestInput+routes.String()+c.extra), manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := Translate(set, Options{SkipStatus: true})
				if err != nil || len(res.Problems) > 0 {
					b.Fatal(err, res.Problems)
				}
			}
		})
	}
}
