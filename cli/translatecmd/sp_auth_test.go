package translatecmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SecurityPolicy oidc and extAuth at the command line: the discovery
// flags, and secret material kept out of everything printed.

const oidcDiscoveryInput = `apiVersion: gateway.networking.k8s.io/v1
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
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec: {endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  oidc:
    provider: {issuer: "https://accounts.example.com"}
    clientID: app
    clientSecret: {name: app-oidc}
---
apiVersion: v1
kind: Secret
metadata: {name: app-oidc, namespace: default}
stringData: {client-secret: CLIENT-SECRET-VALUE}
---
apiVersion: v1
kind: Secret
metadata: {name: envoy-oidc-hmac, namespace: envoy-gateway-system}
stringData: {hmac-secret: HMAC-KEY-VALUE-0123456789abcdef}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOIDCDiscoveryFlag(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"in.yaml": oidcDiscoveryInput,
		"accounts.json": `{"issuer": "https://accounts.example.com/", "authorization_endpoint": "https://accounts.example.com/o/auth",
			"token_endpoint": "https://oauth2.example.com/token", "end_session_endpoint": "https://accounts.example.com/logout"}`,
	})
	in := filepath.Join(dir, "in.yaml")

	// Without the document the policy is refused, and egctl says how to
	// give it.
	_, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "xds")
	if code != 1 || !strings.Contains(stderr, "--oidc-discovery FILE") || !strings.Contains(stderr, "--oidc-discovery-fetch") {
		t.Fatalf("without discovery: exit %d\n%s", code, stderr)
	}

	out, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "xds", "--oidc-discovery", filepath.Join(dir, "accounts.json"))
	if code != 0 {
		t.Fatalf("with --oidc-discovery: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"authorizationEndpoint: https://accounts.example.com/o/auth",
		"uri: https://oauth2.example.com/token",
		"cluster: oauth2_example_com_443",
		"endSessionEndpoint: https://accounts.example.com/logout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	_, stderr, code = runEgctl("x", "translate", "-f", in, "--oidc-discovery", filepath.Join(dir, "missing.json"))
	if code != 2 || !strings.Contains(stderr, "missing.json") {
		t.Fatalf("unreadable document: exit %d\n%s", code, stderr)
	}
}

// TestAuthSecretsRedacted: the OIDC client secret, the HMAC key and a
// context extension read from a Secret appear in no printed output but
// the bootstrap (which Envoy needs) unless --show-secrets; nor in x diff.
func TestAuthSecretsRedacted(t *testing.T) {
	extAuth := `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: api-auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
  extAuth:
    http: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}
    contextExtensions: [{name: k, type: ValueRef, valueRef: {group: "", kind: Secret, name: ctx, key: k}}]
---
apiVersion: v1
kind: Secret
metadata: {name: ctx, namespace: default}
stringData: {k: CONTEXT-SECRET-VALUE}
`
	input := strings.Replace(oidcDiscoveryInput, `provider: {issuer: "https://accounts.example.com"}`,
		`provider: {issuer: "https://accounts.example.com", authorizationEndpoint: "https://accounts.example.com/auth", tokenEndpoint: "https://accounts.example.com/token"}`, 1)
	rotated := strings.Replace(input, "CLIENT-SECRET-VALUE", "ROTATED-SECRET-VALUE", 1)
	dir := writeFiles(t, map[string]string{"in.yaml": input + extAuth,
		"rotated.yaml": rotated + strings.Replace(extAuth, "CONTEXT-SECRET-VALUE", "ROTATED-CONTEXT-VALUE", 1)})
	in := filepath.Join(dir, "in.yaml")
	secrets := []string{"CLIENT-SECRET-VALUE", "HMAC-KEY-VALUE", "Q0xJRU5ULVNFQ1JFVC1WQUxVRQ", "SE1BQy1LRVktVkFMVUU"}
	irSecrets := append(secrets, "CONTEXT-SECRET-VALUE")

	check := func(what, out string, leaks []string, wantShown bool) {
		t.Helper()
		for _, s := range leaks {
			if strings.Contains(out, s) == wantShown {
				continue
			}
			if wantShown {
				t.Errorf("%s: %q not shown", what, s)
			} else {
				t.Errorf("%s: prints secret material %q", what, s)
			}
		}
	}
	for _, to := range []string{"xds", "ir", "gateway-api,xds,ir"} {
		out, stderr, code := runEgctl("x", "translate", "-f", in, "--to", to)
		if code != 0 {
			t.Fatalf("--to %s: exit %d\n%s", to, code, stderr)
		}
		leaks := secrets
		if strings.Contains(to, "ir") {
			leaks = irSecrets
		}
		check("--to "+to, out+stderr, leaks, false)
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("--to %s: nothing reads [redacted]", to)
		}
	}
	out, _, _ := runEgctl("x", "translate", "-f", in, "--to", "ir", "--show-secrets")
	check("--to ir --show-secrets", out, []string{"Q0xJRU5ULVNFQ1JFVC1WQUxVRQ", "CONTEXT-SECRET-VALUE"}, true)
	out, _, _ = runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "secret", "--show-secrets")
	check("--to xds --show-secrets", out, []string{"Q0xJRU5ULVNFQ1JFVC1WQUxVRQ"}, true)
	out, _, _ = runEgctl("x", "translate", "-f", in, "--to", "bootstrap")
	check("--to bootstrap", out, []string{"Q0xJRU5ULVNFQ1JFVC1WQUxVRQ"}, true)

	// A rotated client secret shows as a change, by fingerprint.
	out, stderr, code := runEgctl("x", "diff", in, filepath.Join(dir, "rotated.yaml"))
	if code != 0 {
		t.Fatalf("x diff: exit %d\n%s", code, stderr)
	}
	check("x diff", out+stderr, append(irSecrets, "ROTATED-SECRET-VALUE", "Uk9UQVRFRC1TRUNSRVQtVkFMVUU", "ROTATED-CONTEXT-VALUE"), false)
	if !strings.Contains(out, "oauth2/client_secret/securitypolicy/default/login") || !strings.Contains(out, "[redacted sha256:") ||
		!strings.Contains(out, "httproute/default/api/rule/0/match/0/api_example_com") {
		t.Errorf("x diff does not show the rotated secret as a fingerprinted change:\n%s", out)
	}
}
