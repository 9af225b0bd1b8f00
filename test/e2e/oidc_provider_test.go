package e2e

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// oidcProvider is a small OpenID provider for the tests: the authorization
// code flow with a login form, PKCE (S256), client_secret_basic at the
// token endpoint, refresh tokens, RS256-signed ID tokens with a JWKS, a
// discovery document and an end-session endpoint. It checks what a real
// provider checks (client credentials, redirect URI, code verifier, codes
// used once) and records what Envoy sent, so a test can assert on it.
//
// It serves TLS on one port (the issuer, https://<host>:<TLSPort>) and the
// same handler in plain text on another (PlainPort), for a token endpoint
// reached over a DNS cluster without a CA to trust.
type oidcProvider struct {
	Host      string // the issuer's host name
	TLSPort   int
	PlainPort int
	Cert      *Cert // the TLS server certificate (self-signed, for Host)
	ClientID  string
	Secret    string
	// User and Password are the only account; the login form takes them.
	User, Password string
	// TokenTTL is the expires_in of issued tokens.
	TokenTTL time.Duration

	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	codes    map[string]*authzGrant
	refresh  map[string]string // refresh token → subject
	events   []string
	tokenReq []tokenRequest
}

type authzGrant struct {
	redirectURI, challenge, nonce, scope string
	used                                 bool
}

// tokenRequest is what Envoy sent to the token endpoint.
type tokenRequest struct {
	GrantType   string
	BasicClient string // client ID from the Authorization header
	Host        string
}

// startOIDCProvider runs the provider on loopback until the test ends.
func startOIDCProvider(t testing.TB, host string) *oidcProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{
		Host: host, Cert: SelfSignedCert(t, host),
		ClientID: "egctl-app", Secret: "client secret with spaces & symbols",
		User: "alice", Password: "wonderland", TokenTTL: time.Hour,
		key: key, kid: "k1",
		codes: map[string]*authzGrant{}, refresh: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorizeForm)
	mux.HandleFunc("POST /authorize", p.authorizeLogin)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /logout", p.logout)

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.TLSPort, p.PlainPort = tl.Addr().(*net.TCPAddr).Port, pl.Addr().(*net.TCPAddr).Port
	tlsSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{p.Cert.Pair}, MinVersion: tls.VersionTLS12}}
	plainSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = tlsSrv.ServeTLS(tl, "", "") }()
	go func() { _ = plainSrv.Serve(pl) }()
	t.Cleanup(func() { tlsSrv.Close(); plainSrv.Close() })
	return p
}

// Issuer is the provider's issuer identifier.
func (p *oidcProvider) Issuer() string { return fmt.Sprintf("https://%s:%d", p.Host, p.TLSPort) }

func (p *oidcProvider) record(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, fmt.Sprintf(format, a...))
}

// Events returns what happened at the provider, in order.
func (p *oidcProvider) Events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.events...)
}

// TokenRequests returns the token endpoint requests that were accepted.
func (p *oidcProvider) TokenRequests() []tokenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]tokenRequest(nil), p.tokenReq...)
}

