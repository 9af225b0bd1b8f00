package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", p)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseKeyPEM(t *testing.T, p []byte) crypto.Signer {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatalf("not PEM: %q", p)
	}
	k, err := parseKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verify checks leaf ← ca for the given usage and DNS name.
func verify(t *testing.T, ca []byte, leaf *x509.Certificate, usage x509.ExtKeyUsage, dns string) error {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("CA PEM not usable")
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: dns, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestControlPlaneChains(t *testing.T) {
	for _, kt := range []KeyType{KeyECDSA, KeyRSA} {
		t.Run(string(kt), func(t *testing.T) {
			cp, err := GenerateControlPlane(ControlPlaneOptions{
				Namespace:     "gw-sys",
				ExtraDNSNames: []string{"localhost", "xds.example.com"},
				Settings:      Settings{KeyType: kt, Validity: 48 * time.Hour},
			})
			if err != nil {
				t.Fatal(err)
			}
			ca := parseCert(t, cp.CA.CertPEM)
			if !ca.IsCA || ca.Subject.CommonName != "envoy-gateway" || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Errorf("CA: IsCA=%v CN=%q usage=%v", ca.IsCA, ca.Subject.CommonName, ca.KeyUsage)
			}

			eg := parseCert(t, cp.EnvoyGateway.CertPEM)
			for _, dns := range []string{"envoy-gateway", "envoy-gateway.gw-sys.svc", "envoy-gateway.gw-sys.svc.cluster.local", "localhost", "xds.example.com"} {
				if err := verify(t, cp.CA.CertPEM, eg, x509.ExtKeyUsageServerAuth, dns); err != nil {
					t.Errorf("envoy-gateway as server for %s: %v", dns, err)
				}
			}
			if err := verify(t, cp.CA.CertPEM, eg, x509.ExtKeyUsageClientAuth, ""); err == nil {
				t.Error("envoy-gateway certificate must not be usable for client auth")
			}
			if err := verify(t, cp.CA.CertPEM, eg, x509.ExtKeyUsageServerAuth, "evil.example.com"); err == nil {
				t.Error("envoy-gateway certificate verified for a name it does not carry")
			}

			envoy := parseCert(t, cp.Envoy.CertPEM)
			if err := verify(t, cp.CA.CertPEM, envoy, x509.ExtKeyUsageClientAuth, ""); err != nil {
				t.Errorf("envoy as client: %v", err)
			}
			if err := verify(t, cp.CA.CertPEM, envoy, x509.ExtKeyUsageServerAuth, ""); err == nil {
				t.Error("envoy client certificate must not be usable for server auth")
			}
			if !slices.Equal(envoy.DNSNames, []string{"*.gw-sys"}) {
				t.Errorf("envoy DNS names = %v", envoy.DNSNames)
			}

			rl := parseCert(t, cp.RateLimit.CertPEM)
			if err := verify(t, cp.CA.CertPEM, rl, x509.ExtKeyUsageServerAuth, "envoy-ratelimit.gw-sys.svc.cluster.local"); err != nil {
				t.Errorf("rate limit as server: %v", err)
			}
			if err := verify(t, cp.CA.CertPEM, rl, x509.ExtKeyUsageClientAuth, ""); err != nil {
				t.Errorf("rate limit as xDS client: %v", err)
			}

			for name, kp := range map[string]KeyPair{"envoy-gateway": cp.EnvoyGateway, "envoy": cp.Envoy, "rate-limit": cp.RateLimit} {
				c := parseCert(t, kp.CertPEM)
				// OpenSSL treats subject == issuer as self-signed and fails.
				if c.Subject.String() == c.Issuer.String() {
					t.Errorf("%s: subject %q equals issuer", name, c.Subject)
				}
				k := parseKeyPEM(t, kp.KeyPEM)
				switch kt {
				case KeyECDSA:
					pk, ok := k.(*ecdsa.PrivateKey)
					if !ok || pk.Curve.Params().Name != "P-256" {
						t.Errorf("%s: key %T, want ECDSA P-256", name, k)
					}
					if c.KeyUsage&x509.KeyUsageKeyEncipherment != 0 {
						t.Errorf("%s: ECDSA certificate has keyEncipherment", name)
					}
				case KeyRSA:
					pk, ok := k.(*rsa.PrivateKey)
					if !ok || pk.N.BitLen() != 2048 {
						t.Errorf("%s: key %T, want RSA 2048", name, k)
					}
				}
				if !publicKeysEqual(c.PublicKey, k.Public()) {
					t.Errorf("%s: key does not match certificate", name)
				}
				if got := c.NotAfter.Sub(c.NotBefore); got < 48*time.Hour || got > 50*time.Hour {
					t.Errorf("%s: lifetime %s, want 48h (+1h backdating)", name, got)
				}
			}
			if len(cp.OIDCHMACSecret) < 32 {
				t.Errorf("HMAC secret is %d bytes", len(cp.OIDCHMACSecret))
			}
		})
	}
}

