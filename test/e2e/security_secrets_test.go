package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsManifest holds every kind of credential a SecurityPolicy puts in
// Envoy's configuration: API keys, a basic-auth htpasswd file, and a local
// key set with a symmetric (HS256) key.
const secretsManifest = `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: basic, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [basic.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: default}
stringData: {ci: {{ .Key }}}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
stringData:
  .htpasswd: "alice:{SHA}LnNEJV8jKtmfFq9Xj5SGUhsNZSU=\n"
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: app, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  apiKeyAuth:
    credentialRefs: [{name: keys}]
    extractFrom: [{headers: [x-api-key]}]
  jwt:
    optional: true
    providers:
    - name: hmac
      localJWKS:
        type: Inline
        inline: '{"keys":[{"kty":"oct","alg":"HS256","kid":"hmac","k":"{{ .HMAC }}"}]}'
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: basic, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: basic}]
  basicAuth: {users: {name: users}}
`

// TestSecurityPolicySecretsNotPrinted: credentials reach Envoy (the
// requests they guard work) but appear in none of egctl's printed output
// — translate --to ir and --to xds, config dump of the running proxy,
// x diff between two versions — unless --show-secrets is given.
func TestSecurityPolicySecretsNotPrinted(t *testing.T) {
	envoyTest(t)
	hmacKey := []byte("0123456789abcdef0123456789abcdef")
	data := map[string]any{
		"Echo": StartEchoBasic(t, "echo").Port,
		"Key":  "api-key-4f9d2c",
		"HMAC": base64.RawURLEncoding.EncodeToString(hmacKey),
	}
	data["Port"] = FreePort(t)
	dir := WriteManifests(t, secretsManifest, data)
	p := StartProxy(t, DeployOptions{}, RenderManifests(t, secretsManifest, data), data["Port"].(int))

	// The credentials work: the key, an HS256 token, the password.
	p.ExpectPod(t, "echo", "app.example.com", "/", "x-api-key", "api-key-4f9d2c")
	p.ExpectStatus(t, http.StatusUnauthorized, "app.example.com", "/")
	hs := hs256(t, hmacKey, map[string]any{"sub": "ci"})
	p.ExpectStatus(t, http.StatusOK, "app.example.com", "/", "x-api-key", "api-key-4f9d2c", "Authorization", "Bearer "+hs)
	p.ExpectStatus(t, http.StatusUnauthorized, "app.example.com", "/", "x-api-key", "api-key-4f9d2c", "Authorization", "Bearer "+hs256(t, []byte("wrong-key-wrong-key-wrong-key-00"), nil))
	req := p.NewRequest(t, http.MethodGet, "basic.example.com", "/")
	req.SetBasicAuth("alice", "alice-password")
	Do(t, httpClient, req).ExpectStatus(t, http.StatusOK)

	secrets := []string{"api-key-4f9d2c", data["HMAC"].(string), "LnNEJV8jKtmfFq9Xj5SGUhsNZSU", base64.StdEncoding.EncodeToString([]byte("alice:{SHA}LnNEJV8jKtmfFq9Xj5SGUhsNZSU=\n"))}
	check := func(what string, out string, show bool) {
		t.Helper()
		for _, s := range secrets[:3] {
			if got := strings.Contains(out, s) || strings.Contains(out, secrets[3]); got && !show {
				t.Errorf("%s prints a credential (%.12s…)", what, s)
			}
		}
		if show && !strings.Contains(out, secrets[0]) && !strings.Contains(out, secrets[1]) {
			t.Errorf("%s with --show-secrets prints neither the API key nor the HMAC key", what)
		}
		if !show && !strings.Contains(out, "[redacted") {
			t.Errorf("%s says nothing was redacted", what)
		}
	}
	for _, args := range [][]string{{"--to", "ir"}, {"--to", "xds"}, {"--to", "xds", "-o", "json"}, {"--to", "xds", "-t", "route"}, {"--to", "xds", "-t", "listener"}} {
		for _, show := range []bool{false, true} {
			a := append([]string{"x", "translate", "-f", dir}, args...)
			if show {
				a = append(a, "--show-secrets")
			}
			r := RunEgctl(t, a...)
			if r.Code != 0 {
				t.Fatalf("%s", r)
			}
			check(strings.Join(a[3:], " "), r.Stdout, show)
		}
	}

	// A running proxy's dump. Envoy blanks API keys and basic-auth users
	// itself; the key set's symmetric key is egctl's to hide.
	r := RunEgctl(t, "config", "dump", "all", "--admin", p.AdminAddr)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	check("config dump", r.Stdout, false)
	r = RunEgctl(t, "config", "dump", "listener", "--admin", p.AdminAddr, "--show-secrets")
	if !strings.Contains(r.Stdout, data["HMAC"].(string)) {
		t.Errorf("config dump --show-secrets hides the key set Envoy sent")
	}

	// x diff of two versions whose key changed: the change shows, the keys
	// do not.
	newer := filepath.Join(t.TempDir(), "newer.yaml")
	b, err := os.ReadFile(filepath.Join(dir, "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newer, []byte(strings.ReplaceAll(string(b), "api-key-4f9d2c", "api-key-rotated")), 0o644); err != nil {
		t.Fatal(err)
	}
	r = RunEgctl(t, "x", "diff", dir, newer)
	if r.Code != 0 || !strings.Contains(r.Stdout, "redacted sha256:") {
		t.Fatalf("x diff shows no redacted change:\n%s\n%s", r, r.Stdout)
	}
	if strings.Contains(r.Stdout, "api-key-rotated") || strings.Contains(r.Stdout, "api-key-4f9d2c") {
		t.Errorf("x diff prints the keys:\n%s", r.Stdout)
	}
	r = RunEgctl(t, "x", "diff", dir, newer, "--show-secrets")
	if !strings.Contains(r.Stdout, "api-key-rotated") {
		t.Errorf("x diff --show-secrets hides the new key:\n%s", r.Stdout)
	}
	// The running proxy matches its manifests: nothing to show, nothing leaked.
	r = RunEgctl(t, "x", "diff", dir, "admin://"+p.AdminAddr)
	for _, s := range secrets[:3] {
		if strings.Contains(r.Stdout, s) {
			t.Errorf("x diff manifests vs live prints a credential:\n%s", r.Stdout)
		}
	}
}

// hs256 signs claims with a shared key.
func hs256(t *testing.T, key []byte, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	if claims == nil {
		claims = map[string]any{}
	}
	signing := enc(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "hmac"}) + "." + enc(claims)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
