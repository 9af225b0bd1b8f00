package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeDoc(t *testing.T, dir, name string, doc map[string]string) string {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOIDCDiscoveryFiles(t *testing.T) {
	if r, err := (&OIDCDiscovery{}).Resolver(); r != nil || err != nil {
		t.Fatalf("no flags: resolver %v err %v, want none (policies are refused with a hint)", r != nil, err)
	}
	dir := t.TempDir()
	a := writeDoc(t, dir, "a.json", map[string]string{"issuer": "https://a.example.com/", "authorization_endpoint": "https://a.example.com/auth",
		"token_endpoint": "https://a.example.com/token", "end_session_endpoint": "https://a.example.com/logout"})
	r, err := (&OIDCDiscovery{Files: []string{a}}).Resolver()
	if err != nil {
		t.Fatal(err)
	}
	c, err := r("https://a.example.com") // the trailing slash does not matter
	if err != nil || c.TokenEndpoint != "https://a.example.com/token" || c.EndSessionEndpoint != "https://a.example.com/logout" {
		t.Fatalf("got %+v, %v", c, err)
	}
	if _, err := r("https://b.example.com"); err == nil || !strings.Contains(err.Error(), "--oidc-discovery-fetch") {
		t.Fatalf("unknown issuer without fetch: %v", err)
	}

	bad := writeDoc(t, dir, "bad.json", map[string]string{"issuer": "https://c.example.com"})
	if _, err := (&OIDCDiscovery{Files: []string{bad}}).Resolver(); err == nil || !strings.Contains(err.Error(), "authorization_endpoint, token_endpoint") {
		t.Fatalf("document without endpoints: %v", err)
	}
	other := writeDoc(t, dir, "other.json", map[string]string{"issuer": "https://a.example.com", "authorization_endpoint": "https://a.example.com/other",
		"token_endpoint": "https://a.example.com/token"})
	if _, err := (&OIDCDiscovery{Files: []string{a, other}}).Resolver(); err == nil || !strings.Contains(err.Error(), "differently") {
		t.Fatalf("two documents for one issuer: %v", err)
	}
	if _, err := (&OIDCDiscovery{Files: []string{filepath.Join(dir, "none.json")}}).Resolver(); err == nil {
		t.Fatal("a missing file is accepted")
	}
}

func TestOIDCDiscoveryFetch(t *testing.T) {
	var srv *httptest.Server
	hits := 0
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path != "/realm/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL + "/realm", "authorization_endpoint": srv.URL + "/realm/auth",
			"token_endpoint": srv.URL + "/realm/token"})
	}))
	defer srv.Close()

	// The test server is on loopback, which the real dialer refuses.
	r, err := (&OIDCDiscovery{Fetch: true}).Resolver()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r(srv.URL + "/realm"); err == nil || !strings.Contains(err.Error(), "does not fetch from") {
		t.Fatalf("fetch from loopback: %v", err)
	}
	if hits != 0 {
		t.Fatal("the guarded fetch reached the loopback server")
	}

	r, err = (&OIDCDiscovery{Fetch: true, client: srv.Client()}).Resolver()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := r(srv.URL + "/realm")
		if err != nil || c.AuthorizationEndpoint != srv.URL+"/realm/auth" {
			t.Fatalf("got %+v, %v", c, err)
		}
	}
	if hits != 1 {
		t.Fatalf("%d fetches for one issuer, want 1 (cached)", hits)
	}
	if _, err := r(srv.URL + "/nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing document: %v", err)
	}
	if _, err := r("http://plain.example.com"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http issuer: %v", err)
	}
}

func TestBlockedDiscoveryAddr(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "169.254.169.254": true, "0.0.0.0": true, "224.0.0.1": true,
		"::ffff:127.0.0.1": true, "10.0.0.1": false, "93.184.216.34": false, "2001:db8::1": false,
	} {
		if got := blockedDiscoveryAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("%s: blocked %v, want %v", a, got, want)
		}
	}
}
