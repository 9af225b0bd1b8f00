package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSecurityPolicyJWT: tokens signed in the test, keys fetched by Envoy
// from JWKS servers in the test, over plain HTTP by URI and over TLS
// through backendRefs (the CA from a BackendTLSPolicy). Valid, expired,
// wrong-issuer, wrong-audience, tampered and missing tokens; a claim copied
// into a header the backend sees; a token read from a cookie.
func TestSecurityPolicyJWT(t *testing.T) {
	envoyTest(t)
	issuer := newSigner(t, "plain")
	tlsIssuer := newSigner(t, "tls")
	other := newSigner(t, "unknown")
	plain := startJWKSServer(t, jwks(issuer), nil)
	ca := NewCA(t, "jwks CA")
	secure := startJWKSServer(t, jwks(tlsIssuer), ca.Issue(t, ECDSAKey, false, "jwks.internal"))

	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
{{ service "jwks" .Secure }}---
apiVersion: v1
kind: ConfigMap
metadata: {name: jwks-ca, namespace: default}
data:
  ca.crt: |
{{ indent 4 .CA }}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: jwks, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: jwks}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: jwks-ca}]
    hostname: jwks.internal
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: tls, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [tls.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cookie, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [cookie.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: api, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
  jwt:
    providers:
    - name: plain
      issuer: https://issuer.example.com
      audiences: [api.example.com]
      remoteJWKS:
        uri: http://127.0.0.1:{{ .Plain }}/jwks.json
      claimToHeaders:
      - {header: x-jwt-sub, claim: sub}
      - {header: x-jwt-team, claim: org.team}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: tls, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: tls}]
  jwt:
    providers:
    - name: secure
      issuer: https://secure.example.com
      remoteJWKS:
        uri: https://jwks.internal/jwks.json
        backendRefs: [{name: jwks, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: cookie, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cookie}]
  jwt:
    providers:
    - name: plain
      issuer: https://issuer.example.com
      remoteJWKS:
        uri: http://127.0.0.1:{{ .Plain }}/jwks.json
      extractFrom:
        cookies: [session]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port, "Secure": secure.Port, "Plain": plain.Port, "CA": string(ca.CertPEM)})
	plain.waitFetched(t)
	secure.waitFetched(t)

	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": "https://issuer.example.com", "aud": "api.example.com", "sub": "alice", "org": map[string]any{"team": "blue"}}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	t.Run("valid token, claims to headers", func(t *testing.T) {
		var e EchoResponse
		// Envoy may answer before its first key fetch is applied.
		Eventually(t, 5*time.Second, func() error {
			r := p.Get(t, "api.example.com", "/", bearer(issuer.token(t, claims(nil)))...)
			if r.Status != http.StatusOK {
				return fmt.Errorf("valid token: %s", r)
			}
			e = r.Echo(t)
			return nil
		})
		if got := strings.Join(e.Header("x-jwt-sub"), ","); got != "alice" {
			t.Errorf("backend saw x-jwt-sub %q, want alice", got)
		}
		if got := strings.Join(e.Header("x-jwt-team"), ","); got != "blue" {
			t.Errorf("backend saw x-jwt-team (nested claim) %q, want blue", got)
		}
	})
	t.Run("rejected tokens", func(t *testing.T) {
		cases := map[string]string{
			"expired":        issuer.token(t, claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()})),
			"not yet valid":  issuer.token(t, claims(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})),
			"wrong issuer":   issuer.token(t, claims(map[string]any{"iss": "https://evil.example.com"})),
			"wrong audience": issuer.token(t, claims(map[string]any{"aud": "other.example.com"})),
			"unknown key":    other.token(t, claims(nil)),
			"other server":   tlsIssuer.token(t, claims(nil)),
			"not a token":    "abc.def.ghi",
		}
		tok := issuer.token(t, claims(nil))
		cases["tampered"] = tok[:strings.LastIndexByte(tok, '.')] + "." + strings.Repeat("A", 86)
		for name, tok := range cases {
			want := http.StatusUnauthorized
			if name == "wrong audience" {
				want = http.StatusForbidden // Envoy: a valid token for someone else
			}
			if r := p.Get(t, "api.example.com", "/", bearer(tok)...); r.Status != want {
				t.Errorf("%s token: got %s, want %d", name, r, want)
			}
		}
		p.ExpectStatus(t, http.StatusUnauthorized, "api.example.com", "/")
		// A claim header sent by the client is no claim.
		p.ExpectStatus(t, http.StatusUnauthorized, "api.example.com", "/", "x-jwt-sub", "alice")
	})
	t.Run("keys over TLS through backendRefs", func(t *testing.T) {
		tok := tlsIssuer.token(t, map[string]any{"iss": "https://secure.example.com", "sub": "bob"})
		Eventually(t, 5*time.Second, func() error {
			if r := p.Get(t, "tls.example.com", "/", bearer(tok)...); r.Status != http.StatusOK {
				return fmt.Errorf("valid token: %s", r)
			}
			return nil
		})
		bad := issuer.token(t, map[string]any{"iss": "https://secure.example.com"})
		p.ExpectStatus(t, http.StatusUnauthorized, "tls.example.com", "/", bearer(bad)...)
	})
	t.Run("token from a cookie", func(t *testing.T) {
		tok := issuer.token(t, claims(nil))
		Eventually(t, 5*time.Second, func() error {
			if r := p.Get(t, "cookie.example.com", "/", "Cookie", "theme=dark; session="+tok); r.Status != http.StatusOK {
				return fmt.Errorf("token in cookie: %s", r)
			}
			return nil
		})
		// This provider reads the cookie only.
		p.ExpectStatus(t, http.StatusUnauthorized, "cookie.example.com", "/", bearer(tok)...)
		p.ExpectStatus(t, http.StatusUnauthorized, "cookie.example.com", "/", "Cookie", "session="+other.token(t, claims(nil)))
	})
}