func TestHMACSecretsDiffer(t *testing.T) {
	a, _ := NewHMACSecret(nil)
	b, _ := NewHMACSecret(nil)
	if string(a) == string(b) {
		t.Fatal("two HMAC secrets are equal: not random")
	}
}

func TestListenerWithGivenCA(t *testing.T) {
	ca, err := NewCA("my CA", Settings{KeyType: KeyRSA})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(ca.CertPEM, ca.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := GenerateListener(ListenerOptions{Hostnames: []string{"*.example.com", "example.com"}, CA: loaded})
	if err != nil {
		t.Fatal(err)
	}
	if lc.CAGenerated || lc.SecretName != "wildcard.example.com-tls" || lc.Namespace != "default" {
		t.Errorf("got generated=%v name=%q ns=%q", lc.CAGenerated, lc.SecretName, lc.Namespace)
	}
	leaf := parseCert(t, lc.Leaf.CertPEM)
	for _, h := range []string{"www.example.com", "example.com"} {
		if err := verify(t, ca.CertPEM, leaf, x509.ExtKeyUsageServerAuth, h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := verify(t, ca.CertPEM, leaf, x509.ExtKeyUsageServerAuth, "a.b.example.com"); err == nil {
		t.Error("wildcard matched two labels")
	}
	for _, f := range lc.Files() {
		if f.Path == "ca.key" {
			t.Error("a given CA's key must not be written again")
		}
	}
}

func TestLoadCARejects(t *testing.T) {
	a, _ := NewCA("a", Settings{})
	b, _ := NewCA("b", Settings{})
	if _, err := LoadCA(a.CertPEM, b.KeyPEM); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: err = %v", err)
	}
	lc, _ := GenerateListener(ListenerOptions{Hostnames: []string{"x.example"}, CA: a})
	if _, err := LoadCA(lc.Leaf.CertPEM, lc.Leaf.KeyPEM); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("leaf as CA: err = %v", err)
	}
	if _, err := LoadCA([]byte("junk"), a.KeyPEM); err == nil {
		t.Error("junk accepted as CA certificate")
	}
}

func TestValidateDNSName(t *testing.T) {
	for _, ok := range []string{"a", "foo.example.com", "*.example.com", "x-1.y"} {
		if err := ValidateDNSName(ok, true); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "*", "a.*.b", "Foo.com", "-a.com", "a..b", "a_b.com", "*.", "127.0.0.1:80"} {
		if err := ValidateDNSName(bad, true); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateDNSName("*.a.com", false); err == nil {
		t.Error("wildcard accepted where not allowed")
	}
}

func TestWriteFilesModesAndOverwrite(t *testing.T) {
	cp, err := GenerateControlPlane(ControlPlaneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	written, err := WriteFiles(dir, cp.Files(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 10 {
		t.Errorf("wrote %d files, want 10", len(written))
	}
	want := map[string]os.FileMode{
		"envoy-gateway/tls.key":       0o600,
		"envoy-gateway/tls.crt":       0o644,
		"envoy/ca.crt":                0o644,
		"envoy/tls.key":               0o600,
		"envoy-rate-limit/tls.key":    0o600,
		"envoy-oidc-hmac/hmac-secret": 0o600,
	}
	for p, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}

	// A second run refuses, names the file, and changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, "envoy/tls.key"))
	cp2, _ := GenerateControlPlane(ControlPlaneOptions{})
	_, err = WriteFiles(dir, cp2.Files(), false)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), filepath.Join(dir, "envoy-gateway", "ca.crt")) {
		t.Fatalf("err = %v, want refusal naming envoy-gateway/ca.crt", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "envoy/tls.key"))
	if string(before) != string(after) {
		t.Fatal("refused run still changed a file")
	}

	// --overwrite replaces, and a key made world-readable meanwhile goes back to 0600.
	os.Chmod(filepath.Join(dir, "envoy/tls.key"), 0o644)
	if _, err := WriteFiles(dir, cp2.Files(), true); err != nil {
		t.Fatal(err)
	}
	after, _ = os.ReadFile(filepath.Join(dir, "envoy/tls.key"))
	if string(after) != string(cp2.Envoy.KeyPEM) {
		t.Error("overwrite did not replace the key")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "envoy/tls.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("overwritten key mode %v", fi.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestLeafNeverOutlivesCA(t *testing.T) {
	ca, _ := NewCA("short", Settings{Validity: time.Hour})
	kp, err := ca.Issue(LeafRequest{CommonName: "x", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, Settings{Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if leaf := parseCert(t, kp.CertPEM); leaf.NotAfter.After(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %v after CA %v", leaf.NotAfter, ca.Cert.NotAfter)
	}
}
