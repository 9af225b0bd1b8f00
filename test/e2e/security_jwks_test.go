package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// signer is a test's token issuer: an ES256 key pair whose public half a
// JWKS server publishes and whose private half signs tokens.
type signer struct {
	kid string
	key *ecdsa.PrivateKey
}

func newSigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating a signing key: %v", err)
	}
	return &signer{kid: kid, key: k}
}

// jwks is the JSON Web Key Set publishing the signers' public keys.
func jwks(signers ...*signer) string {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	for _, s := range signers {
		x, y := make([]byte, 32), make([]byte, 32)
		s.key.X.FillBytes(x)
		s.key.Y.FillBytes(y)
		set.Keys = append(set.Keys, jwk{"EC", "P-256", "ES256", "sig", s.kid,
			base64.RawURLEncoding.EncodeToString(x), base64.RawURLEncoding.EncodeToString(y)})
	}
	b, _ := json.Marshal(set)
	return string(b)
}

// token signs claims (RFC 7519, ES256). Unless claims set them, the token
// is valid from a minute ago for ten minutes.
func (s *signer) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.kid})
	signing := head + "." + enc(c)
	sum := sha256.Sum256([]byte(signing))
	r, sg, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sg.FillBytes(sig[32:])
	_ = crypto.SHA256
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jwksServer serves a key set at /jwks.json on loopback, over TLS when
// cert is given, and counts the fetches.
type jwksServer struct {
	Port    int
	fetches atomic.Int64
}

func startJWKSServer(t testing.TB, set string, cert *Cert) *jwksServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &jwksServer{Port: l.Addr().(*net.TCPAddr).Port}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/jwks.json" {
				http.NotFound(w, r)
				return
			}
			s.fetches.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, set)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	if cert != nil {
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert.Pair}, NextProtos: []string{"http/1.1"}})
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// waitFetched waits until Envoy has fetched the key set at least once.
func (s *jwksServer) waitFetched(t testing.TB) {
	t.Helper()
	Eventually(t, 10*time.Second, func() error {
		if s.fetches.Load() == 0 {
			return fmt.Errorf("JWKS server on :%d not fetched yet", s.Port)
		}
		return nil
	})
}
