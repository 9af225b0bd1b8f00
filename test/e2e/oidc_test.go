package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is an HTTP client with a cookie jar that resolves every host to
// loopback (the port comes from the URL) and trusts the given
// certificates. It never follows redirects on its own: the tests assert
// each hop of a login.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB, trust ...*Cert) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, c := range trust {
		pool.AddCert(c.Leaf)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, rawURL string, body io.Reader, headerKV ...string) *Response {
	b.t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	setHeaders(b.t, req, headerKV)
	return Do(b.t, b.client, req)
}

func (b *browser) get(rawURL string, headerKV ...string) *Response {
	b.t.Helper()
	return b.do(http.MethodGet, rawURL, nil, headerKV...)
}

// cookieNames lists the names of the cookies the jar sends to rawURL.
func (b *browser) cookieNames(rawURL string) []string {
	u, _ := url.Parse(rawURL)
	var out []string
	for _, c := range b.client.Jar.Cookies(u) {
		out = append(out, c.Name)
	}
	return out
}

func (b *browser) cookie(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// location is the redirect target of r, which must be a 302.
func location(t testing.TB, r *Response) *url.URL {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("want a 302 redirect, got %s", r)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !u.IsAbs() {
		t.Fatalf("redirect to %q: not an absolute URL (%v)", r.Header.Get("Location"), err)
	}
	return u
}

var hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// login runs the authorization code flow from a request for start (on
// the gateway) to the page itself: redirect to the provider, its login
// form, the callback to Envoy, the redirect back. It returns the final
// page's response.
func (b *browser) login(idp *oidcProvider, start, wantRedirectURI string) *Response {
	b.t.Helper()
	t := b.t
	authz := location(t, b.get(start))
	if got := authz.Scheme + "://" + authz.Host + authz.Path; got != idp.Issuer()+"/authorize" {
		t.Fatalf("redirected to %s, want the provider's authorization endpoint %s/authorize", got, idp.Issuer())
	}
	q := authz.Query()
	if q.Get("client_id") != idp.ClientID || q.Get("redirect_uri") != wantRedirectURI {
		t.Fatalf("authorization request: client_id %q redirect_uri %q, want %q %q", q.Get("client_id"), q.Get("redirect_uri"), idp.ClientID, wantRedirectURI)
	}
	form := b.get(authz.String()).ExpectStatus(t, http.StatusOK)
	post := url.Values{"username": {idp.User}, "password": {idp.Password}}
	for _, m := range hiddenInputRE.FindAllStringSubmatch(string(form.Body), -1) {
		post.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	callback := location(t, b.do(http.MethodPost, idp.Issuer()+"/authorize", strings.NewReader(post.Encode())))
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != wantRedirectURI {
		t.Fatalf("provider sent the browser to %s, want %s", got, wantRedirectURI)
	}
	back := location(t, b.get(callback.String()))
	if back.String() != start {
		t.Fatalf("after the callback Envoy sent the browser to %s, want the page first asked for, %s", back, start)
	}
	return b.get(back.String())
}

// oidcHMACSecret is the HMAC key Secret Envoy Gateway's certgen makes.
const oidcHMACSecret = `apiVersion: v1
kind: Secret
metadata: {name: envoy-oidc-hmac, namespace: envoy-gateway-system}
type: Opaque
data: {hmac-secret: qrOYACHXoe7UEDI/raOjNSx+Z9ufXSc/22C3T6X/zPY=}
`

// TestSecurityPolicyOIDCLoginAndLogout drives a browser through the whole
// OpenID Connect login against a real provider, through Envoy: the
// redirect to the provider, its login form, the callback where Envoy
// redeems the code (client secret over TLS checked against the
// provider's CA, PKCE), the session cookies, the backend receiving the
// access token, and the logout that clears the session and ends it at
// the provider. A second policy reaches its token endpoint through a DNS
// cluster and forwards the ID token in a header; denyRedirect answers 401
// instead of redirecting.
func TestSecurityPolicyOIDCLoginAndLogout(t *testing.T) {
	envoyTest(t)
	idp := startOIDCProvider(t, "idp.test")
	gwCert := SelfSignedCert(t, "www.example.com", "dns.example.com", "open.example.com")
	echo := StartEchoBasic(t, "oidc-app")
	p := Deploy(t, `{{ gatewayClass }}---
{{ tlsSecret "gw-cert" .GwCert }}---
{{ .HMAC }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: https
    protocol: HTTPS
    port: {{ .Port }}
    tls: {mode: Terminate, certificateRefs: [{name: gw-cert}]}
---
{{ service "app" .App }}---
{{ service "idp" .IdP }}---
apiVersion: v1
kind: ConfigMap
metadata: {name: idp-ca, namespace: default}
data:
  ca.crt: |
{{ indent 4 .IdPCA }}---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: idp, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: idp}]
  validation:
    hostname: idp.test
    caCertificateRefs: [{group: "", kind: ConfigMap, name: idp-ca}]
---
apiVersion: v1
kind: Secret
metadata: {name: app-oidc, namespace: default}
type: Opaque
stringData: {client-secret: "{{ .ClientSecret }}"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: www, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: dns, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [dns.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: open, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [open.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: www-login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: www}]
  oidc:
    provider:
      issuer: {{ .Issuer }}
      authorizationEndpoint: {{ .Issuer }}/authorize
      tokenEndpoint: https://idp.test:{{ .IdPPort }}/token
      endSessionEndpoint: {{ .Issuer }}/logout
      backendRefs: [{name: idp, port: 8080}]
    clientID: {{ .ClientID }}
    clientSecret: {name: app-oidc}
    scopes: [email]
    forwardAccessToken: true
    logoutPath: /signout
    denyRedirect:
      headers: [{name: X-Requested-With, value: XMLHttpRequest}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: dns-login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: dns}]
  oidc:
    provider:
      issuer: {{ .Issuer }}
      authorizationEndpoint: {{ .Issuer }}/authorize
      tokenEndpoint: http://localhost:{{ .IdPPlain }}/token
    clientID: {{ .ClientID }}
    clientSecret: {name: app-oidc}
    redirectURL: https://dns.example.com:{{ .Port }}/auth/callback
    cookieNames: {idToken: IdToken}
    forwardIDToken: {header: X-Id-Token}
`, map[string]any{
		"GwCert": gwCert, "HMAC": oidcHMACSecret, "App": echo.Port, "IdP": idp.TLSPort, "IdPPort": idp.TLSPort,
		"IdPPlain": idp.PlainPort, "IdPCA": string(idp.Cert.CertPEM), "Issuer": idp.Issuer(),
		"ClientID": idp.ClientID, "ClientSecret": idp.Secret,
	})

	www := fmt.Sprintf("https://www.example.com:%d", p.Port)
	b := newBrowser(t, gwCert, idp.Cert)

	// A route without a policy on the same listener is served as is.
	b.get(fmt.Sprintf("https://open.example.com:%d/", p.Port)).Echo(t)

	// An XHR is told 401, not sent to a login page.
	b.get(www+"/api", "X-Requested-With", "XMLHttpRequest").ExpectStatus(t, http.StatusUnauthorized)

	page := b.login(idp, www+"/private?x=1", www+"/oauth2/callback")
	e := page.Echo(t)
	if e.Pod != "oidc-app" || e.Path != "/private?x=1" {
		t.Fatalf("after login: pod %q path %q", e.Pod, e.Path)
	}
	auth := e.Header("Authorization")
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
		t.Fatalf("backend got Authorization %q, want the access token (forwardAccessToken)", auth)
	}
	if c := jwtClaims(t, strings.TrimPrefix(auth[0], "Bearer ")); c["sub"] != idp.User || c["aud"] != "api" {
		t.Fatalf("backend got a bearer token with claims %v, want the provider's access token for %s", c, idp.User)
	}
	reqs := idp.TokenRequests()
	if len(reqs) != 1 || reqs[0].GrantType != "authorization_code" || reqs[0].BasicClient != idp.ClientID {
		t.Fatalf("token endpoint requests %+v, want one authorization_code grant by %s", reqs, idp.ClientID)
	}
	// The session holds: another page needs no new login.
	b.get(www + "/other").Echo(t)
	if n := len(idp.TokenRequests()); n != 1 {
		t.Fatalf("%d token requests after a second page, want 1", n)
	}
	// The other route's policy has its own cookies: no session there yet.
	dns := fmt.Sprintf("https://dns.example.com:%d", p.Port)
	if r := b.get(dns + "/"); r.Status != http.StatusFound {
		t.Fatalf("the www session opened dns.example.com: %s", r)
	}

	// Logout clears the session cookies and ends the session at the
	// provider.
	out := location(t, b.get(www+"/signout"))
	if got := out.Scheme + "://" + out.Host + out.Path; got != idp.Issuer()+"/logout" {
		t.Fatalf("logout sent the browser to %s, want the end session endpoint", got)
	}
	b.get(out.String()).ExpectStatus(t, http.StatusOK)
	if ev := idp.Events(); !strings.Contains(strings.Join(ev, "\n"), "logout") {
		t.Fatalf("the provider saw no logout: %v", ev)
	}
	for _, n := range b.cookieNames(www) {
		if strings.HasPrefix(n, "AccessToken-") || strings.HasPrefix(n, "IdToken-") || strings.HasPrefix(n, "OauthHMAC-") {
			t.Errorf("cookie %s survived the logout", n)
		}
	}
	if r := b.get(www + "/private"); r.Status != http.StatusFound {
		t.Fatalf("after logout the page is still served: %s", r)
	}

	// The second policy: token endpoint through a DNS cluster (plain
	// HTTP to localhost), its own redirect path, the ID token forwarded in
	// a header and stored in the cookie named IdToken.
	page = b.login(idp, dns+"/home", dns+"/auth/callback")
	e = page.Echo(t)
	idTok := e.Header("X-Id-Token")
	if len(idTok) != 1 {
		t.Fatalf("backend got X-Id-Token %q, want the ID token", idTok)
	}
	if c := jwtClaims(t, idTok[0]); c["sub"] != idp.User || c["aud"] != idp.ClientID || c["iss"] != idp.Issuer() {
		t.Fatalf("forwarded ID token claims %v", c)
	}
	if got := b.cookie(dns, "IdToken"); got == "" {
		t.Fatalf("no IdToken cookie; cookies: %v", b.cookieNames(dns))
	}
	if got := idp.TokenRequests(); len(got) != 2 || got[1].Host != fmt.Sprintf("localhost:%d", idp.PlainPort) {
		t.Fatalf("token requests %+v, want the second one to localhost:%d", got, idp.PlainPort)
	}

	requireNoOIDCSecrets(t, p, idp.Secret)
}

// requireNoOIDCSecrets checks that neither the client secret nor the HMAC
// key leaks from a running proxy through egctl: `config dump` of its admin
// API, and `x diff` of the bootstrap it runs (which holds both) against it.
func requireNoOIDCSecrets(t *testing.T, p *Proxy, clientSecret string) {
	t.Helper()
	hmac := "qrOYACHXoe7UEDI/raOjNSx+Z9ufXSc/22C3T6X/zPY="
	for _, args := range [][]string{
		{"config", "dump", "--admin", p.AdminAddr},
		{"config", "dump", "secret", "--admin", p.AdminAddr, "-o", "json"},
		{"x", "diff", p.Bootstrap, "admin://" + p.AdminAddr},
	} {
		res := RunEgctl(t, args...)
		if res.Code != 0 {
			t.Fatalf("egctl %v: exit %d\n%s\n%s", args, res.Code, res.Stderr, res.Stdout)
		}
		if args[1] == "diff" && !strings.Contains(res.Stdout, "(0 added, 0 removed, 3 changed;") {
			// Only the listeners differ (the Gateway's, the readiness and
			// the stats listener): the harness runs them on loopback.
			// Routes (OAuth2 settings) and secrets compare equal.
			t.Errorf("the running proxy differs from its bootstrap beyond the listener address:\n%s", res.Stdout)
		}
		for _, s := range []string{clientSecret, b64s(clientSecret), hmac} {
			if strings.Contains(res.Stdout+res.Stderr, s) {
				t.Errorf("egctl %v prints secret material %q", args, s)
			}
		}
	}
	if res := RunEgctl(t, "config", "dump", "secret", "--admin", p.AdminAddr); !strings.Contains(res.Stdout, "oauth2/client_secret/securitypolicy/default/") {
		t.Errorf("config dump shows no OAuth2 secret at all; the check above proves nothing:\n%s", res.Stdout)
	}
}

func b64s(s string) string { v, _ := b64(s); return v }

// TestSecurityPolicyOIDCFailsClosed: a policy whose client secret Secret
// is missing, or that has no HMAC key to sign cookies with, is refused: its
// route answers 500, egctl exits 1 saying why, and other routes work.
func TestSecurityPolicyOIDCFailsClosed(t *testing.T) {
	envoyTest(t)
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: guarded, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [guarded.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [public.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: no-secret, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  oidc:
    provider:
      issuer: https://idp.example.com
      authorizationEndpoint: https://idp.example.com/authorize
      tokenEndpoint: https://idp.example.com/token
    clientID: app
    clientSecret: {name: not-there}
`, map[string]any{"App": StartEchoBasic(t, "oidc-closed-app").Port})
	for range 3 {
		p.ExpectStatus(t, http.StatusInternalServerError, "guarded.example.com", "/")
	}
	p.ExpectPod(t, "oidc-closed-app", "public.example.com", "/")
	want := "SecurityPolicy default/no-secret: Accepted Invalid: spec.oidc.clientSecret: Secret default/not-there does not exist"
	if !strings.Contains(p.Translate.Stderr, want) {
		t.Fatalf("egctl stderr does not say why:\n%s\nwant: %s", p.Translate.Stderr, want)
	}
}

// TestSecurityPolicyOIDCIDTokenToJWT is Envoy Gateway 1.3's example: OIDC
// logs the user in and stores the ID token in a cookie of a fixed name; a
// JWT provider of the same policy reads the token from that cookie, checks
// it against the provider's JWKS and authorizes on its claims.
func TestSecurityPolicyOIDCIDTokenToJWT(t *testing.T) {
	envoyTest(t)
	idp := startOIDCProvider(t, "idp.test")
	gwCert := SelfSignedCert(t, "www.example.com")
	p := DeployWith(t, DeployOptions{}, `{{ gatewayClass }}---
{{ tlsSecret "gw-cert" .GwCert }}---
{{ .HMAC }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - name: https
    protocol: HTTPS
    port: {{ .Port }}
    tls: {mode: Terminate, certificateRefs: [{name: gw-cert}]}
---
{{ service "app" .App }}---
{{ service "idp" .IdP }}---
apiVersion: v1
kind: ConfigMap
metadata: {name: idp-ca, namespace: default}
data:
  ca.crt: |
{{ indent 4 .IdPCA }}---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: idp, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: idp}]
  validation:
    hostname: idp.test
    caCertificateRefs: [{group: "", kind: ConfigMap, name: idp-ca}]
---
apiVersion: v1
kind: Secret
metadata: {name: app-oidc, namespace: default}
type: Opaque
stringData: {client-secret: "{{ .ClientSecret }}"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: www, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: www-login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: www}]
  oidc:
    provider:
      issuer: {{ .Issuer }}
      authorizationEndpoint: {{ .Issuer }}/authorize
      tokenEndpoint: https://idp.test:{{ .IdP }}/token
      backendRefs: [{name: idp, port: 8080}]
    clientID: {{ .ClientID }}
    clientSecret: {name: app-oidc}
    cookieNames: {idToken: IdToken}
  jwt:
    providers:
    - name: idp
      issuer: {{ .Issuer }}
      audiences: [{{ .ClientID }}]
      remoteJWKS:
        uri: https://idp.test:{{ .IdP }}/jwks
        backendRefs: [{name: idp, port: 8080}]
      extractFrom: {cookies: [IdToken]}
      claimToHeaders: [{header: X-User-Email, claim: email}]
  authorization:
    defaultAction: Deny
    rules:
    - name: alice-only
      action: Allow
      principal:
        jwt:
          provider: idp
          claims: [{name: sub, values: [{{ .User }}]}]
`, map[string]any{
		"GwCert": gwCert, "HMAC": oidcHMACSecret, "App": StartEchoBasic(t, "jwt-app").Port, "IdP": idp.TLSPort,
		"IdPCA": string(idp.Cert.CertPEM), "Issuer": idp.Issuer(), "ClientID": idp.ClientID, "ClientSecret": idp.Secret, "User": idp.User,
	})
	www := fmt.Sprintf("https://www.example.com:%d", p.Port)
	b := newBrowser(t, gwCert, idp.Cert)
	e := b.login(idp, www+"/profile", www+"/oauth2/callback").Echo(t)
	if got := e.Header("X-User-Email"); joined(got) != idp.User+"@example.com" {
		t.Fatalf("backend got X-User-Email %q, want the ID token's email claim", got)
	}
	// A forged ID token cookie is never what the backend is served on:
	// the OAuth2 filter's HMAC no longer matches, so it logs the user in
	// again (302), refreshes the tokens with the refresh token (the
	// request then carries the fresh ID token), or the JWT filter refuses
	// the forgery (401).
	u, _ := url.Parse(www)
	const forged = "e30.e30.c2ln"
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "IdToken", Value: forged, Path: "/", Secure: true}})
	switch r := b.get(www + "/profile"); r.Status {
	case http.StatusFound, http.StatusUnauthorized:
	case http.StatusOK:
		e := r.Echo(t)
		if got := joined(e.Header("X-User-Email")); got != idp.User+"@example.com" {
			t.Fatalf("a forged ID token cookie: backend got X-User-Email %q", got)
		}
		if strings.Contains(joined(e.Header("Cookie")), forged) {
			t.Fatalf("a forged ID token cookie reached the backend: %v", e.Header("Cookie"))
		}
	default:
		t.Fatalf("a forged ID token cookie: %s", r)
	}
}