func (p *oidcProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := p.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"end_session_endpoint":                  iss + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

// authorizeForm checks the authorization request and shows the login
// form, which posts the request's parameters back with the credentials.
func (p *oidcProvider) authorizeForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := p.checkAuthzRequest(q); err != nil {
		p.record("authorize refused: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.record("authorize form scope=%q", q.Get("scope"))
	var hidden strings.Builder
	for k, vs := range q {
		for _, v := range vs {
			fmt.Fprintf(&hidden, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
		}
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, `<form method="post" action="/authorize">%s<input name="username"><input name="password" type="password"></form>`, hidden.String())
}

func (p *oidcProvider) checkAuthzRequest(q url.Values) error {
	switch {
	case q.Get("response_type") != "code":
		return fmt.Errorf("response_type %q", q.Get("response_type"))
	case q.Get("client_id") != p.ClientID:
		return fmt.Errorf("unknown client %q", q.Get("client_id"))
	case q.Get("redirect_uri") == "":
		return fmt.Errorf("no redirect_uri")
	case q.Get("state") == "":
		return fmt.Errorf("no state")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		return fmt.Errorf("PKCE S256 challenge missing")
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		return fmt.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	return nil
}

// authorizeLogin takes the login form and redirects back with a code.
func (p *oidcProvider) authorizeLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	if err := p.checkAuthzRequest(f); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.Get("username") != p.User || f.Get("password") != p.Password {
		p.record("login refused for %q", f.Get("username"))
		http.Error(w, "wrong user or password", http.StatusUnauthorized)
		return
	}
	code := randomToken()
	p.mu.Lock()
	p.codes[code] = &authzGrant{redirectURI: f.Get("redirect_uri"), challenge: f.Get("code_challenge"), nonce: f.Get("nonce"), scope: f.Get("scope")}
	p.mu.Unlock()
	p.record("login %s", f.Get("username"))
	u, err := url.Parse(f.Get("redirect_uri"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("state", f.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// token answers the authorization_code and refresh_token grants for a
// client authenticated with HTTP Basic (RFC 6749 2.3.1: both parts
// form-urlencoded before base64).
func (p *oidcProvider) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, e, desc string) {
		p.record("token refused: %s: %s", e, desc)
		writeJSON(w, code, map[string]string{"error": e, "error_description": desc})
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.Secret)) != 1 {
		fail(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	var sub, nonce string
	switch f.Get("grant_type") {
	case "authorization_code":
		p.mu.Lock()
		g := p.codes[f.Get("code")]
		if g != nil && !g.used {
			g.used = true
		} else {
			g = nil
		}
		p.mu.Unlock()
		if g == nil {
			fail(http.StatusBadRequest, "invalid_grant", "unknown or used code")
			return
		}
		if f.Get("redirect_uri") != g.redirectURI {
			fail(http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
			return
		}
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			fail(http.StatusBadRequest, "invalid_grant", "PKCE verifier does not match")
			return
		}
		sub, nonce = p.User, g.nonce
	case "refresh_token":
		p.mu.Lock()
		sub = p.refresh[f.Get("refresh_token")]
		p.mu.Unlock()
		if sub == "" {
			fail(http.StatusBadRequest, "invalid_grant", "unknown refresh token")
			return
		}
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", f.Get("grant_type"))
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.Issuer(), "sub": sub, "aud": p.ClientID, "iat": now.Unix(),
		"exp": now.Add(p.TokenTTL).Unix(), "email": sub + "@example.com"}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	idToken := p.sign(claims)
	access := p.sign(map[string]any{"iss": p.Issuer(), "sub": sub, "aud": "api", "iat": now.Unix(),
		"exp": now.Add(p.TokenTTL).Unix(), "scope": "openid", "jti": randomToken()})
	rt := randomToken()
	p.mu.Lock()
	p.refresh[rt] = sub
	p.tokenReq = append(p.tokenReq, tokenRequest{GrantType: f.Get("grant_type"), BasicClient: id, Host: r.Host})
	p.mu.Unlock()
	p.record("token %s for %s", f.Get("grant_type"), sub)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "id_token": idToken, "refresh_token": rt,
		"token_type": "Bearer", "expires_in": int(p.TokenTTL.Seconds()),
	})
}

func (p *oidcProvider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": p.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (p *oidcProvider) logout(w http.ResponseWriter, r *http.Request) {
	p.record("logout id_token_hint=%t", r.URL.Query().Get("id_token_hint") != "")
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "logged out")
}

// sign makes an RS256 JWT.
func (p *oidcProvider) sign(claims map[string]any) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": p.kid}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jwtClaims decodes a JWT's claims without checking it (the test checks
// what the backend received against what the provider issued).
func jwtClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return m
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
